/**
 * `netstring`: djb's `LEN:BYTES,`.
 *
 * @module
 */
import { FrameError } from "../errors.ts";
import { type FrameHeader, PrefixedDecoder } from "./_prefixed.ts";
import type { Framing, FramingFamily } from "./types.ts";

const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const MAX_DIGITS = 16;

/**
 * Decodes djb netstrings: `LEN:BYTES,` with LEN in decimal, no leading zeros.
 *
 * @example
 * ```ts
 * import { NetstringDecoder } from "./netstring.ts";
 *
 * const out: Uint8Array[] = [];
 * new NetstringDecoder(1024).push(new TextEncoder().encode("5:hello,"), out); // out: ["hello"]
 * ```
 */
export class NetstringDecoder extends PrefixedDecoder {
  /** Up to 16 digits and the colon. */
  protected readonly maxHeaderLength: number = MAX_DIGITS + 1;
  /** The `,` after the data. */
  protected override readonly trailerLength = 1;

  /** The `LEN:` at `at`, or null until its colon is here; anything else is a `FrameError`. */
  protected parseHeader(buf: Uint8Array, at: number, offset: number): FrameHeader | null {
    let size = 0;
    for (let i = at; i < buf.length && i - at <= MAX_DIGITS; i++) {
      const byte = buf[i];
      if (byte === COLON) {
        if (i === at) throw new FrameError("Malformed netstring: no length before ':'", offset);
        if (buf[at] === ZERO && i - at > 1) {
          throw new FrameError("Malformed netstring: leading zero in length", offset);
        }
        return { size, headerLength: i - at + 1 };
      }
      if (byte < ZERO || byte > ZERO + 9) {
        throw new FrameError(
          `Malformed netstring: expected a digit or ':', got byte 0x${byte.toString(16).padStart(2, "0")}`,
          offset + i - at,
          "check that the peer speaks netstrings (LEN:BYTES,)",
        );
      }
      size = size * 10 + byte - ZERO;
    }
    return null;
  }

  /** The byte after the data must be `,`. */
  protected override checkTrailer(buf: Uint8Array, at: number, offset: number) {
    if (buf[at] !== COMMA) {
      throw new FrameError("Malformed netstring: missing ',' after the data", offset);
    }
  }
}

const encoder = new TextEncoder();

const netstring: Framing = {
  name: "netstring",
  framed: true,
  text: "bytes",
  replyOverhead: 0,
  decoder: (maxFrame) => new NetstringDecoder(maxFrame),
  encode(messages) {
    const heads = messages.map((m) => encoder.encode(`${m.length}:`));
    let total = 0;
    for (let i = 0; i < messages.length; i++) total += heads[i].length + messages[i].length + 1;
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < messages.length; i++) {
      out.set(heads[i], at);
      at += heads[i].length;
      out.set(messages[i], at);
      at += messages[i].length;
      out[at++] = COMMA;
    }
    return out;
  },
  check() {},
  reply: (output, maxFrame) => output.length > maxFrame ? null : netstring.encode([output]),
};

/** The `netstring` framing family. */
export const netstringFamily: FramingFamily = {
  name: "netstring",
  syntax: ["netstring"],
  help: "LEN:BYTES, (djb netstrings)",
  create: () => netstring,
};
