/**
 * `raw`: no framing; bytes pass through as they are read.
 *
 * @module
 */
import type { FrameDecoder, Framing, FramingFamily } from "./types.ts";
import { concatBytes } from "./_bytes.ts";

/** No framing: each chunk as it arrives is a message (bytes pass through untouched). */
export class RawDecoder implements FrameDecoder {
  #wires: number[] | null = null;

  push(chunk: Uint8Array, out: Uint8Array[]): void {
    if (chunk.length === 0) return;
    this.#wires?.push(chunk.length);
    out.push(chunk);
  }
  end(): void {}
  recordWireLengths(): number[] {
    return this.#wires ??= [];
  }
}

const raw: Framing = {
  name: "raw",
  framed: false,
  text: "stream",
  replyOverhead: 0,
  decoder: () => new RawDecoder(),
  encode: (messages) => concatBytes(messages),
  check() {},
  reply: (output, maxFrame) => output.length > maxFrame ? null : output,
};

/** The `raw` framing family. */
export const rawFamily: FramingFamily = {
  name: "raw",
  syntax: ["raw"],
  help: "no frames: bytes as they arrive (default for pipe)",
  create: () => raw,
};
