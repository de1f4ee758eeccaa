import type { FrameDecoder, Framing, FramingFamily } from "./types.ts";
import { concatBytes } from "./_bytes.ts";

/** No framing: each chunk as it arrives is a message (bytes pass through untouched). */
export class RawDecoder implements FrameDecoder {
  push(chunk: Uint8Array): Uint8Array[] {
    return chunk.length ? [chunk] : [];
  }
  end(): Uint8Array[] {
    return [];
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
