import { FrameError } from "../errors.ts";
import { concatBytes, keepDecoded } from "./_bytes.ts";
import type { FrameDecoder, Framing, FramingFamily } from "./types.ts";

const NL = 0x0a;

/**
 * Splits a byte stream at `\n`; the `\n` is not part of the message. Bytes left at EOF
 * without a final `\n` are a last message.
 *
 * @example
 * ```ts
 * new LinesDecoder(1024).push(new TextEncoder().encode("a\nb\n")).length; // 2
 * ```
 */
export class LinesDecoder implements FrameDecoder {
  #maxFrame: number;
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  #offset = 0;
  #pendingStart = 0;

  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    return keepDecoded(out, () => this.#push(chunk, out));
  }

  #push(chunk: Uint8Array, out: Uint8Array[]): Uint8Array[] {
    let start = 0;
    for (let nl = chunk.indexOf(NL); nl >= 0; nl = chunk.indexOf(NL, start)) {
      if (this.#pendingLength > 0) {
        this.#pending.push(chunk.subarray(start, nl));
        out.push(this.#takePending(nl - start));
      } else {
        this.#check(nl - start, this.#offset + start);
        out.push(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      // The caller may reuse `chunk`, so an unfinished line is copied.
      if (this.#pendingLength === 0) this.#pendingStart = this.#offset + start;
      this.#pending.push(chunk.slice(start));
      this.#pendingLength += chunk.length - start;
      this.#check(this.#pendingLength, this.#pendingStart);
    }
    this.#offset += chunk.length;
    return out;
  }

  end(): Uint8Array[] {
    return this.#pendingLength > 0 ? [this.#takePending(0)] : [];
  }

  #takePending(extra: number): Uint8Array {
    const total = this.#pendingLength + extra;
    this.#check(total, this.#pendingStart);
    const message = concatBytes(this.#pending, total);
    this.#pending = [];
    this.#pendingLength = 0;
    return message;
  }

  #check(length: number, offset: number) {
    if (length > this.#maxFrame) {
      throw new FrameError(
        `Line of ${length} bytes exceeds --max-frame ${this.#maxFrame}`,
        offset,
        "raise --max-frame, or check that the peer sends newlines",
      ).near(this.#pending[0]);
    }
  }
}

const lines: Framing = {
  name: "lines",
  decoder: (maxFrame) => new LinesDecoder(maxFrame),
  encode(messages) {
    let total = messages.length;
    for (const m of messages) total += m.length;
    const out = new Uint8Array(total);
    let at = 0;
    for (const m of messages) {
      if (m.indexOf(NL) >= 0) {
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
};

/** The `lines` framing family. */
export const linesFamily: FramingFamily = {
  name: "lines",
  syntax: ["lines"],
  help: "bytes up to \\n (default for serve, send, inspect)",
  create: () => lines,
};
