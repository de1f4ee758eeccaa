import type { FrameDecoder, Framing, FramingFamily } from "./types.ts";
import { concatBytes } from "./_bytes.ts";

/** No framing: each chunk as it arrives is a message (bytes pass through untouched). */
export class RawDecoder implements FrameDecoder {
  #wires: number[] | null = null;

  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length === 0) return [];
    this.#wires?.push(chunk.length);
    return [chunk];
  }
  end(): Uint8Array[] {
    return [];
  }
  recordWireLengths(): number[] {
    return this.#wires ??= [];
  }
}

const raw: Framing = {
  name: "raw",
  decoder: () => new RawDecoder(),
  encode: (messages) => concatBytes(messages),
};

/** The `raw` framing family. */
export const rawFamily: FramingFamily = {
  name: "raw",
  syntax: ["raw"],
  help: "no frames: bytes as they arrive (default for pipe)",
  create: () => raw,
};
