import assert from "node:assert/strict";
import { messageCodec } from "../encoding.ts";
import { FrameError } from "../errors.ts";
import { parseFraming } from "../framing/mod.ts";
import { EncodedLinesDecoder, reframe } from "./reframe.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** An in-memory source that yields `chunks`, and a sink that records writes and half-close. */
function fakes(chunks: Uint8Array[]) {
  const written: Uint8Array[] = [];
  let halfClosed = false;
  const from = {
    read(buffer: Uint8Array): Promise<number | null> {
      const chunk = chunks.shift();
      if (!chunk) return Promise.resolve(null);
      buffer.set(chunk);
      return Promise.resolve(chunk.length);
    },
  };
  const to = {
    // Partial writes: at most 3 bytes at a time, to exercise the write loop.
    write(data: Uint8Array): Promise<number> {
      const n = Math.min(3, data.length);
      written.push(data.slice(0, n));
      return Promise.resolve(n);
    },
    closeWrite(): Promise<void> {
      halfClosed = true;
      return Promise.resolve();
    },
  };
  const output = () => {
    const out = new Uint8Array(written.reduce((n, w) => n + w.length, 0));
    let at = 0;
    for (const w of written) (out.set(w, at), at += w.length);
    return out;
  };
  return { from, to, output, halfClosed: () => halfClosed };
}

Deno.test("reframe: lines in, length-prefixed frames out, then half-close", async () => {
  const { from, to, output, halfClosed } = fakes([te.encode("ab\nc"), te.encode("d\ne")]);
  const totals = await reframe(from, to, parseFraming("lines").decoder(100), parseFraming("length:u8"));
  assert.deepEqual([...output()], [2, 97, 98, 2, 99, 100, 1, 101]);
  assert.deepEqual(totals, { bytes: 8, messages: 3 });
  assert.ok(halfClosed());
});

Deno.test("reframe: a malformed frame is thrown after the frames before it are written", async () => {
  const { from, to, output, halfClosed } = fakes([te.encode("2:ok,1:a,x:,")]);
  await assert.rejects(
    reframe(from, to, parseFraming("netstring").decoder(100), parseFraming("lines")),
    (error) => error instanceof FrameError && error.offset === 9,
  );
  assert.equal(td.decode(output()), "ok\na\n");
  assert.ok(!halfClosed());
});

Deno.test("reframe: a message lines cannot carry is an error after the ones before it", async () => {
  const input = new Uint8Array([1, 65, 2, 66, 10, 1, 67]);
  const { from, to, output } = fakes([input]);
  await assert.rejects(
    reframe(from, to, parseFraming("length:u8").decoder(100), parseFraming("lines")),
    FrameError,
  );
  assert.equal(td.decode(output()), "A\n");
});

Deno.test("EncodedLinesDecoder: hex lines, split anywhere; a bad line comes after the good ones", async () => {
  const decoder = new EncodedLinesDecoder(await messageCodec("hex", parseFraming("lines")), 16);
  const push = (chunk: Uint8Array, out: Uint8Array[] = []) => (decoder.push(chunk, out), out);
  assert.deepEqual(push(te.encode("00ff\n4")), [new Uint8Array([0, 255])]);
  assert.deepEqual(push(te.encode("1 42\n")), [new Uint8Array([0x41, 0x42])]);
  const out: Uint8Array[] = [];
  try {
    push(te.encode("43\nzz\n44\n"), out);
    assert.fail("expected a FrameError");
  } catch (error) {
    assert.ok(error instanceof FrameError);
    assert.equal(error.offset, 14);
    assert.deepEqual(out, [new Uint8Array([0x43])]);
    assert.match(error.message, /"zz"/);
  }
});

Deno.test("EncodedLinesDecoder: an oversize line still delivers the lines before it", async () => {
  const decoder = new EncodedLinesDecoder(await messageCodec("base64", parseFraming("lines")), 2);
  const out: Uint8Array[] = [];
  try {
    decoder.push(te.encode("aGk=\nAAAAAAAAAAAA\n"), out);
    assert.fail("expected a FrameError");
  } catch (error) {
    assert.ok(error instanceof FrameError);
    assert.deepEqual(out, [te.encode("hi")]);
  }
});
