import assert from "node:assert/strict";
import { FrameError } from "./errors.ts";
import { parseFraming } from "./framing/mod.ts";
import { readMessages } from "./messages.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** A connection whose reads return `chunks` one by one (cut to the buffer), then EOF. */
function reads(...chunks: string[]): { read(buffer: Uint8Array): Promise<number | null>; calls: number } {
  const pending = chunks.map((chunk) => te.encode(chunk));
  return {
    calls: 0,
    read(buffer: Uint8Array): Promise<number | null> {
      this.calls++;
      const next = pending.shift();
      if (next === undefined) return Promise.resolve(null);
      const n = Math.min(next.length, buffer.length);
      buffer.set(next.subarray(0, n));
      if (n < next.length) pending.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
  };
}

const lines = () => parseFraming("lines").decoder(1 << 20);
const text = (batches: Uint8Array[][]) => batches.map((batch) => batch.map((m) => td.decode(m)));

Deno.test("readMessages hands over one batch per read, the last line at EOF, and returns true", async () => {
  const batches: Uint8Array[][] = [];
  const eof = await readMessages(reads("a\nb\nc", "d\n", "tail"), lines(), (batch) => batches.push(batch));
  assert.equal(eof, true);
  assert.deepEqual(text(batches), [["a", "b"], ["cd"], ["tail"]]);
});

Deno.test("readMessages waits for each batch before reading again", async () => {
  const conn = reads("1\n", "2\n");
  const seen: number[] = [];
  await readMessages(conn, lines(), async () => {
    seen.push(conn.calls);
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(conn.calls);
  });
  // No read happened while a batch was being handled.
  assert.deepEqual(seen, [1, 1, 2, 2]);
});

Deno.test("readMessages' messages stay valid after later reads", async () => {
  const kept: Uint8Array[] = [];
  // Many reads, so buffers are carved and replaced: earlier messages must not be overwritten.
  const chunks = Array.from({ length: 200 }, (_, i) => `message ${i}\n`);
  await readMessages(reads(...chunks), lines(), (batch) => kept.push(...batch));
  assert.deepEqual(kept.map((m) => td.decode(m)), chunks.map((c) => c.slice(0, -1)));
});

Deno.test("readMessages delivers the good messages of a read before throwing its FrameError", async () => {
  const batches: Uint8Array[][] = [];
  const length = parseFraming("length").decoder(16);
  // Two good frames, then a header announcing 1 MiB, over the 16-byte limit.
  const good = new Uint8Array([0, 0, 0, 2, 104, 105, 0, 0, 0, 1, 33]);
  const bad = new Uint8Array([0, 16, 0, 0]);
  const chunk = new Uint8Array([...good, ...bad]);
  const conn = {
    sent: false,
    read(buffer: Uint8Array): Promise<number | null> {
      if (this.sent) return Promise.resolve(null);
      this.sent = true;
      buffer.set(chunk);
      return Promise.resolve(chunk.length);
    },
  };
  await assert.rejects(readMessages(conn, length, (batch) => batches.push(batch)), FrameError);
  assert.deepEqual(text(batches), [["hi", "!"]]);
});

Deno.test("readMessages stops before the next read once its signal aborts, returning false", async () => {
  const stop = new AbortController();
  const conn = reads("1\n", "2\n", "3\n");
  const batches: Uint8Array[][] = [];
  const eof = await readMessages(conn, lines(), (batch) => {
    batches.push(batch);
    stop.abort();
  }, { signal: stop.signal });
  assert.equal(eof, false);
  assert.deepEqual(text(batches), [["1"]]);
  assert.equal(conn.calls, 1);
});

Deno.test("readMessages reports busy while a batch is handled, idle while reading", async () => {
  const states: string[] = [];
  await readMessages(reads("x\n"), lines(), () => {
    states.push("batch");
  }, { onBusy: (busy) => states.push(busy ? "busy" : "idle") });
  assert.deepEqual(states, ["busy", "batch", "idle", "busy", "idle"]);
});
