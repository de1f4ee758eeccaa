import assert from "node:assert/strict";
import fc from "fast-check";
import { parseFraming } from "../framing/mod.ts";
import { MessageCutter } from "./message_cutter.ts";

const te = new TextEncoder();
const FRAMINGS = [
  "lines",
  "length",
  "length:u8",
  "length:u16le",
  "length:u64be",
  "length:varint",
  "netstring",
];

function cutAll(name: string, wire: Uint8Array, splits: number[]) {
  const cutter = new MessageCutter(parseFraming(name), 1 << 20);
  const cuts = [];
  let at = 0;
  for (const s of [...splits.map((s) => s % (wire.length + 1)).sort((a, b) => a - b), wire.length]) {
    // The caller reuses its buffer: hand the cutter a copy it must not keep.
    const chunk = wire.slice(at, Math.max(at, s));
    for (const cut of cutter.push(chunk)) cuts.push({ message: cut.message.slice(), wire: cut.wire.slice() });
    chunk.fill(0xee);
    at = Math.max(at, s);
  }
  for (const cut of cutter.end()) cuts.push(cut);
  return { cuts, error: cutter.takeError() };
}

for (const name of FRAMINGS) {
  Deno.test(`MessageCutter ${name}: messages whole, wire bytes add up, any chunking`, () => {
    const framing = parseFraming(name);
    const message = name === "lines"
      ? fc.string({ maxLength: 300 }).map((s) => te.encode(s.replaceAll("\n", " ")))
      : fc.uint8Array({ maxLength: 300 });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (ms, splits) => {
        const wire = framing.encode(ms);
        const { cuts, error } = cutAll(name, wire, splits);
        assert.equal(error, null);
        assert.deepEqual(cuts.map((c) => c.message), ms);
        for (const [i, c] of cuts.entries()) assert.deepEqual(c.wire, framing.encode([ms[i]]));
      }),
    );
  });
}

Deno.test("MessageCutter: a last line without newline is a message with its bytes", () => {
  const { cuts } = cutAll("lines", te.encode("a\nbc"), [1, 3]);
  assert.deepEqual(cuts.map((c) => new TextDecoder().decode(c.wire)), ["a\n", "bc"]);
});

Deno.test("MessageCutter: malformed framing falls back to raw chunks, nothing lost", () => {
  const wire = te.encode("5:hello,xx:oops,more");
  const { cuts, error } = cutAll("netstring", wire, [3, 12]);
  assert.ok(error);
  const total = cuts.flatMap((c) => [...c.wire]);
  assert.deepEqual(Uint8Array.from(total), wire);
});

Deno.test("MessageCutter: truncated frame at EOF keeps its bytes", () => {
  const wire = Uint8Array.from([0, 0, 0, 9, 1, 2]);
  const { cuts, error } = cutAll("length", wire, [5]);
  assert.ok(error);
  assert.deepEqual(Uint8Array.from(cuts.flatMap((c) => [...c.wire])), wire);
});

Deno.test("MessageCutter: a non-canonical varint header is cut where the decoder cut it", () => {
  // 82 80 00 is 2 in three bytes: no phantom event, every byte in the message it carried.
  const wire = Uint8Array.from([0x82, 0x80, 0x00, 0x68, 0x69, 0x01, 0x41]);
  for (const splits of [[], [1], [2, 4], [1, 2, 3, 4, 5, 6]]) {
    const { cuts, error } = cutAll("length:varint", wire, splits);
    assert.equal(error, null);
    assert.deepEqual(cuts.map((c) => new TextDecoder().decode(c.message)), ["hi", "A"]);
    assert.deepEqual(cuts.map((c) => [...c.wire]), [[0x82, 0x80, 0x00, 0x68, 0x69], [0x01, 0x41]]);
  }
});

Deno.test("MessageCutter: messages before bad bytes in the same read keep their own cuts", () => {
  const { cuts, error } = cutAll("netstring", te.encode("2:hi,1:A,x:"), []);
  assert.equal(error?.offset, 9);
  assert.deepEqual(cuts.map((c) => new TextDecoder().decode(c.wire)), ["2:hi,", "1:A,", "x:"]);
});
