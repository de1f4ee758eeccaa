/**
 * `hexdump -C` layout: offset, 16 bytes in hex in two groups of 8, then the printable
 * ASCII between bars; identical lines squeezed into `*`; the total length last.
 *
 * @example
 * ```ts
 * import { hexdump } from "./hexdump.ts";
 *
 * hexdump(new TextEncoder().encode("hi\n"));
 * // ["00000000  68 69 0a                                          |hi.|", "00000003"]
 * ```
 * @module
 */

const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");
const SPACE = 0x20;
const BAR = 0x7c;
const NL = 0x0a;
const STAR = 0x2a;
const DOT = 0x2e;
/** Longest line: indent + "00000000  " + 16 × "xx " + " " + " |" + 16 + "|\n". */
const LINE = 10 + 48 + 1 + 2 + 16 + 2;
const latin1 = new TextDecoder("latin1");

function sameLine(bytes: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < 16; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Options for {@linkcode hexdumpBytes}. */
export interface HexdumpOptions {
  /** Spaces before every line. @default {0} */
  indent?: number;
}

/** Two hex digits per byte value, as one 16-bit little-endian pair of ASCII codes. */
const PAIRS = new Uint16Array(256).map((_, b) => HEX_DIGITS[b >> 4] | (HEX_DIGITS[b & 15] << 8));

function putOffset(out: Uint8Array, o: number, value: number): number {
  for (let shift = 28; shift >= 0; shift -= 4) out[o++] = HEX_DIGITS[(value >>> shift) & 15];
  return o;
}

/**
 * What `hexdump -C` prints for `bytes` (nothing for an empty input) as ASCII bytes, every
 * line ending in `\n`. Built byte by byte: the log hexdumps whole reads, so this is a hot path.
 */
export function hexdumpBytes(bytes: Uint8Array, options: HexdumpOptions = {}): Uint8Array {
  if (bytes.length === 0) return new Uint8Array(0);
  const indent = options.indent ?? 0;
  const out = new Uint8Array((Math.ceil(bytes.length / 16) + 1) * (LINE + indent));
  // Every line starts as a blank template: indent, offset, spaces; only bytes are filled in.
  let o = 0;
  let squeezing = false;
  for (let at = 0; at < bytes.length; at += 16) {
    const n = Math.min(16, bytes.length - at);
    if (n === 16 && at >= 16 && sameLine(bytes, at, at - 16)) {
      if (!squeezing) {
        out.fill(SPACE, o, o + indent);
        o += indent;
        out[o++] = STAR;
        out[o++] = NL;
      }
      squeezing = true;
      continue;
    }
    squeezing = false;
    out.fill(SPACE, o, o + indent);
    o = putOffset(out, o + indent, at);
    const hexStart = o + 2;
    out.fill(SPACE, o, o + 2 + 49 + 1);
    for (let i = 0; i < n; i++) {
      const pair = PAIRS[bytes[at + i]];
      const p = hexStart + i * 3 + (i >= 8 ? 1 : 0);
      out[p] = pair & 0xff;
      out[p + 1] = pair >> 8;
    }
    o += 2 + 49 + 1;
    out[o++] = BAR;
    for (let i = 0; i < n; i++) {
      const b = bytes[at + i];
      out[o++] = b >= 0x20 && b < 0x7f ? b : DOT;
    }
    out[o++] = BAR;
    out[o++] = NL;
  }
  out.fill(SPACE, o, o + indent);
  o = putOffset(out, o + indent, bytes.length);
  out[o++] = NL;
  return out.subarray(0, o);
}

/** The lines `hexdump -C` prints for `bytes` (none for an empty input). */
export function hexdump(bytes: Uint8Array): string[] {
  const text = latin1.decode(hexdumpBytes(bytes));
  return text === "" ? [] : text.slice(0, -1).split("\n");
}
