import assert from "node:assert/strict";
import fc from "fast-check";
import { escapeText, isPrintable, parseEscapes } from "./escapes.ts";

const te = new TextEncoder();

Deno.test("parseEscapes reads the documented escapes", () => {
  assert.deepEqual(
    parseEscapes("a\\tb\\nc\\\\d\\x00\\xFF\\r\\0"),
    Uint8Array.from([
      0x61,
      0x09,
      0x62,
      0x0a,
      0x63,
      0x5c,
      0x64,
      0x00,
      0xff,
      0x0d,
      0x00,
    ]),
  );
  assert.deepEqual(parseEscapes("héllo"), te.encode("héllo"));
});

Deno.test("parseEscapes rejects bad escapes with the column", () => {
  assert.throws(() => parseEscapes("ab\\q"), /"\\q" at column 3/);
  assert.throws(() => parseEscapes("\\x4"), /two hex digits/);
  assert.throws(() => parseEscapes("end\\"), /lone/);
});

Deno.test("isPrintable: UTF-8 text yes, control bytes and invalid UTF-8 no", () => {
  assert.equal(isPrintable(te.encode("hello wörld\t\r\n")), true);
  assert.equal(isPrintable(Uint8Array.from([0x68, 0x00])), false);
  assert.equal(isPrintable(Uint8Array.from([0xff, 0xfe])), false);
  assert.equal(isPrintable(Uint8Array.from([0x1b, 0x5b])), false);
  assert.equal(isPrintable(new Uint8Array(0)), true);
});

Deno.test("escapeText shows control and invalid bytes as escapes", () => {
  assert.equal(escapeText(te.encode("a\\b\n")), "a\\\\b\\n");
  assert.equal(escapeText(Uint8Array.from([0x68, 0x00, 0xff, 0xc3, 0xa9])), "h\\x00\\xffé");
});

Deno.test("escapeText: printable ASCII, short or long, shows as is except the backslash", () => {
  const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
  assert.equal(escapeText(te.encode(ascii.replace("\\", ""))), ascii.replace("\\", ""));
  assert.equal(escapeText(te.encode(ascii)), ascii.replace("\\", "\\\\"));
  const long = "ping 0123456789 ".repeat(1000);
  assert.equal(escapeText(te.encode(long)), long);
  assert.equal(escapeText(te.encode(long + "\t")), long + "\\t");
});

Deno.test("escapeText then parseEscapes gives back the bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    assert.deepEqual(parseEscapes(escapeText(bytes)), bytes);
  }));
  fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 32 }), (text) => {
    const bytes = te.encode(text);
    assert.deepEqual(parseEscapes(escapeText(bytes)), bytes);
  }));
});
