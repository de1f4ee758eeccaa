/**
 * `lines`: one message per line, split at `\n`.
 *
 * @module
 */
import { FrameError } from "../errors.ts";
import { concatBytes, PendingBytes } from "./_bytes.ts";
import type { FrameDecoder, Framing, FramingFamily } from "./types.ts";

const NL = 0x0a;

/**
 * Splits a byte stream at `\n`; the `\n` is not part of the message. Bytes left at EOF
 * without a final `\n` are a last message.
 *
 * @example
 * ```ts
 * import { LinesDecoder } from "./lines.ts";
 *
 * const out: Uint8Array[] = [];
 * new LinesDecoder(1024).push(new TextEncoder().encode("a\nb\n"), out); // out.length === 2
 * ```
 */
export class LinesDecoder implements FrameDecoder {
  #maxFrame: number;
  #pending = new PendingBytes();
  #offset = 0;
  #pendingStart = 0;
  #wires: number[] | null = null;
  #shownMax: number;

  /**
   * `maxFrame`: longest line accepted, without its `\n`; `shownMax`, the `--max-frame` its
   * error names (stdin's lines may be hex, twice as long as the messages they carry).
   */
  constructor(maxFrame: number, shownMax: number = maxFrame) {
    this.#maxFrame = maxFrame;
    this.#shownMax = shownMax;
  }

  push(chunk: Uint8Array, out: Uint8Array[]): void {
    let start = 0;
    for (let nl = chunk.indexOf(NL); nl >= 0; nl = chunk.indexOf(NL, start)) {
      if (this.#pending.length > 0) {
        this.#check(this.#pending.length + nl - start, this.#pendingStart, chunk.subarray(start, nl));
        this.#wires?.push(this.#pending.length + nl - start + 1);
        out.push(this.#pending.take(chunk.subarray(start, nl)));
      } else {
        this.#check(nl - start, this.#offset + start, chunk.subarray(start, nl));
        this.#wires?.push(nl - start + 1);
        out.push(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      // The caller may reuse `chunk`, so an unfinished line is copied.
      if (this.#pending.length === 0) this.#pendingStart = this.#offset + start;
      this.#check(this.#pending.length + chunk.length - start, this.#pendingStart, chunk.subarray(start));
      this.#pending.append(chunk.subarray(start), this.#maxFrame);
    }
    this.#offset += chunk.length;
  }

  end(out: Uint8Array[]): void {
    if (this.#pending.length === 0) return;
    this.#wires?.push(this.#pending.length);
    out.push(this.#pending.take());
  }

  recordWireLengths(): number[] {
    return this.#wires ??= [];
  }

  /** `tail` is the line's latest bytes, for the error's framing hint when nothing is pending. */
  #check(length: number, offset: number, tail: Uint8Array) {
    if (length > this.#maxFrame) {
      throw lineTooLong(
        length,
        this.#shownMax,
        offset,
        this.#pending.length > 0 ? this.#pending.view() : tail,
      );
    }
  }
}

/** The error of a line over `maxFrame` (`near`: the bytes that show what it looks like). */
function lineTooLong(length: number, maxFrame: number, offset: number, near: Uint8Array): FrameError {
  return new FrameError(
    `Line of ${length} bytes exceeds --max-frame ${maxFrame}`,
    offset,
    "raise --max-frame, or check that the peer sends newlines",
  ).near(near);
}

/** Options for {@linkcode LineCounter}. */
export interface LineCounterOptions {
  /** Longest line accepted, without its `\n`; a longer one is {@linkcode LinesDecoder}'s error. */
  maxLine: number;
  /** The `--max-frame` that error names. @default {maxLine} */
  shownMax?: number;
  /**
   * Longest complete line let through (default `maxLine`); a longer one ends the stream with
   * the error this returns, given the line's length and how many lines came before it.
   */
  maxMessage?: number;
  /** The error for a complete line over `maxMessage`. */
  overMessage?(length: number, before: number): Error;
}

/**
 * Lines passed through as the bytes they are, counted, never split into messages: what
 * {@linkcode LinesDecoder} would decode, at the cost of one `indexOf` per line. `push`
 * appends the complete lines' bytes (one or two views), holding back an unfinished line
 * (copied) until its `\n` comes; errors and their offsets are the decoder's.
 *
 * @example
 * ```ts
 * import { LineCounter } from "./lines.ts";
 *
 * const counter = new LineCounter({ maxLine: 1024 });
 * const out: Uint8Array[] = [];
 * counter.push(new TextEncoder().encode("a\nb\nc"), out);
 * counter.end(out);
 * console.log(counter.count, out.length); // 3 2 ("a\nb\n", then "c\n")
 * ```
 */
export class LineCounter {
  #maxLine: number;
  #shownMax: number;
  #maxMessage: number;
  #overMessage?: (length: number, before: number) => Error;
  #pending = new PendingBytes();
  #offset = 0;
  #pendingStart = 0;
  /** Complete lines let through so far. */
  count = 0;

  /** A counter with these limits. */
  constructor(options: LineCounterOptions) {
    this.#maxLine = options.maxLine;
    this.#shownMax = options.shownMax ?? options.maxLine;
    this.#maxMessage = Math.min(options.maxMessage ?? options.maxLine, options.maxLine);
    this.#overMessage = options.overMessage;
  }

  /**
   * Append the bytes of the lines `chunk` completes, up to `limit` lines in all; the rest of
   * `chunk` after the last line let through is dropped once the limit is reached. Throws the
   * decoder's `FrameError` after appending the lines before the bad one.
   */
  push(chunk: Uint8Array, out: Uint8Array[], limit = Infinity): void {
    // No line of this chunk can be too long, and the limit is not in it: count, cut once.
    if (this.#pending.length + chunk.length <= this.#maxMessage) {
      const lines = countNewlines(chunk);
      if (this.count + lines <= limit) {
        let from = 0;
        if (lines > 0) {
          if (this.#pending.length > 0) {
            from = chunk.indexOf(NL) + 1;
            out.push(this.#pending.take(chunk.subarray(0, from)));
          }
          const end = chunk.lastIndexOf(NL) + 1;
          if (end > from) out.push(chunk.subarray(from, end));
          from = end;
          this.count += lines;
        }
        return this.#hold(chunk, from);
      }
    }
    let start = 0; // first byte of chunk not yet let through
    let from = 0; // start of the current line in chunk
    try {
      for (let nl = chunk.indexOf(NL); nl >= 0 && this.count < limit; nl = chunk.indexOf(NL, from)) {
        const length = this.#pending.length + nl - from;
        if (length > this.#maxLine) {
          const near = this.#pending.length > 0 ? this.#pending.view() : chunk.subarray(from, nl);
          throw lineTooLong(
            length,
            this.#shownMax,
            this.#pending.length > 0 ? this.#pendingStart : this.#offset + from,
            near,
          );
        }
        if (length > this.#maxMessage) throw this.#overMessage!(length, this.count);
        if (this.#pending.length > 0) {
          out.push(this.#pending.take(chunk.subarray(0, nl + 1)));
          start = nl + 1;
        }
        from = nl + 1;
        this.count++;
      }
    } catch (error) {
      if (from > start) out.push(chunk.subarray(start, from));
      throw error;
    }
    if (from > start) out.push(chunk.subarray(start, from));
    if (this.count < limit) this.#hold(chunk, from);
  }

  /** Hold back `chunk` from `from` on, an unfinished line, and count `chunk` as read. */
  #hold(chunk: Uint8Array, from: number): void {
    if (from < chunk.length) {
      if (this.#pending.length === 0) this.#pendingStart = this.#offset + from;
      const length = this.#pending.length + chunk.length - from;
      if (length > this.#maxLine) {
        const near = this.#pending.length > 0 ? this.#pending.view() : chunk.subarray(from);
        throw lineTooLong(length, this.#shownMax, this.#pendingStart, near);
      }
      this.#pending.append(chunk.subarray(from), this.#maxLine);
    }
    this.#offset += chunk.length;
  }

  /**
   * This counter as the decoder `readMessages` takes: the "messages" it appends are the views
   * of whole lines `push` lets through, up to `limit()` lines (read at each push), and
   * {@linkcode LineCounter.count} says how many lines they hold.
   */
  decoder(limit: () => number = () => Infinity): FrameDecoder {
    return {
      push: (chunk, out) => this.push(chunk, out, limit()),
      end: (out) => this.end(out, limit()),
      // Views are whole lines, not one message each: nothing to record per message.
      recordWireLengths: () => [],
    };
  }

  /** End of stream: an unfinished last line is let through with a `\n` added. */
  end(out: Uint8Array[], limit = Infinity): void {
    if (this.#pending.length === 0 || this.count >= limit) return;
    if (this.#pending.length > this.#maxMessage) throw this.#overMessage!(this.#pending.length, this.count);
    out.push(this.#pending.take(LF));
    this.count++;
  }
}

const LF = new Uint8Array([NL]);
const EMPTY_WORDS = new Uint32Array(0);

/**
 * How many `\n` bytes `bytes` holds: four bytes at a time (a zero-byte test on each 32-bit
 * word XOR `\n\n\n\n`), twice as fast as an `indexOf` per line.
 */
export function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  let i = 0;
  const n = bytes.length;
  const head = Math.min((4 - (bytes.byteOffset & 3)) & 3, n);
  for (; i < head; i++) if (bytes[i] === NL) count++;
  const nw = (n - i) >>> 2;
  const words = nw > 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset + i, nw) : EMPTY_WORDS;
  for (let w = 0; w < nw; w++) {
    const y = words[w] ^ 0x0a0a0a0a;
    // The high bit of each byte of t is set where that byte of y is zero.
    const t = ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y | 0x7f7f7f7f);
    count += Math.imul((t >>> 7) & 0x01010101, 0x01010101) >>> 24;
  }
  for (i += nw * 4; i < n; i++) if (bytes[i] === NL) count++;
  return count;
}

const lines: Framing = {
  name: "lines",
  framed: true,
  text: "lines",
  wireIsText: true,
  replyOverhead: 1,
  decoder: (maxFrame) => new LinesDecoder(maxFrame),
  encode(messages, written) {
    let total = messages.length;
    for (const m of messages) total += m.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const m of messages) {
      if (m.indexOf(NL) >= 0) {
        // (`written?.push(...)` would skip its arguments, and `from` with them, when absent.)
        for (let i = 0, from = 0; written && from < at; i++) {
          const to = from + messages[i].length + 1;
          written.push(out.subarray(from, to));
          from = to;
        }
        throw new FrameError(
          `Message contains a newline, which "lines" framing cannot carry`,
          undefined,
          "use -f length or -f netstring for messages with newlines",
        );
      }
      out.set(m, at);
      at += m.length;
      out[at++] = NL;
    }
    return out;
  },
  check() {},
  reply(output, maxFrame) {
    // One trailing newline is the line's own; a reply of several lines stays several lines.
    if (output.length > 0 && output[output.length - 1] === NL) return output;
    if (output.length > maxFrame) return null;
    return concatBytes([output, new Uint8Array([NL])]);
  },
};

/** The `lines` framing family. */
export const linesFamily: FramingFamily = {
  name: "lines",
  syntax: ["lines"],
  help: "bytes up to \\n (default for serve, send, inspect)",
  create: () => lines,
};
