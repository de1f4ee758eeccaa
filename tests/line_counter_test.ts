/**
 * `send`'s line pass-through (`LineCounter`, `linesAsWire`) against the message path it
 * replaces: the same bytes on the wire and on stdout, the same counts, the same errors, for
 * any lines cut into any chunks. The plain decoding without limits is also in the
 * differential fuzzer (`tests/fuzz`).
 * @module
 */
import fc from "fast-check";
import { assert, chop } from "./_helpers.ts";
import { countNewlines, LineCounter, LinesDecoder } from "../lib/framing/lines.ts";
import { linesAsWire, stdinMessages } from "../lib/send/stdin_messages.ts";
import { messageCodec } from "../lib/encoding.ts";
import { parseFraming } from "../lib/framing/mod.ts";
import { FrameError } from "../lib/errors.ts";
import { concatBytes } from "../lib/bytes.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** Lines of a few letters (`\n`-terminated or not at the end), cut at the given points. */
const stream = fc.record({
  text: fc.array(fc.stringMatching(/^[ab\r]{0,12}$/), { maxLength: 30 }).chain((lines) =>
    fc.boolean().map((terminated) => lines.join("\n") + (terminated && lines.length ? "\n" : ""))
  ),
  cuts: fc.array(fc.nat(400), { maxLength: 12 }),
});

/** What the decoder path shows: the first `limit` lines, each with `\n`, or its error. */
function decoded(chunks: Uint8Array[], maxLine: number, limit: number) {
  const decoder = new LinesDecoder(maxLine);
  const lines: Uint8Array[] = [];
  let error: string | null = null;
  try {
    for (const chunk of chunks) decoder.push(chunk, lines);
    decoder.end(lines);
  } catch (caught) {
    error = (caught as FrameError).message;
  }
  const shown = lines.slice(0, limit);
  if (shown.length === limit) error = null;
  return { text: shown.map((l) => td.decode(l) + "\n").join(""), count: shown.length, error };
}

function counted(chunks: Uint8Array[], maxLine: number, limit: number) {
  const counter = new LineCounter({ maxLine });
  let text = "";
  let error: string | null = null;
  try {
    for (const chunk of chunks) {
      const out: Uint8Array[] = [];
      try {
        counter.push(chunk, out, limit);
      } finally {
        text += out.map((b) => td.decode(b)).join("");
      }
      if (counter.count >= limit) break;
    }
    const out: Uint8Array[] = [];
    counter.end(out, limit);
    text += out.map((b) => td.decode(b)).join("");
  } catch (caught) {
    error = (caught as FrameError).message;
  }
  return { text, count: counter.count, error };
}

Deno.test("line pass-through: replies cut at --replies N and --max-frame as the decoder does", () => {
  fc.assert(
    fc.property(
      stream,
      fc.integer({ min: 0, max: 14 }),
      fc.integer({ min: 0, max: 40 }),
      (s, maxLine, limit) => {
        const chunks = chop(te.encode(s.text), s.cuts);
        assert.deepEqual(counted(chunks, maxLine, limit), decoded(chunks, maxLine, limit));
        assert.deepEqual(counted(chunks, 1 << 20, limit), decoded(chunks, 1 << 20, limit));
        assert.deepEqual(counted(chunks, 1 << 20, Infinity), decoded(chunks, 1 << 20, Infinity));
      },
    ),
    { numRuns: 2000 },
  );
});

async function* from(chunks: Uint8Array[]) {
  yield* chunks;
}
const source = (chunks: Uint8Array[]) => {
  const it = from(chunks);
  return {
    async read(buffer: Uint8Array) {
      const next = await it.next();
      if (next.done) return null;
      buffer.set(next.value);
      return next.value.length;
    },
  };
};

Deno.test("line pass-through: stdin reaches the wire as the message path frames it, errors alike", async () => {
  const framing = parseFraming("lines");
  const codec = await messageCodec("text", framing);
  await fc.assert(
    fc.asyncProperty(stream, fc.integer({ min: 0, max: 8 }), async (s, maxFrame) => {
      const chunks = chop(te.encode(s.text), s.cuts).filter((c) => c.length > 0);
      // The message path: stdinMessages, then exchange's --max-frame check and encode.
      let wantWire = "";
      let wantCount = 0;
      let wantError: string | null = null;
      try {
        for await (const batch of stdinMessages(source(chunks), codec, "lines", "text", maxFrame)) {
          const over = batch.findIndex((m) => m.length > maxFrame);
          const fits = over < 0 ? batch : batch.slice(0, over);
          if (fits.length) wantWire += td.decode(framing.encode(fits));
          wantCount += fits.length;
          if (over >= 0) {
            throw new FrameError(
              `Message ${wantCount + 1} is ${batch[over].length} bytes, over --max-frame ${maxFrame}`,
            );
          }
        }
      } catch (caught) {
        wantError = (caught as FrameError).reason;
      }
      let gotWire = "";
      let gotCount = 0;
      let gotError: string | null = null;
      try {
        for await (const framed of linesAsWire(source(chunks), maxFrame)) {
          gotWire += td.decode(framed.wire);
          gotCount += framed.messages;
          assert.equal(countNewlines(framed.wire), framed.messages);
        }
      } catch (caught) {
        gotError = (caught as FrameError).reason;
      }
      assert.deepEqual({ gotWire, gotCount, gotError }, {
        gotWire: wantWire,
        gotCount: wantCount,
        gotError: wantError,
      });
    }),
    { numRuns: 1000 },
  );
});

Deno.test("countNewlines: any alignment, any length", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(7), (bytes, shift) => {
      const padded = concatBytes([new Uint8Array(shift), bytes], shift + bytes.length).subarray(shift);
      assert.equal(countNewlines(padded), bytes.filter((b) => b === 0x0a).length);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("linesAsWire: one write per read, a held line and the lines after it together", async () => {
  // Each read's lines are one write, as the message path frames a batch: a delivery error's
  // "at least M bytes" counts them all (it counted only the held line once).
  const chunks = ["a\nXY", "ZW\nc\nd", "\n"].map((text) => te.encode(text));
  const writes: [string, number][] = [];
  for await (const framed of linesAsWire(source(chunks), 100)) {
    writes.push([td.decode(framed.wire), framed.messages]);
  }
  assert.deepEqual(writes, [["a\n", 1], ["XYZW\nc\n", 2], ["d\n", 1]]);
});
