"""Hostile peers for tests/fault_delivery_test.ts: one Unix-socket server per mode, one connection.

usage: delivery_peer.py MODE PATH [N]
Prints "listening" once it listens, then what it saw, each on its own line on stdout.

modes:
  close-after N    read N bytes, then close with the rest unread (the kernel resets)
  greet-shut       send "hello\\n", shutdown(SHUT_WR), read to EOF; print "got BYTES"
  first-then-eof   lines in; answer "re LINE" to the first at once, to each later one only
                   if 0.3 s pass without EOF; at EOF close (an RPC server ending at EOF)
"""
import select
import socket
import sys

mode, path = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()

if mode == "close-after":
    want, total = int(sys.argv[3]), 0
    while total < want and (chunk := conn.recv(min(65536, want - total))):
        total += len(chunk)
    print("read %d" % total, flush=True)
elif mode == "greet-shut":
    conn.sendall(b"hello\n")
    conn.shutdown(socket.SHUT_WR)
    total = 0
    while chunk := conn.recv(1 << 20):
        total += len(chunk)
    print("got %d" % total, flush=True)
elif mode == "first-then-eof":
    buf, answered, eof = b"", 0, False
    while not eof:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if answered > 0 and select.select([conn], [], [], 0.3)[0] and not conn.recv(1, socket.MSG_PEEK):
                eof = True
                break
            conn.sendall(b"re " + line + b"\n")
            answered += 1
        if not eof:
            chunk = conn.recv(65536)
            eof = not chunk
            buf += chunk
    print("answered %d" % answered, flush=True)
conn.close()
