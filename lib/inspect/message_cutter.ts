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

function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** How many wire bytes carry a message of `size` bytes under `framing`. */
export function wireLength(framing: string, size: number): number {
  if (framing === "lines") return size + 1;
  if (framing === "netstring") return String(size).length + 2 + size;
  if (framing === "length" || framing.startsWith("length:")) {
    const variant = framing.slice("length:".length) || "u32be";
    if (variant === "varint") return varintLength(size) + size;
    return Number(variant.replace(/\D/g, "")) / 8 + size;
  }
  return size;
}

/**
 * Decodes a byte stream for display. Malformed framing does not stop anything: the cutter
 * reports it once ({@linkcode MessageCutter.takeError}) and cuts at read boundaries from then on.
 */
export class MessageCutter {
  #framing: Framing;
  #decoder: FrameDecoder | null;
  #pending: Uint8Array[] = [];
  #error: FrameError | null = null;

  constructor(framing: Framing, maxFrame: number) {
    this.#framing = framing;
    this.#decoder = framing.name === "raw" ? null : framing.decoder(maxFrame);
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
    let messages: Uint8Array[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (error) {
      return this.#fail(error, chunk);
    }
    const cuts: Cut[] = [];
    let at = 0;
    for (const message of messages) {
      let need = wireLength(this.#framing.name, message.length);
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
    if (at < chunk.length) this.#pending.push(chunk.slice(at));
    return cuts;
  }

  /** End of stream: the last message, or the leftover bytes if framing was cut short. */
  end(): Cut[] {
    if (this.#decoder === null) return [];
    let messages: Uint8Array[];
    try {
      messages = this.#decoder.end();
    } catch (error) {
      return this.#fail(error, new Uint8Array(0));
    }
    const rest = concatBytes(this.#pending);
    this.#pending = [];
    if (messages.length === 0) return rest.length ? [{ message: rest, wire: rest }] : [];
    return [{ message: messages[0], wire: rest }];
  }

  #fail(error: unknown, chunk: Uint8Array): Cut[] {
    if (!(error instanceof FrameError)) throw error;
    this.#error = error;
    this.#decoder = null;
    const rest = concatBytes([...this.#pending, chunk]);
    this.#pending = [];
    return rest.length ? [{ message: rest, wire: rest }] : [];
  }
}
