/* Load driver for `make bench`, in C so the client is not what is measured: CLIENTS
 * connections to a line echo server on a Unix socket, each doing TRIPS sequential round
 * trips, all at once over epoll. Prints "SECONDS FAILURES".
 * Usage: echo_load PATH CLIENTS TRIPS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct client { int fd, trip, got, len; char msg[64], buf[64]; };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int send_next(struct client *c, int id) {
  c->len = snprintf(c->msg, sizeof c->msg, "client %d trip %d\n", id, c->trip);
  c->got = 0;
  return write(c->fd, c->msg, c->len) == c->len ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int n = atoi(argv[2]), trips = atoi(argv[3]), failures = 0, done = 0;
  struct client *cs = calloc(n, sizeof *cs);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    cs[i].fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(cs[i].fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); return 1; }
  }
  double start = now();
  for (int i = 0; i < n; i++) {
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    if (send_next(&cs[i], i) < 0) { failures++; done++; close(cs[i].fd); }
  }
  struct epoll_event evs[256];
  while (done < n) {
    int k = epoll_wait(ep, evs, 256, 10000);
    if (k <= 0) { fprintf(stderr, "stalled\n"); failures += n - done; break; }
    for (int e = 0; e < k; e++) {
      int i = evs[e].data.u32;
      struct client *c = &cs[i];
      ssize_t r = read(c->fd, c->buf + c->got, sizeof c->buf - c->got);
      if (r <= 0) { failures++; done++; close(c->fd); continue; }
      c->got += r;
      if (c->got < c->len) continue;
      if (c->got != c->len || memcmp(c->buf, c->msg, c->len) != 0) { failures++; done++; close(c->fd); continue; }
      if (++c->trip == trips) { done++; close(c->fd); continue; }
      if (send_next(c, i) < 0) { failures++; done++; close(c->fd); }
    }
  }
  printf("%.3f %d\n", now() - start, failures);
  return 0;
}
