import assert from "node:assert/strict";
import { Recorder } from "./recorder.ts";

const te = new TextEncoder();

Deno.test("Recorder appends one JSON object per line, never truncating", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ipcat-rec-" });
  try {
    const path = `${dir}/trace.jsonl`;
    await Deno.writeTextFile(path, '{"earlier":true}\n');
    const recorder = await Recorder.open(path);
    recorder.meta({ framing: "lines", target: "unix:/tmp/é.sock" }, 999);
    recorder.opened(1, 1000);
    const buffer = te.encode("hello");
    recorder.data(1, "c2s", buffer, 1001);
    buffer.fill(0); // the recorder must have read it already
    recorder.data(1, "s2c", Uint8Array.from([0, 255]), 1002);
    recorder.closed(1, 1003);
    await recorder.close();
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { earlier: true },
      { t: 999, event: "meta", version: 1, framing: "lines", target: "unix:/tmp/é.sock" },
      { t: 1000, conn: 1, event: "open" },
      { t: 1001, conn: 1, event: "data", dir: "c2s", data: "aGVsbG8=" },
      { t: 1002, conn: 1, event: "data", dir: "s2c", data: "AP8=" },
      { t: 1003, conn: 1, event: "close" },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Recorder says when it is backlogged and when it has drained", async () => {
  const release = Promise.withResolvers<void>();
  let written = 0;
  const recorder = new Recorder({
    async write(p) {
      await release.promise;
      written += p.length;
      return p.length;
    },
  }, { highWater: 1000 });
  recorder.opened(1);
  for (let i = 0; i < 20; i++) recorder.data(1, "c2s", new Uint8Array(100));
  assert.equal(recorder.backlogged, true);
  const drained = recorder.drained();
  release.resolve();
  await drained;
  assert.equal(recorder.backlogged, false);
  await recorder.close();
  assert.ok(written > 20 * 100);
});
