"""Real peers for tests/pipe_test.ts: one Unix-socket server per mode, one connection.

usage: pipe_peer.py MODE PATH
Prints "listening" once it accepts, "connected" on accept, "eof" when the client
half-closes, and the reason it stops, each on its own line on stdout.

modes:
  reply-after-eof  read to EOF, then send "got N bytes\\n" and close
  bye-first        send "bye\\n" and close without reading
  hold             read to EOF, print "eof", close when a line arrives on stdin
  length-reverse   length-prefixed (u32be) frames in; each payload reversed, framed, out
  lines-upper      lines in; each line upper-cased out
  bad-netstring    send "2:ok," then a malformed netstring, then wait for EOF
"""
import os
import socket
import struct
import sys

mode, path = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()
print("connected", flush=True)


def read_exact(n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


if mode == "reply-after-eof":
    total = 0
    while chunk := conn.recv(65536):
        total += len(chunk)
    conn.sendall(b"got %d bytes\n" % total)
elif mode == "bye-first":
    conn.sendall(b"bye\n")
elif mode == "hold":
    while conn.recv(65536):
        pass
    print("eof", flush=True)
    sys.stdin.readline()
elif mode == "length-reverse":
    while (head := read_exact(4)) is not None:
        (size,) = struct.unpack(">I", head)
        payload = read_exact(size) or b""
        conn.sendall(struct.pack(">I", size) + payload[::-1])
    print("eof", flush=True)
elif mode == "lines-upper":
    for line in conn.makefile("rb"):
        conn.sendall(line.upper())
    print("eof", flush=True)
elif mode == "bad-netstring":
    conn.sendall(b"2:ok,5:hello;")
    while conn.recv(65536):
        pass
conn.close()
os.unlink(path)
print("closed", flush=True)
