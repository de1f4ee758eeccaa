import assert from "node:assert/strict";
import { type InspectEvent } from "./log_format.ts";
import { LogQueue } from "./log_queue.ts";

const te = new TextEncoder();
const td = new TextDecoder();
const data = (i: number): InspectEvent => ({
  kind: "data",
  t: 0,
  conn: 1,
  dir: "c2s",
  size: 1,
  bytes: te.encode(`${i}`),
});
const format = (e: InspectEvent) =>
  e.kind === "data"
    ? `data ${td.decode(e.bytes)}\nmore\n`
    : e.kind === "skipped"
    ? `skipped ${e.count}\n`
    : `${e.kind}\n`;

Deno.test("LogQueue writes every event whole and in order", async () => {
  let out = "";
  const queue = new LogQueue({
    write(p) {
      out += td.decode(p);
      return Promise.resolve(p.length);
    },
  }, format);
  for (let i = 0; i < 100; i++) queue.push(data(i));
  await queue.close();
  assert.equal(out, Array.from({ length: 100 }, (_, i) => `data ${i}\nmore\n`).join(""));
});

Deno.test("LogQueue never waits for a stuck writer: drops data events and says how many", async () => {
  let out = "";
  const release = Promise.withResolvers<void>();
  const queue = new LogQueue(
    {
      async write(p) {
        await release.promise;
        out += td.decode(p);
        return p.length;
      },
    },
    format,
    { maxEvents: 10, delay: 0 },
  );
  for (let i = 0; i < 10; i++) queue.push(data(i));
  // Wait for the writer to take the first batch and hang in write().
  await new Promise((resolve) => setTimeout(resolve, 1));
  for (let i = 10; i <= 30; i++) queue.push(data(i));
  queue.push({ kind: "close", t: 0, conn: 1, text: "" });
  assert.equal(queue.skipped, 11);
  release.resolve();
  await queue.close();
  assert.match(out, /^data 0\n(.|\n)*data 19\nmore\nskipped 11\nclose\n$/);
});

Deno.test("LogQueue stops quietly when its reader is gone", async () => {
  let writes = 0;
  const queue = new LogQueue({
    write: () => {
      writes++;
      return Promise.reject(new Deno.errors.BrokenPipe());
    },
  }, format);
  queue.push(data(1));
  // Quietly: close() resolves instead of rethrowing the broken pipe.
  await queue.close();
  assert.equal(writes, 1);
  // Stopped: nothing more is written to a reader that left.
  queue.push(data(2));
  await queue.close();
  assert.equal(writes, 1);
});

Deno.test("LogQueue: events queued during a write wait for the next delay, not for the write", async () => {
  const writes: string[] = [];
  const started = Promise.withResolvers<void>();
  const finish = Promise.withResolvers<void>();
  const queue = new LogQueue(
    {
      async write(p) {
        writes.push(td.decode(p));
        started.resolve();
        await finish.promise;
        return p.length;
      },
    },
    format,
    // Long enough that the ticks below never outlast it, even on a loaded machine.
    { delay: 1000 },
  );
  queue.push(data(1));
  await started.promise;
  queue.push(data(2));
  finish.resolve();
  // The first write has ended; the second event still shares the next batch's delay.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(writes, ["data 1\nmore\n"]);
  await queue.close();
  assert.deepEqual(writes, ["data 1\nmore\n", "data 2\nmore\n"]);
});
