"""Dribbles unfinished messages into a server, one byte per send, over many connections.

Usage: dribble.py HOST PORT CONNECTIONS BYTES_EACH HEADER_HEX
Each connection first sends HEADER_HEX whole, then BYTES_EACH bytes of "x" one send at a
time, round-robin across the connections: half of them, then prints "half" and waits for a
line on stdin, then the rest; prints "sent" and waits for stdin to close. The RSS measured
between the two halves leaves out the server's warm-up (heap sizing, first slabs).
"""
import socket
import sys

host, port, conns, each, header = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), bytes.fromhex(sys.argv[5])
socks = []
for _ in range(conns):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if header:
        s.sendall(header)
    socks.append(s)
for half in ("half", "sent"):
    for _ in range(each // 2):
        for s in socks:
            s.send(b"x")
    print(half, flush=True)
    if half == "half":
        sys.stdin.readline()
sys.stdin.read()
for s in socks:
    s.close()
