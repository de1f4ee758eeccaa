/* Reference for `make bench`: the C floor of a Unix-socket echo server, one thread over
 * epoll, echoing whatever each client sends (for line clients that is an echo of each
 * line). What ipcat serve --echo is compared with: no runtime, no framing, no allocation.
 * Usage: echo_server PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  unlink(argv[1]);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 4096)) {
    perror("echo_server");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = listener }, events[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  static char buf[65536];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int c;
        while ((c = accept(listener, NULL, NULL)) >= 0) {
          struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      ssize_t got = read(fd, buf, sizeof buf);
      /* Blocking writes: a reply of one read's size fits the socket buffer of a line client. */
      if (got <= 0 || write(fd, buf, got) != got) close(fd);
    }
  }
}
