import assert from "node:assert/strict";
import { InterruptedError } from "../errors.ts";
import { LineEditor, PlainLines } from "./line_editor.ts";

const te = new TextEncoder();

/** Keys arriving in the given reads. */
function keys(...reads: string[]) {
  const queue = reads.map((r) => te.encode(r));
  return {
    read(buffer: Uint8Array): Promise<number | null> {
      const next = queue.shift();
      if (!next) return Promise.resolve(null);
      buffer.set(next);
      return Promise.resolve(next.length);
    },
  };
}

function editor(...reads: string[]) {
  let screen = "";
  const raw: boolean[] = [];
  const ed = new LineEditor(keys(...reads), (t) => screen += t, { prompt: "> ", setRaw: (r) => raw.push(r) });
  return { ed, screen: () => screen, raw };
}

Deno.test("LineEditor: typing, backspace, cursor movement, a split escape sequence", async () => {
  const { ed, raw } = editor("abX\x7fc", "\x1b", "[DZ\r");
  assert.equal(await ed.next(), "abZc");
  ed.close();
  assert.deepEqual(raw, [true, false]);
});

Deno.test("LineEditor: up and down walk the session's history", async () => {
  const { ed } = editor("one\r", "two\r", "\x1b[A\x1b[A\r", "\x1b[A\x1b[B\x1b[Bdraft\r");
  assert.equal(await ed.next(), "one");
  assert.equal(await ed.next(), "two");
  assert.equal(await ed.next(), "one");
  assert.equal(await ed.next(), "draft");
});

Deno.test("LineEditor: UTF-8 and Ctrl-U, Ctrl-D at an empty line is end of input", async () => {
  const { ed } = editor("héllo wörld", "\x15ünï\r", "\x04");
  assert.equal(await ed.next(), "ünï");
  assert.equal(await ed.next(), null);
});

Deno.test("LineEditor: Ctrl-C interrupts", async () => {
  const { ed } = editor("abc\x03");
  await assert.rejects(ed.next(), InterruptedError);
});

Deno.test("LineEditor: output while typing is printed above the redrawn line", async () => {
  let release: (() => void) | undefined;
  let screen = "";
  const chunks = [te.encode("part")];
  const ed = new LineEditor(
    {
      async read(buffer) {
        const next = chunks.shift();
        if (next) {
          buffer.set(next);
          return next.length;
        }
        await new Promise<void>((resolve) => release = resolve);
        buffer.set(te.encode("\r"));
        return 1;
      },
    },
    (t) => screen += t,
    { prompt: "> ", setRaw: () => {} },
  );
  const line = ed.next();
  while (!release) await new Promise((resolve) => setTimeout(resolve, 0));
  screen = "";
  ed.print("< 4B tock\n");
  assert.equal(screen, "\r\x1b[K< 4B tock\n\r\x1b[K> part");
  release();
  assert.equal(await line, "part");
});

Deno.test("PlainLines: lines without their newline or CR, the last one without newline too", async () => {
  const lines = new PlainLines(keys("a\r\nb", "c\nlast"), () => {});
  assert.deepEqual([await lines.next(), await lines.next(), await lines.next(), await lines.next()], [
    "a",
    "bc",
    "last",
    null,
  ]);
});
