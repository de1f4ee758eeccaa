import assert from "node:assert/strict";
import { connect, listen, parseAddress } from "./mod.ts";
import { toStreams } from "./streams.ts";

Deno.test("toStreams: bytes both ways over a real socket; closing the writable half-closes", async () => {
  const dir = await Deno.makeTempDir();
  const listener = await listen(parseAddress(`unix:${dir}/s.sock`));
  try {
    const accepted = listener.accept();
    const client = toStreams(await connect(parseAddress(`unix:${dir}/s.sock`)));
    const server = toStreams(await accepted);
    // The server echoes until the client's EOF, then ends its side: the client reads all
    // of it and then its own EOF, which only a half-close lets happen.
    const echo = server.readable.pipeTo(server.writable);
    const payload = new Uint8Array(300_000).map((_, i) => i % 251);
    const writer = client.writable.getWriter();
    const sent = (async () => {
      await writer.write(payload.subarray(0, 1));
      await writer.write(payload.subarray(1));
      await writer.close();
    })();
    const received = new Uint8Array(await new Response(client.readable).arrayBuffer());
    await sent;
    await echo;
    assert.equal(received.length, payload.length);
    assert.deepEqual(received, payload);
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("toStreams: cancelling the readable closes the connection", async () => {
  const dir = await Deno.makeTempDir();
  const listener = await listen(parseAddress(`unix:${dir}/s.sock`));
  try {
    const accepted = listener.accept();
    const client = toStreams(await connect(parseAddress(`unix:${dir}/s.sock`)));
    const server = await accepted;
    await client.readable.cancel();
    // The peer sees EOF: nothing else would close the client's socket.
    assert.equal(await server.read(new Uint8Array(16)), null);
    server.close();
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
