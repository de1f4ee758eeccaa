/**
 * How messages are written on the command line and printed on stdout (`-e, --encoding`).
 *
 * @example
 * ```ts
 * import { messageCodec } from "./encoding.ts";
 * import { parseFraming } from "./framing/mod.ts";
 *
 * const codec = await messageCodec("hex", parseFraming("lines"));
 * codec.parse("6869"); // bytes "hi"
 * codec.format([new TextEncoder().encode("hi")]); // "6869\n"
 * ```
 * @module
 */
import { FrameError, UsageError } from "./errors.ts";
import { closest } from "./suggest.ts";
import { LinesDecoder } from "./framing/lines.ts";
import { msgpackWithin } from "./framing/msgpack.ts";
import type { Framing } from "./framing/types.ts";

/** The encodings `-e` accepts. */
export const ENCODINGS = ["text", "hex", "base64"] as const;
/** One of {@linkcode ENCODINGS}. */
export type Encoding = typeof ENCODINGS[number];

/** Converts messages between the bytes on the wire and what the user types and reads. */
export interface MessageCodec {
  /** Message bytes from one command-line argument. */
  parse(text: string): Uint8Array;
  /** Message bytes from one line of stdin (without its `\n`). */
  parseLine(line: Uint8Array): Uint8Array;
  /**
   * The messages in all of stdin, when the framing takes it whole (`bytes` and `json` text
   * forms): one message; under JSON, one document or JSON Lines.
   */
  parseAll(all: Uint8Array): Uint8Array[];
  /** What to print for a batch of received messages. */
  format(messages: readonly Uint8Array[]): Uint8Array;
}

/** Check an `-e` value. */
export function parseEncoding(text: string): Encoding {
  if ((ENCODINGS as readonly string[]).includes(text)) return text as Encoding;
  const close = closest(text, ENCODINGS);
  throw new UsageError(
    `Unknown encoding "${text}"`,
    close ? `did you mean ${close}?` : `use one of: ${ENCODINGS.join(", ")}`,
  );
}

const te = new TextEncoder();
const td = new TextDecoder();
const NL = 0x0a;

function badInput(what: string, text: string, why: unknown): FrameError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return new FrameError(`Cannot decode ${what} "${shown}": ${(why as Error).message ?? why}`);
}

/** Print messages one per line, each turned into text by `toText`. */
function lineFormat(toText: (m: Uint8Array) => string) {
  return (messages: readonly Uint8Array[]) => te.encode(messages.map((m) => toText(m) + "\n").join(""));
}

/** Text: the bytes themselves, each followed by `\n` (or untouched under `raw`). */
function textCodec(raw: boolean): MessageCodec {
  return {
    parse: (text) => te.encode(text),
    parseLine: (line) => line,
    parseAll: (all) => [all],
    format(messages) {
      let total = raw ? 0 : messages.length;
      for (const m of messages) total += m.length;
      const out = new Uint8Array(total);
      let at = 0;
      for (const m of messages) {
        out.set(m, at);
        at += m.length;
        if (!raw) out[at++] = NL;
      }
      return out;
    },
  };
}

function hexCodec(): MessageCodec {
  const parse = (text: string) => {
    const clean = text.replace(/\s+/g, "");
    try {
      return Uint8Array.fromHex(clean);
    } catch (error) {
      throw badInput("hex", text, error);
    }
  };
  return {
    parse,
    parseLine: (line) => parse(td.decode(line)),
    parseAll: (all) => [parse(td.decode(all))],
    format: lineFormat((m) => m.toHex()),
  };
}

function base64Codec(): MessageCodec {
  const parse = (text: string) => {
    try {
      return Uint8Array.fromBase64(text.trim());
    } catch (error) {
      throw badInput("base64", text, error);
    }
  };
  return {
    parse,
    parseLine: (line) => parse(td.decode(line)),
    parseAll: (all) => [parse(td.decode(all))],
    format: lineFormat((m) => m.toBase64()),
  };
}

/**
 * Bounds of the JSON view of one MessagePack value. Each item costs ~50 bytes of objects
 * and ~140 ns to print, and takes as little as one byte on the wire: a 16 MiB array of nils
 * made 815 MB and 2.3 s of JSON. Past these bounds the value prints as `$msgpack` base64,
 * which costs 4/3 of its size.
 */
export const JSON_VIEW_MAX_ITEMS = 100_000;
/** Deeper nesting than this prints as `$msgpack` too (JSON.stringify recurses). */
export const JSON_VIEW_MAX_DEPTH = 1000;

/**
 * Bytes of a message to keep for showing it, at most `showMax` shown: the JSON view needs
 * the whole value (up to 1 MiB) to print its beginning.
 */
export function bytesToShow(framing: Pick<Framing, "text">, showMax: number): number {
  return framing.text === "json" ? Math.max(showMax, 1024 * 1024) : showMax;
}

/** Stands in for a 64-bit integer inside JSON.stringify; replaced by its digits afterwards. */
const BIGINT_MARK = "\u0000ipcat-int:";
const BIGINT_MARKED = /"\\u0000ipcat-int:(-?\d+)"/g;

/**
 * JSON in, compact JSON out, for MessagePack messages under `text` encoding. 64-bit integers
 * keep every digit both ways; binary and ext payloads print as base64; map keys JSON cannot
 * hold (booleans, nil, binary, arrays) print as their JSON text.
 */
async function jsonCodec(): Promise<MessageCodec> {
  // Loaded only here: the package costs ~20 ms at startup.
  const { Decoder, Encoder, ExtData } = await import("@msgpack/msgpack");
  const encoder = new Encoder({ useBigInt64: true });
  const decoder = new Decoder({
    useBigInt64: true,
    mapKeyConverter: (key: unknown) =>
      typeof key === "string" || typeof key === "number"
        ? key
        : typeof key === "bigint"
        ? String(key)
        : key instanceof Uint8Array
        ? key.toBase64()
        : JSON.stringify(key, toJson) ?? String(key),
  });
  // Integers past 2^53 keep their digits: JSON.parse would round them to a float.
  const reviver = (_key: string, value: unknown, context?: { source?: string }) => {
    if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
    if (!/^-?\d+$/.test(context?.source ?? "")) return value;
    const big = BigInt(context!.source!);
    if (big < -(2n ** 63n) || big >= 2n ** 64n) throw new RangeError(`${big} does not fit in 64 bits`);
    return big;
  };
  const parse = (text: string) => {
    let value: unknown;
    try {
      value = JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
      return encoder.encode(value);
    } catch (error) {
      throw badInput("JSON", text, error);
    }
  };
  function toJson(_key: string, value: unknown): unknown {
    if (typeof value === "bigint") {
      return Number.isSafeInteger(Number(value)) ? Number(value) : `${BIGINT_MARK}${value}`;
    }
    if (value instanceof Uint8Array) return value.toBase64();
    if (value instanceof ExtData) {
      const data = value.data instanceof Uint8Array ? value.data.toBase64() : value.data;
      return { type: value.type, data };
    }
    return value;
  }
  const show = (message: Uint8Array) => {
    if (!msgpackWithin(message, JSON_VIEW_MAX_ITEMS, JSON_VIEW_MAX_DEPTH)) {
      return JSON.stringify({ $msgpack: message.toBase64() });
    }
    try {
      return JSON.stringify(decoder.decode(message), toJson).replace(BIGINT_MARKED, "$1");
    } catch {
      // No JSON form (nesting deeper than the stack): still shown, losslessly.
      return JSON.stringify({ $msgpack: message.toBase64() });
    }
  };
  const parseLine = (line: Uint8Array) => parse(td.decode(line));
  return {
    parse,
    parseLine,
    parseAll(all) {
      // One JSON document, or JSON Lines: one value per line.
      try {
        return [parseLine(all)];
      } catch {
        const lines: Uint8Array[] = [];
        const decoder = new LinesDecoder(all.length + 1);
        decoder.push(all, lines);
        decoder.end(lines);
        return lines.filter((line) => line.length > 0).map(parseLine);
      }
    },
    format: lineFormat(show),
  };
}

/** Bytes given whole (hex, base64) must be one message of the framing (`Framing.check`). */
function checked(codec: MessageCodec, framing: Pick<Framing, "check">): MessageCodec {
  const check = (bytes: Uint8Array) => {
    framing.check(bytes);
    return bytes;
  };
  return {
    parse: (text) => check(codec.parse(text)),
    parseLine: (line) => check(codec.parseLine(line)),
    parseAll: (all) => codec.parseAll(all).map(check),
    format: codec.format,
  };
}

/**
 * The codec for an encoding under a framing; `text` follows the framing's
 * {@linkcode Framing.text} form: JSON for `msgpack`, bytes with no added newline for `raw`.
 */
export async function messageCodec(
  encoding: Encoding,
  framing: Pick<Framing, "text" | "check">,
): Promise<MessageCodec> {
  switch (encoding) {
    case "hex":
      return checked(hexCodec(), framing);
    case "base64":
      return checked(base64Codec(), framing);
    case "text":
      if (framing.text === "json") return await jsonCodec();
      return textCodec(framing.text === "stream");
  }
}
