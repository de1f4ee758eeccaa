import assert from "node:assert/strict";
import { parseFraming } from "./mod.ts";
import { FrameDecoderStream, FrameEncoderStream } from "./streams.ts";

const te = new TextEncoder();

Deno.test("stream faces: encode batches, then decode them from arbitrary chunks", async () => {
  const framing = parseFraming("netstring");
  const wire = ReadableStream.from([[te.encode("hello"), te.encode("")], [te.encode("world")]])
    .pipeThrough(new FrameEncoderStream(framing));
  const bytes = new Uint8Array(await new Response(wire).arrayBuffer());
  assert.equal(new TextDecoder().decode(bytes), "5:hello,0:,5:world,");
  // One byte per chunk: every message still comes out whole.
  const chunks = ReadableStream.from([...bytes].map((b) => new Uint8Array([b])));
  const messages = (await Array.fromAsync(chunks.pipeThrough(new FrameDecoderStream(framing)))).flat();
  assert.deepEqual(messages.map((m) => new TextDecoder().decode(m)), ["hello", "", "world"]);
});

Deno.test("stream faces: a truncated frame errors the stream with a FrameError", async () => {
  const framing = parseFraming("length");
  const chunks = ReadableStream.from([new Uint8Array([0, 0, 0, 9, 1, 2])]);
  await assert.rejects(Array.fromAsync(chunks.pipeThrough(new FrameDecoderStream(framing))), /Truncated/);
});
