import assert from "node:assert/strict";
import { parseFraming } from "../framing/mod.ts";
import { HandlerRunner, OrderedReplies } from "./handle.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** An `OrderedReplies` whose writes are recorded as text, one entry per write. */
function recorded() {
  const writes: string[] = [];
  const counts: number[] = [];
  const replies = new OrderedReplies({
    write: (wire) => {
      writes.push(td.decode(wire));
      return Promise.resolve();
    },
    written: (n) => counts.push(n),
  });
  return { replies, writes, counts };
}

Deno.test("OrderedReplies: handlers finishing out of order, replies written in request order", async () => {
  const { replies, writes, counts } = recorded();
  const settle = [replies.add(), replies.add(), replies.add(), replies.add()];
  const running = replies.run(new AbortController().signal);
  // The last two finish first: nothing may be written before the first is.
  settle[3]({ wire: te.encode("d") });
  settle[2]({ wire: te.encode("c") });
  await Promise.resolve();
  assert.deepEqual(writes, []);
  settle[1]({ wire: te.encode("b") });
  settle[0]({ wire: te.encode("a") });
  replies.end();
  assert.equal(await running, undefined);
  // Settled together, written together: one write for the four.
  assert.deepEqual(writes, ["abcd"]);
  assert.deepEqual(counts, [4]);
  assert.equal(replies.length, 0);
});

Deno.test("OrderedReplies: a fatal outcome stops the line; the replies before it are written", async () => {
  const { replies, writes } = recorded();
  const [first, bad, after] = [replies.add(), replies.add(), replies.add()];
  const running = replies.run(new AbortController().signal);
  after({ wire: te.encode("never") });
  bad({ fatal: "handler reply is not exactly one MessagePack value; closing" });
  first({ wire: te.encode("first") });
  assert.equal(await running, "handler reply is not exactly one MessagePack value; closing");
  assert.deepEqual(writes, ["first"]);
});

Deno.test("OrderedReplies: skipped places are passed over, and an abort ends the run", async () => {
  const writes: string[] = [];
  const wrote = Promise.withResolvers<void>();
  const replies = new OrderedReplies({
    write: (wire) => Promise.resolve(void writes.push(td.decode(wire))),
    written: () => wrote.resolve(),
  });
  const stop = new AbortController();
  const [skipped, second] = [replies.add(), replies.add()];
  const running = replies.run(stop.signal);
  skipped({ skipped: true });
  second({ wire: te.encode("2") });
  await wrote.promise;
  assert.deepEqual(writes, ["2"]);
  replies.add(); // never settled
  stop.abort();
  replies.wake();
  assert.equal(await running, undefined);
});

Deno.test("OrderedReplies: a failed write rejects the run", async () => {
  const replies = new OrderedReplies({ write: () => Promise.reject(new Deno.errors.BrokenPipe("gone")) });
  replies.add()({ wire: te.encode("x") });
  await assert.rejects(replies.run(new AbortController().signal), Deno.errors.BrokenPipe);
});

Deno.test("HandlerRunner: the handler's stdout, framed by the framing's reply rule", async () => {
  const lines: string[] = [];
  const run = async (framing: string, argv: string[], input: string) => {
    const runner = new HandlerRunner({
      argv,
      framing: parseFraming(framing),
      maxFrame: 64,
      jobs: 2,
      log: (_level, line) => lines.push(line),
    });
    try {
      return await runner.run(te.encode(input), {}, 1, new AbortController().signal);
    } finally {
      runner.close();
    }
  };
  const tr = ["/usr/bin/tr", "a-z", "A-Z"];
  // lines: a newline is added when the handler wrote none; netstring frames the whole output.
  assert.deepEqual(await run("lines", tr, "hi"), { wire: te.encode("HI\n") });
  assert.deepEqual(await run("lines", tr, "hi\n"), { wire: te.encode("HI\n") });
  assert.deepEqual(await run("netstring", tr, "hi\n"), { wire: te.encode("3:HI\n,") });
  assert.deepEqual(await run("netstring", tr, "x".repeat(65)), {
    fatal: "handler reply is larger than --max-frame (64 bytes); not sent, closing",
  });
  assert.deepEqual(await run("msgpack", ["/bin/echo", "-n", "ab"], ""), {
    fatal: "handler reply is not exactly one MessagePack value; closing",
  });
  assert.deepEqual(lines, []);
});
