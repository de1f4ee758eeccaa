/**
 * The differential fuzzer's short run (`make fuzz` runs it for longer), and proof that it
 * catches a decoder that disagrees with the reference.
 * @module
 */
import { assert, figure, scaled } from "../_helpers.ts";
import { FRAMINGS, parseFraming } from "../../lib/framing/mod.ts";
import type { Framing } from "../../lib/framing/mod.ts";
import { compare, describe, fuzz, FUZZED } from "./differential.ts";

Deno.test("differential fuzzer: every decoder and inspect's cutter agree with the references", () => {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const { tried, failures } = fuzz({ seconds: scaled(3, 60), seed });
  figure("decoders.fuzz.inputs_tried", tried);
  assert.ok(tried > 1000, `only ${tried} inputs tried`);
  assert.equal(failures.length, 0, `seed ${seed}:\n${failures.slice(0, 5).map(describe).join("\n")}`);
});

Deno.test("differential fuzzer: non-canonical varints and every error offset, pinned", () => {
  const varint = parseFraming("length:varint");
  const bytes = (...b: number[]) => Uint8Array.from(b);
  // 82 80 00 is 2 in three bytes; then "hi", then 01 "A".
  const wire = bytes(0x82, 0x80, 0x00, 0x68, 0x69, 0x01, 0x41);
  assert.equal(compare(varint, "length:varint", [wire], 100), null);
  assert.equal(compare(varint, "length:varint", [...wire].map((b) => bytes(b)), 100), null);
  const netstring = parseFraming("netstring");
  assert.equal(compare(netstring, "netstring", [new TextEncoder().encode("2:hi;")], 100), null);
});

Deno.test("differential fuzzer: a decoder that drops empty messages is caught", () => {
  const real = parseFraming("netstring");
  const broken: Framing = {
    ...real,
    decoder(maxFrame) {
      const decoder = real.decoder(maxFrame);
      return {
        push(chunk, out) {
          const all: Uint8Array[] = [];
          decoder.push(chunk, all);
          out.push(...all.filter((m) => m.length > 0));
        },
        end: (out) => decoder.end(out),
        recordWireLengths: () => decoder.recordWireLengths(),
      };
    },
  };
  const { failures } = fuzz({ cases: 3000, seed: 7, framings: { netstring: broken } });
  assert.ok(failures.length > 0, "the planted bug went unnoticed");
  assert.match(
    describe(failures[0]),
    /^FAIL seed=\d+ -f netstring .*\n {2}input .*\n {2}replay: .*--seed \d+ --cases 1$/,
  );
});

Deno.test("differential fuzzer: every registered framing with boundaries has a reference decoder", () => {
  // A framing added to the registry must come with a reference here, or it goes unfuzzed.
  const registered = FRAMINGS.flatMap((family) => family.syntax).map((name) => parseFraming(name).name);
  const framed = [...new Set(registered)].filter((name) => parseFraming(name).framed);
  assert.deepEqual(framed.sort(), [...FUZZED].sort());
});
