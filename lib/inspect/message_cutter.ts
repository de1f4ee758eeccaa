/**
 * Cutting one direction of a connection into messages for the log and the recording,
 * without changing the bytes forwarded: each message comes with the wire bytes that
 * carried it (prefix, delimiter and all), so the recording adds up to exactly what was sent.
 *
 * @example
 * ```ts
 * import { parseFraming } from "../framing/mod.ts";
 * import { MessageCutter } from "./message_cutter.ts";
 *
 * const cutter = new MessageCutter(parseFraming("lines"), 1024);
 * cutter.push(new TextEncoder().encode("a\nb")); // [{ message: "a", wire: "a\n" }]
 * cutter.end(); // [{ message: "b", wire: "b" }]
 * ```
 * @module
 */
import { FrameError } from "../errors.ts";
import { PendingBytes } from "../framing/_bytes.ts";
import type { FrameDecoder, Framing } from "../framing/types.ts";

/** A message and the bytes that carried it on the wire. Both may be views of the chunk. */
export interface Cut {
  /** The message, as its framing decodes it. */
  message: Uint8Array;
  /** The bytes that carried it, framing included. */
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
  /**
   * Bytes read but not yet part of a cut message, in one growing buffer: a copied slice
   * per read cost ~100 bytes per byte held when a peer wrote one byte at a time.
   */
  #pending = new PendingBytes();
  #error: FrameError | null = null;

  /** Cut with `framing` (read boundaries if it has none), messages of at most `maxFrame` bytes. */
  constructor(framing: Framing, maxFrame: number) {
    this.#decoder = framing.framed ? framing.decoder(maxFrame) : null;
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
    const messages: Uint8Array[] = [];
    try {
      this.#decoder.push(chunk, messages);
    } catch (error) {
      return this.#fail(error, messages, chunk);
    }
    return this.#cut(messages, chunk);
  }

  /** End of stream: the last message, or the leftover bytes if framing was cut short. */
  end(): Cut[] {
    if (this.#decoder === null) return [];
    const none = new Uint8Array(0);
    const messages: Uint8Array[] = [];
    try {
      this.#decoder.end(messages);
    } catch (error) {
      return this.#fail(error, messages, none);
    }
    return this.#cut(messages, none);
  }

  /** Pair each message with its wire bytes: the pending bytes, then the chunk's. */
  #cut(messages: Uint8Array[], chunk: Uint8Array): Cut[] {
    const cuts: Cut[] = [];
    let at = 0;
    for (const [i, message] of messages.entries()) {
      const need = this.#wires[i];
      const held = this.#pending.length;
      if (held > need) {
        const bytes = this.#pending.take();
        this.#pending.append(bytes.subarray(need));
        cuts.push({ message, wire: bytes.subarray(0, need) });
        continue;
      }
      const tail = chunk.subarray(at, at + need - held);
      at += tail.length;
      cuts.push({ message, wire: held === 0 ? tail : this.#pending.take(tail) });
    }
    this.#wires.length = 0;
    // Copied: the caller reuses its read buffer.
    if (at < chunk.length) this.#pending.append(chunk.subarray(at));
    return cuts;
  }

  #fail(error: unknown, messages: Uint8Array[], chunk: Uint8Array): Cut[] {
    if (!(error instanceof FrameError)) throw error;
    this.#error = error;
    this.#decoder = null;
    // The messages before the bad bytes are still cut as the decoder found them.
    const cuts = this.#cut(messages, chunk);
    const rest = this.#pending.take();
    if (rest.length) cuts.push({ message: rest, wire: rest });
    return cuts;
  }
}
