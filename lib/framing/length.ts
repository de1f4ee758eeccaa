/**
 * `length[:u8|u16be|u16le|u32be|u32le|u64be|u64le|varint]`: each message after its size (default `u32be`).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { FrameError } from "../errors.ts";
import { type FrameHeader, PrefixedDecoder } from "./_prefixed.ts";
import type { Framing, FramingFamily } from "./types.ts";

type Width = 1 | 2 | 4 | 8;

const VARIANTS: Record<string, { width: Width | "varint"; little: boolean }> = {
  u8: { width: 1, little: false },
  u16be: { width: 2, little: false },
  u16le: { width: 2, little: true },
  u32be: { width: 4, little: false },
  u32le: { width: 4, little: true },
  u64be: { width: 8, little: false },
  u64le: { width: 8, little: true },
  varint: { width: "varint", little: true },
};

/**
 * Decodes frames with a fixed-width unsigned length prefix, e.g. `length:u32be`.
 *
 * @example
 * ```ts
 * import { LengthPrefixDecoder } from "./length.ts";
 *
 * const out: Uint8Array[] = [];
 * new LengthPrefixDecoder(4, false, 1024).push(new Uint8Array([0, 0, 0, 1, 65]), out); // out: ["A"]
 * ```
 */
export class LengthPrefixDecoder extends PrefixedDecoder {
  /** The prefix width: a header is exactly that many bytes. */
  protected readonly maxHeaderLength: number;
  #width: Width;
  #little: boolean;

  /** A `width`-byte prefix, little-endian if `little`; bodies of at most `maxFrame` bytes. */
  constructor(width: Width, little: boolean, maxFrame: number) {
    super(maxFrame);
    this.#width = width;
    this.#little = little;
    this.maxHeaderLength = width;
  }

  /** The size in the `width` bytes at `at`, or null until they are all here. */
  protected parseHeader(buf: Uint8Array, at: number): FrameHeader | null {
    const w = this.#width;
    if (buf.length - at < w) return null;
    let size = 0;
    for (let i = 0; i < w; i++) {
      const byte = buf[this.#little ? at + w - 1 - i : at + i];
      size = size * 256 + byte;
    }
    // Beyond 2^53 the float loses bits, but any such size is far over --max-frame anyway.
    return { size, headerLength: w };
  }
}

/** Decodes protobuf-style varint-delimited frames (`length:varint`). */
export class VarintPrefixDecoder extends PrefixedDecoder {
  /** A 64-bit varint takes at most 10 bytes. */
  protected readonly maxHeaderLength = 10;

  /** The varint at `at`, or null until its last byte is here; a varint over 10 bytes is a `FrameError`. */
  protected parseHeader(buf: Uint8Array, at: number, offset: number): FrameHeader | null {
    let size = 0;
    let scale = 1;
    for (let i = 0; i < 10 && at + i < buf.length; i++) {
      const byte = buf[at + i];
      size += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return { size, headerLength: i + 1 };
    }
    if (buf.length - at >= 10) throw new FrameError("Malformed varint length prefix", offset);
    return null;
  }
}

function encodeVarint(n: number, out: Uint8Array, at: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function lengthFraming(variant: string): Framing {
  const spec = VARIANTS[variant];
  const name = variant === "u32be" ? "length" : `length:${variant}`;
  const reply = (output: Uint8Array, maxFrame: number) =>
    output.length > maxFrame ? null : framing.encode([output]);
  if (spec.width === "varint") {
    const framing: Framing = {
      name,
      framed: true,
      text: "bytes",
      replyOverhead: 0,
      check() {},
      reply,
      decoder: (maxFrame) => new VarintPrefixDecoder(maxFrame),
      encode(messages) {
        let total = 0;
        for (const m of messages) total += varintLength(m.length) + m.length;
        const out = new Uint8Array(total);
        let at = 0;
        for (const m of messages) {
          at = encodeVarint(m.length, out, at);
          out.set(m, at);
          at += m.length;
        }
        return out;
      },
    };
    return framing;
  }
  const width = spec.width;
  const little = spec.little;
  const limit = width === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * width) - 1;
  const framing: Framing = {
    name,
    framed: true,
    text: "bytes",
    replyOverhead: 0,
    check() {},
    reply,
    decoder: (maxFrame) => new LengthPrefixDecoder(width, little, maxFrame),
    encode(messages, written) {
      let total = 0;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        if (m.length > limit) {
          // Checked before anything is framed: the messages before this one are framed apart.
          for (let j = 0; written && j < i; j++) written.push(framing.encode([messages[j]]));
          throw new FrameError(
            `Message of ${m.length} bytes does not fit a ${width}-byte length prefix`,
            undefined,
            "use a wider prefix such as -f length:u32be",
          );
        }
        total += width + m.length;
      }
      const out = new Uint8Array(total);
      let at = 0;
      for (const m of messages) {
        let n = m.length;
        for (let i = width - 1; i >= 0; i--) {
          out[little ? at + (width - 1 - i) : at + i] = n % 256;
          n = Math.floor(n / 256);
        }
        at += width;
        out.set(m, at);
        at += m.length;
      }
      return out;
    },
  };
  return framing;
}

const framings = new Map<string, Framing>();

/** The `length` framing family: 4-byte big-endian by default, or a `:variant`. */
export const lengthFamily: FramingFamily = {
  name: "length",
  variants: Object.keys(VARIANTS),
  syntax: ["length", ...Object.keys(VARIANTS).map((v) => `length:${v}`)],
  help: "length prefix then bytes; default u32be, or :u8 :u16be :u16le :u32le :u64be :u64le :varint",
  create(variant) {
    const key = variant ?? "u32be";
    if (!(key in VARIANTS)) {
      throw new UsageError(
        `Unknown length variant "${variant}"`,
        `use one of: ${Object.keys(VARIANTS).join(", ")}`,
      );
    }
    let framing = framings.get(key);
    if (!framing) framings.set(key, framing = lengthFraming(key));
    return framing;
  },
};
