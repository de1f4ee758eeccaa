/**
 * Cutting one direction of a connection into messages for the log and the recording,
 * without changing the bytes forwarded: each message comes with the wire bytes that
 * carried it (prefix, delimiter and all), so the recording adds up to exactly what was sent.
 *
 * @example
 * ```ts
 * const cutter = new MessageCutter(parseFraming("lines"), 1024);
 * cutter.push(new TextEncoder().encode("a\nb")); // [{ message: "a", wire: "a\n" }]
 * cutter.end(); // [{ message: "b", wire: "b" }]
 * ```
 * @module
 */
import { FrameError } from "../errors.ts";
import type { FrameDecoder, Framing } from "../framing/types.ts";
import { concatBytes } from "../bytes.ts";

/** A message and the bytes that carried it on the wire. Both may be views of the chunk. */
export interface Cut {
  message: Uint8Array;
  wire: Uint8Array;
}

/**
 * Decodes a byte stream for display. Malformed framing does not stop anything: the cutter
 * reports it once ({@linkcode MessageCutter.takeError}) and cuts at read boundaries from then on.
 */
export class MessageCutter {
  #decoder: FrameDecoder | null;
  /** Wire bytes of each message the decoder returns, as it counted them. */
  #wires: number[] = [];
  /** Bytes read but not yet part of a cut message. */
  #pending: Uint8Array[] = [];
  #error: FrameError | null = null;

  constructor(framing: Framing, maxFrame: number) {
    this.#decoder = framing.name === "raw" ? null : framing.decoder(maxFrame);
    if (this.#decoder) this.#wires = this.#decoder.recordWireLengths();
  }

  /** The framing error that switched this cutter to read boundaries, once. */
  takeError(): FrameError | null {
    const error = this.#error;
    this.#error = null;
    return error;
  }

  /** The messages `chunk` completes. */
  push(chunk: Uint8Array): Cut[] {
    if (this.#decoder === null) return chunk.length ? [{ message: chunk, wire: chunk }] : [];
    try {
      return this.#cut(this.#decoder.push(chunk), chunk);
    } catch (error) {
      return this.#fail(error, chunk);
    }
  }

  /** End of stream: the last message, or the leftover bytes if framing was cut short. */
  end(): Cut[] {
    if (this.#decoder === null) return [];
    const none = new Uint8Array(0);
    try {
      return this.#cut(this.#decoder.end(), none);
    } catch (error) {
      return this.#fail(error, none);
    }
  }

  /** Pair each message with its wire bytes: the pending bytes, then the chunk's. */
  #cut(messages: Uint8Array[], chunk: Uint8Array): Cut[] {
    const cuts: Cut[] = [];
    let at = 0;
    for (const [i, message] of messages.entries()) {
      let need = this.#wires[i];
      const parts: Uint8Array[] = [];
      while (need > 0 && this.#pending.length > 0) {
        const head = this.#pending[0];
        if (head.length <= need) {
          parts.push(head);
          this.#pending.shift();
          need -= head.length;
        } else {
          parts.push(head.subarray(0, need));
          this.#pending[0] = head.subarray(need);
          need = 0;
        }
      }
      const take = Math.min(need, chunk.length - at);
      if (take > 0) parts.push(chunk.subarray(at, at + take));
      at += take;
      cuts.push({ message, wire: parts.length === 1 ? parts[0] : concatBytes(parts) });
    }
    this.#wires.length = 0;
    // Copied: the caller reuses its read buffer.
    if (at < chunk.length) this.#pending.push(chunk.slice(at));
    return cuts;
  }

  #fail(error: unknown, chunk: Uint8Array): Cut[] {
    if (!(error instanceof FrameError)) throw error;
    this.#error = error;
    this.#decoder = null;
    // The messages before the bad bytes are still cut as the decoder found them.
    const cuts = this.#cut(error.decoded, chunk);
    const rest = concatBytes(this.#pending);
    this.#pending = [];
    if (rest.length) cuts.push({ message: rest, wire: rest });
    return cuts;
  }
}
