import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameError, UsageError } from "../errors.ts";
import { DEFAULT_MAX_FRAME, FRAMINGS, parseFraming } from "./mod.ts";
import { chop } from "../../tests/_helpers.ts";

const te = new TextEncoder();

const ALL = FRAMINGS.flatMap((f) => f.syntax).filter((n) => n !== "raw");

function decodeAll(name: string, chunks: Uint8Array[], maxFrame = DEFAULT_MAX_FRAME) {
  const decoder = parseFraming(name).decoder(maxFrame);
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    const batch: Uint8Array[] = [];
    decoder.push(c, batch);
    for (const m of batch) out.push(m.slice());
  }
  decoder.end(out);
  return out;
}

/** msgpack messages must each be one value: use msgpack-encoded binary strings. */
function asMessages(name: string, payloads: Uint8Array[]): Uint8Array[] {
  if (name === "msgpack") {
    return payloads.map((p) => {
      const out = new Uint8Array(5 + p.length);
      out[0] = 0xc6;
      new DataView(out.buffer).setUint32(1, p.length);
      out.set(p, 5);
      return out;
    });
  }
  if (name === "lines") return payloads.map((p) => p.map((b) => (b === 10 ? 32 : b)));
  if (name === "length:u8") return payloads.map((p) => p.subarray(0, 255));
  return payloads;
}

for (const name of ALL) {
  Deno.test(`${name}: round trip under any chunking`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(4000), { maxLength: 12 }),
        (payloads, cuts) => {
          const messages = asMessages(name, payloads);
          const wire = parseFraming(name).encode(messages);
          const decoded = decodeAll(name, chop(wire, cuts));
          // Under lines a trailing empty message is indistinguishable, so compare as text.
          assert.deepEqual(decoded, messages);
        },
      ),
      { numRuns: 200 },
    );
  });
}

Deno.test("lines: leftover bytes at EOF are a last message", () => {
  assert.deepEqual(decodeAll("lines", [te.encode("a\nb")]), [te.encode("a"), te.encode("b")]);
});

Deno.test("lines: a newline in any message is a FrameError, with or without `written` (it looped forever)", () => {
  const lines = parseFraming("lines");
  const messages = [te.encode("a"), te.encode("b\nc")];
  assert.throws(() => lines.encode(messages), FrameError);
  const written: Uint8Array[] = [];
  assert.throws(() => lines.encode(messages, written), FrameError);
  assert.deepEqual(written, [te.encode("a\n")]);
});

Deno.test("lines: over --max-frame is a FrameError with an offset", () => {
  assert.throws(
    () => decodeAll("lines", [te.encode("ok\n"), te.encode("x".repeat(20))], 10),
    (e) => e instanceof FrameError && e.offset === 3,
  );
});

for (const name of ["length", "length:u16le", "length:varint", "netstring", "msgpack"]) {
  Deno.test(`${name}: truncated input at EOF is a FrameError`, () => {
    const wire = parseFraming(name).encode(asMessages(name, [te.encode("hello world")]));
    for (let cut = 1; cut < wire.length; cut++) {
      assert.throws(() => decodeAll(name, [wire.subarray(0, cut)]), FrameError);
    }
  });
  Deno.test(`${name}: frame over --max-frame is a FrameError`, () => {
    const wire = parseFraming(name).encode(asMessages(name, [new Uint8Array(100)]));
    assert.throws(() => decodeAll(name, [wire], 50), FrameError);
    assert.equal(decodeAll(name, [wire], 200).length, 1);
  });
}

Deno.test("length: 4-byte big-endian prefix on the wire", () => {
  assert.deepEqual(parseFraming("length").encode([te.encode("hi")]), new Uint8Array([0, 0, 0, 2, 104, 105]));
  assert.deepEqual(parseFraming("length:u16le").encode([te.encode("hi")]), new Uint8Array([2, 0, 104, 105]));
  assert.deepEqual(
    parseFraming("length:varint").encode([new Uint8Array(300)]).subarray(0, 2),
    new Uint8Array([0xac, 0x02]),
  );
});

Deno.test("netstring: wire format and malformed input", () => {
  assert.deepEqual(
    parseFraming("netstring").encode([te.encode("hello"), new Uint8Array()]),
    te.encode("5:hello,0:,"),
  );
  for (const bad of ["5:hello!", "x:", ":abc,", "05:hello,", "99999999999999999999:"]) {
    assert.throws(() => decodeAll("netstring", [te.encode(bad)]), FrameError, bad);
  }
});

Deno.test("msgpack: nested values are one message each; 0xc1 is malformed", () => {
  // [1, {"a": "xyz"}], nil, 300
  const wire = new Uint8Array([0x92, 0x01, 0x81, 0xa1, 0x61, 0xa3, 0x78, 0x79, 0x7a, 0xc0, 0xcd, 0x01, 0x2c]);
  for (let i = 1; i < wire.length; i++) {
    const got = decodeAll("msgpack", [wire.subarray(0, i), wire.subarray(i)]);
    assert.deepEqual(got.map((m) => m.length), [9, 1, 3]);
  }
  assert.throws(() => decodeAll("msgpack", [new Uint8Array([0xc1])]), FrameError);
});

Deno.test("unknown framing is a UsageError naming the choices", () => {
  assert.throws(() => parseFraming("lenght"), (e) => e instanceof UsageError && /length/.test(e.hint ?? ""));
  assert.throws(() => parseFraming("length:u24"), UsageError);
});

Deno.test("msgpack: boundaries match a real encoder for any values, ext and timestamps included", async () => {
  const { encode, ExtData } = await import("@msgpack/msgpack");
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.jsonValue({ maxDepth: 2 }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      fc.uint8Array({ maxLength: 300 }),
      fc.date({ noInvalidDate: true }),
      fc.tuple(fc.integer({ min: 0, max: 127 }), fc.uint8Array({ maxLength: 70000 }))
        .map(([type, data]) => new ExtData(type, data)),
      fc.array(tie("v"), { maxLength: 3 }),
    ),
  })).v;
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(100000), { maxLength: 8 }),
      (values, cuts) => {
        const messages = values.map((v) => encode(v, { useBigInt64: true }));
        const wire = parseFraming("msgpack").encode(messages);
        assert.deepEqual(decodeAll("msgpack", chop(wire, cuts)), messages);
      },
    ),
    { numRuns: 150 },
  );
});

for (const name of ALL) {
  Deno.test(`${name}: push appends the messages before bad bytes, then throws; the reason has no offset`, () => {
    const framing = parseFraming(name);
    const good = framing.encode(asMessages(name, [te.encode("one"), te.encode("two")]));
    // A frame over --max-frame right after two good ones, in the same chunk.
    const bad = framing.encode(asMessages(name, [new Uint8Array(100)]));
    const chunk = new Uint8Array([...good, ...bad]);
    const out: Uint8Array[] = [];
    assert.throws(
      () => framing.decoder(50).push(chunk, out),
      (e) => e instanceof FrameError && e.offset === good.length && !e.reason.includes("at byte"),
    );
    assert.deepEqual(out, asMessages(name, [te.encode("one"), te.encode("two")]));
  });
}

for (const family of FRAMINGS) {
  const framing = family.create(undefined);
  Deno.test(`${framing.name}: a handler's stdout over --max-frame is no reply; within, one framed message`, () => {
    assert.equal(framing.reply(new Uint8Array(11), 10), null);
    const one = asMessages(framing.name, [te.encode("hi")])[0];
    assert.deepEqual(framing.reply(one, 10), framing.encode([one]));
  });
}

Deno.test("lines: a handler's own final newline ends its reply; several lines stay several", () => {
  const lines = parseFraming("lines");
  assert.deepEqual(lines.reply(te.encode("a\nb\n"), 3), te.encode("a\nb\n"));
  assert.equal(lines.reply(te.encode("abcd"), 3), null);
});

Deno.test("msgpack: a reply or a message given whole must be exactly one value", () => {
  const msgpack = parseFraming("msgpack");
  assert.throws(
    () => msgpack.reply(new Uint8Array([1, 2]), 10),
    (e) => e instanceof FrameError && e.reason === "not exactly one MessagePack value",
  );
  assert.throws(() => msgpack.check(new Uint8Array([1, 2])), /2 MessagePack values, not one/);
  msgpack.check(new Uint8Array([0x92, 1, 2]));
});

Deno.test("encode: the messages before one the framing cannot carry come first, framed one by one", () => {
  for (
    const [name, bad] of [["lines", te.encode("a\nb")], ["length:u8", new Uint8Array(256)]] as const
  ) {
    const framing = parseFraming(name);
    const written: Uint8Array[] = [];
    assert.throws(
      () => framing.encode([te.encode("x"), te.encode("yz"), bad, te.encode("w")], written),
      FrameError,
    );
    assert.deepEqual(written, [framing.encode([te.encode("x")]), framing.encode([te.encode("yz")])]);
  }
});
