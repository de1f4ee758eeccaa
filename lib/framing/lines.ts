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

  /** `maxFrame`: longest line accepted, without its `\n`. */
  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
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
      throw new FrameError(
        `Line of ${length} bytes exceeds --max-frame ${this.#maxFrame}`,
        offset,
        "raise --max-frame, or check that the peer sends newlines",
      ).near(this.#pending.length > 0 ? this.#pending.view() : tail);
    }
  }
}

const lines: Framing = {
  name: "lines",
  framed: true,
  text: "lines",
  replyOverhead: 1,
  decoder: (maxFrame) => new LinesDecoder(maxFrame),
  encode(messages, written) {
    let total = messages.length;
    for (const m of messages) total += m.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const m of messages) {
      if (m.indexOf(NL) >= 0) {
        for (let i = 0, from = 0; from < at; i++) {
          written?.push(out.subarray(from, from += messages[i].length + 1));
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
