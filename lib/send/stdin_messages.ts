/**
 * Turning stdin into messages for `send` (and `inspect`): one per line, or all of it as one.
 * @module
 */
import { concatBytes } from "../bytes.ts";
import type { MessageCodec } from "../encoding.ts";
import { LinesDecoder } from "../framing/lines.ts";
import { READ_SIZE } from "../messages.ts";

/** Anything readable like `Deno.stdin`. */
export interface ByteSource {
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
 * `codec.parseLine`. A batch holds the lines completed by one read.
 */
export async function* lineMessages(
  source: ByteSource,
  codec: MessageCodec,
  maxLine: number,
): AsyncGenerator<Uint8Array[]> {
  const decoder = new LinesDecoder(maxLine);
  for await (const chunk of chunks(source)) {
    const lines: Uint8Array[] = [];
    decoder.push(chunk, lines);
    if (lines.length) yield lines.map((line) => codec.parseLine(line));
  }
  const last: Uint8Array[] = [];
  decoder.end(last);
  if (last.length) yield last.map((line) => codec.parseLine(line));
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
