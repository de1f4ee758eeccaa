/**
 * Turning stdin into messages for `send` (and `inspect`): one per line, or all of it as one.
 *
 * @example
 * ```ts
 * import { readAll } from "./stdin_messages.ts";
 *
 * const text = new TextEncoder().encode("one message\nwith two lines\n");
 * let given = false;
 * const source = {
 *   read(buffer: Uint8Array): Promise<number | null> {
 *     if (given) return Promise.resolve(null);
 *     given = true;
 *     buffer.set(text);
 *     return Promise.resolve(text.length);
 *   },
 * };
 * console.log((await readAll(source)).length); // 27
 * ```
 * @module
 */
import { concatBytes } from "../bytes.ts";
import type { Encoding, MessageCodec } from "../encoding.ts";
import { LineCounter, LinesDecoder } from "../framing/lines.ts";
import type { TextForm } from "../framing/types.ts";
import { READ_SIZE } from "../messages.ts";
import { type Framed, messageTooLong } from "./exchange.ts";

/** Anything readable like `Deno.stdin`. */
export interface ByteSource {
  /** Read into `buffer`; the number of bytes read, or null at EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Every chunk of `source` until EOF, each in a fresh buffer. */
export async function* chunks(source: ByteSource): AsyncGenerator<Uint8Array> {
  while (true) {
    const buffer = new Uint8Array(READ_SIZE);
    const n = await source.read(buffer);
    if (n === null) return;
    yield buffer.subarray(0, n);
  }
}

/**
 * Batches of messages from `source`, one message per line, each line turned into bytes by
 * `codec.parseLine`. A batch holds the lines completed by one read. A line over `maxLine` is an
 * error that names `shownMax` as the `--max-frame` exceeded.
 */
export async function* lineMessages(
  source: ByteSource,
  codec: MessageCodec,
  maxLine: number,
  shownMax: number = maxLine,
): AsyncGenerator<Uint8Array[]> {
  const decoder = new LinesDecoder(maxLine, shownMax);
  for await (const chunk of chunks(source)) {
    const lines: Uint8Array[] = [];
    try {
      decoder.push(chunk, lines);
    } catch (error) {
      // The lines before a bad one still go.
      if (lines.length) yield lines.map((line) => codec.parseLine(line));
      throw error;
    }
    if (lines.length) yield lines.map((line) => codec.parseLine(line));
  }
  const last: Uint8Array[] = [];
  decoder.end(last);
  if (last.length) yield last.map((line) => codec.parseLine(line));
}

/**
 * stdin's lines as they are on the wire, for a framing whose wire form is its text form
 * (`lines` under `-e text`): the bytes pass as read, counted, with `\n` added to an
 * unfinished last line. The same messages and errors as {@linkcode stdinMessages}, without
 * an object per line.
 */
export async function* linesAsWire(source: ByteSource, maxFrame: number): AsyncGenerator<Framed> {
  const counter = new LineCounter({
    maxLine: maxFrame * 2 + 2,
    shownMax: maxFrame,
    maxMessage: maxFrame,
    overMessage: (length, before) => messageTooLong(length, before, maxFrame),
  });
  // The counter hands back at most two views (a held line completed, then whole lines): one
  // write per read, as the message path makes, so a delivery error counts the same bytes taken.
  const take = function* (push: (out: Uint8Array[]) => void): Generator<Framed> {
    const out: Uint8Array[] = [];
    const before = counter.count;
    try {
      push(out);
    } finally {
      if (out.length) yield { wire: concatBytes(out), messages: counter.count - before };
    }
  };
  for await (const chunk of chunks(source)) yield* take((out) => counter.push(chunk, out));
  yield* take((out) => counter.end(out));
}

/** All of `source` as one buffer. */
export async function readAll(source: ByteSource): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks(source)) {
    parts.push(chunk);
    total += chunk.length;
  }
  return parts.length === 0 ? new Uint8Array(0) : concatBytes(parts, total);
}

/**
 * Batches of messages from `source` (stdin), as the framing's text form says: per line, all as
 * one (JSON: one document or JSON Lines), or streamed (raw).
 */
export async function* stdinMessages(
  source: ByteSource,
  codec: MessageCodec,
  text: TextForm,
  encoding: Encoding,
  maxFrame: number,
): AsyncGenerator<Uint8Array[]> {
  if (text === "stream" && encoding === "text") {
    for await (const chunk of chunks(source)) yield [chunk];
    return;
  }
  // Hex and base64 take twice or 4/3 the bytes of the message they carry.
  const maxLine = maxFrame * 2 + 2;
  if (text === "lines" || encoding !== "text") {
    yield* lineMessages(source, codec, maxLine, maxFrame);
    return;
  }
  yield codec.parseAll(await readAll(source));
}
