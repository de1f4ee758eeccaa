/**
 * The streaming core shared by framings that announce each frame's size in a header.
 *
 * @module
 */
import { FrameError } from "../errors.ts";
import { PendingBytes } from "./_bytes.ts";

/** A parsed frame header: the body size and how many bytes the header took. */
export interface FrameHeader {
  /** Body bytes that follow the header. */
  size: number;
  /** Bytes the header itself took. */
  headerLength: number;
}

/**
 * Shared streaming core of header + body (+ trailer) framings: `length:*` and `netstring`.
 *
 * Frames wholly inside a chunk are returned as views, with no copy; a frame that straddles
 * chunks is gathered into one buffer that grows as its bytes arrive, up to its final size:
 * large frames cost O(n), and a header announcing a huge frame reserves nothing by itself.
 */
export abstract class PrefixedDecoder {
  #maxFrame: number;
  /** Header bytes left over at the end of the previous chunk. */
  #stash: Uint8Array | null = null;
  /** The frame being gathered across chunks: body plus trailer, once #bodySize is set. */
  #body = new PendingBytes();
  /** Body size of the frame being gathered, or -1 between frames. */
  #bodySize = -1;
  /** Stream offset of the first byte of the current buffer. */
  #offset = 0;
  #frameStart = 0;
  /** Wire bytes of the frame being gathered: header, body and trailer. */
  #frameWire = 0;
  #wires: number[] | null = null;

  /** `maxFrame`: largest body accepted; a header announcing more is a `FrameError`. */
  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  /** Longest possible header; more bytes than this without a header is malformed. */
  protected abstract readonly maxHeaderLength: number;
  /** Bytes after the body (`,` for netstrings). */
  protected readonly trailerLength: number = 0;
  /** Parse the header at `buf[at]`, or return null if more bytes are needed. */
  protected abstract parseHeader(buf: Uint8Array, at: number, offset: number): FrameHeader | null;
  /** Check the trailer bytes; throw `FrameError` if wrong. */
  protected checkTrailer(_buf: Uint8Array, _at: number, _offset: number): void {}

  /** Decode `chunk`, appending each frame it completes to `out` (views where possible). */
  push(chunk: Uint8Array, out: Uint8Array[]): void {
    let buf = chunk;
    if (this.#stash) {
      // #offset already points at the stash's first byte.
      buf = new Uint8Array(this.#stash.length + chunk.length);
      buf.set(this.#stash);
      buf.set(chunk, this.#stash.length);
      this.#stash = null;
    }
    let at = 0;
    if (this.#bodySize >= 0) {
      const total = this.#bodySize + this.trailerLength;
      const n = Math.min(total - this.#body.length, buf.length);
      this.#body.append(buf.subarray(0, n), total);
      at = n;
      if (this.#body.length < total) {
        this.#offset += buf.length;
        return;
      }
      const body = this.#body.take();
      this.checkTrailer(body, this.#bodySize, this.#offset + at - this.trailerLength);
      this.#wires?.push(this.#frameWire);
      out.push(body.subarray(0, this.#bodySize));
      this.#bodySize = -1;
    }
    while (at < buf.length) {
      const header = this.parseHeader(buf, at, this.#offset + at);
      if (header === null) {
        if (buf.length - at >= this.maxHeaderLength) {
          throw new FrameError("Malformed frame header", this.#offset + at).near(buf.subarray(at));
        }
        this.#stash = buf.slice(at);
        this.#frameStart = this.#offset + at;
        this.#offset += at;
        return;
      }
      const { size, headerLength } = header;
      if (size > this.#maxFrame) {
        throw new FrameError(
          `Frame of ${size} bytes exceeds --max-frame ${this.#maxFrame}`,
          this.#offset + at,
          "raise --max-frame, or check that both sides use the same framing",
        ).near(buf.subarray(at));
      }
      const bodyStart = at + headerLength;
      const end = bodyStart + size + this.trailerLength;
      if (end <= buf.length) {
        this.checkTrailer(buf, bodyStart + size, this.#offset + bodyStart + size);
        this.#wires?.push(end - at);
        out.push(buf.subarray(bodyStart, bodyStart + size));
        at = end;
        continue;
      }
      this.#frameStart = this.#offset + at;
      this.#bodySize = size;
      this.#frameWire = headerLength + size + this.trailerLength;
      this.#body.append(buf.subarray(bodyStart), size + this.trailerLength);
      break;
    }
    this.#offset += buf.length;
  }

  /** Start recording each decoded frame's wire length (header, body and trailer) in the returned array. */
  recordWireLengths(): number[] {
    return this.#wires ??= [];
  }

  /** End of input: a partial header or frame left over is a `FrameError`. */
  end(_out: Uint8Array[]): void {
    if (this.#stash || this.#bodySize >= 0) {
      throw new FrameError(
        this.#bodySize >= 0
          ? `Truncated frame: EOF after ${this.#body.length} of ${this.#bodySize + this.trailerLength} bytes`
          : "Truncated frame header at EOF",
        this.#frameStart,
      ).near(this.#stash ?? undefined);
    }
  }
}
