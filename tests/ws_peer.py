"""A WebSocket peer nobody here wrote: Python's `websockets` (Debian's python3-websockets).

  ws_peer.py server      echo server on 127.0.0.1, port 0; prints "port N". Messages that are
                         commands: "fragment" (answers "frag"+"mented" as one fragmented text
                         message), "close4000" (closes with 4000 "bye"), "vanish" (drops TCP).
  ws_peer.py client URL  sends text "héllo" then bytes 00 ff; prints each reply's type and repr.
  ws_peer.py big URL N   sends one binary message of N bytes; prints the close code.
"""
import asyncio
import sys

import websockets


async def echo(ws, path=None):
    async for message in ws:
        if message == "fragment":
            await ws.send(["frag", "mented"])
        elif message == "close4000":
            await ws.close(4000, "bye")
        elif message == "vanish":
            ws.transport.abort()
        else:
            await ws.send(message)


async def server():
    async with websockets.serve(echo, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        print(f"port {port}", flush=True)
        await asyncio.Future()


async def client(url):
    async with websockets.connect(url) as ws:
        for message in ["héllo", b"\x00\xff"]:
            await ws.send(message)
            reply = await ws.recv()
            print(type(reply).__name__, repr(reply), flush=True)


async def big(url, n):
    async with websockets.connect(url) as ws:
        await ws.send(b"x" * n)
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            print("closed", closed.code, flush=True)


if sys.argv[1] == "server":
    asyncio.run(server())
elif sys.argv[1] == "client":
    asyncio.run(client(sys.argv[2]))
else:
    asyncio.run(big(sys.argv[2], int(sys.argv[3])))
