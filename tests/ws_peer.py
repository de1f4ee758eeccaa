"""A WebSocket peer nobody here wrote: Python's `websockets` (Debian's python3-websockets).

  ws_peer.py server      echo server on 127.0.0.1, port 0; prints "port N". Messages that are
                         commands: "fragment" (answers "frag"+"mented" as one fragmented text
                         message), "close4000" (closes with 4000 "bye"), "vanish" (drops TCP);
                         a text or binary message starting "kind:" is answered in text with the
                         opcode it came in ("kind:1 came as bytes").
  ws_peer.py kinds URL   sends binary b"kind:1", text "kind:2", binary b"kind:3"; prints each reply.
  ws_peer.py client URL  sends text "héllo" then bytes 00 ff; prints each reply's type and repr.
  ws_peer.py big URL N   sends one binary message of N bytes; prints the close code.
  ws_peer.py close URL   sends text "héllo" and bytes 00 ff, prints each reply, closes with 4000 "done".
  ws_peer.py protocol URL NAME   offers subprotocol NAME; prints "protocol" and the one accepted.
  ws_peer.py wss URL CA  sends "secure" over TLS trusting CA (PEM); prints the reply.
  ws_peer.py silent URL  stops reading (so answers no ping) until a line on stdin; prints the close.
"""
import asyncio
import ssl
import sys

import websockets


async def echo(ws, path=None):
    async for message in ws:
        if (message.startswith(b"kind:") if isinstance(message, bytes) else message.startswith("kind:")):
            text = message.decode() if isinstance(message, bytes) else message
            await ws.send(f"{text} came as {type(message).__name__}")
        elif message == "fragment":
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


async def kinds(url):
    async with websockets.connect(url) as ws:
        for message in [b"kind:1", "kind:2", b"kind:3"]:
            await ws.send(message)
            print(await ws.recv(), flush=True)


async def big(url, n):
    async with websockets.connect(url) as ws:
        await ws.send(b"x" * n)
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            print("closed", closed.code, flush=True)


async def close(url):
    async with websockets.connect(url) as ws:
        for message in ["héllo", b"\x00\xff"]:
            await ws.send(message)
            print(type(reply := await ws.recv()).__name__, repr(reply), flush=True)
        await ws.close(4000, "done")
        print("closed", ws.close_code, ws.close_reason, flush=True)


async def protocol(url, name):
    async with websockets.connect(url, subprotocols=[name]) as ws:
        await ws.send("x")
        await ws.recv()
        print("protocol", ws.subprotocol, flush=True)


async def silent(url):
    async with websockets.connect(url, ping_interval=None) as ws:
        ws.transport.pause_reading()
        print("silent", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        ws.transport.resume_reading()
        try:
            await ws.recv()
        except websockets.ConnectionClosed as closed:
            print("closed", closed.code, flush=True)


async def secure(url, ca):
    async with websockets.connect(url, ssl=ssl.create_default_context(cafile=ca)) as ws:
        await ws.send("secure")
        print(await ws.recv(), flush=True)


if sys.argv[1] == "wss":
    asyncio.run(secure(sys.argv[2], sys.argv[3]))
elif sys.argv[1] == "close":
    asyncio.run(close(sys.argv[2]))
elif sys.argv[1] == "protocol":
    asyncio.run(protocol(sys.argv[2], sys.argv[3]))
elif sys.argv[1] == "silent":
    asyncio.run(silent(sys.argv[2]))
elif sys.argv[1] == "server":
    asyncio.run(server())
elif sys.argv[1] == "kinds":
    asyncio.run(kinds(sys.argv[2]))
elif sys.argv[1] == "client":
    asyncio.run(client(sys.argv[2]))
else:
    asyncio.run(big(sys.argv[2], int(sys.argv[3])))
