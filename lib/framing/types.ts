/**
 * What every framing provides. A framing turns a byte stream into messages and back.
 * @module
 */

/**
 * A streaming decoder: feed it chunks as they arrive, in any sizes, and it returns every
 * message the chunk completes.
 *
 * Returned messages may be views into the chunk passed to {@linkcode FrameDecoder.push}:
 * copy them before reusing that buffer.
 */
export interface FrameDecoder {
  /** Decode the messages that `chunk` completes. Throws `FrameError` on bad input. */
  push(chunk: Uint8Array): Uint8Array[];
  /** End of stream: the last message (`lines`) or a `FrameError` if one was cut short. */
  end(): Uint8Array[];
  /**
   * From now on, append to the returned array how many stream bytes carried each message
   * returned (header, delimiter and trailer included), in order; the caller empties it.
   * Inspect's cutter records the wire bytes of each message from this, so it cuts exactly
   * where the decoder did (a non-canonical varint header is longer than the usual one).
   */
  recordWireLengths(): number[];
}

/** One framing, as registered in `lib/framing/mod.ts`. */
export interface Framing {
  /** Name as written after `-f`, e.g. `length:u16le`. */
  readonly name: string;
  /** A new decoder that rejects messages over `maxFrame` bytes. */
  decoder(maxFrame: number): FrameDecoder;
  /** Frame a batch of messages into one buffer, so a batch costs one write. */
  encode(messages: readonly Uint8Array[]): Uint8Array;
}

/** A family of framings in the registry: `length` covers `length:u8` to `length:varint`. */
export interface FramingFamily {
  /** Name before the optional `:variant`. */
  readonly name: string;
  /** Accepted spellings, for help text and error hints. */
  readonly syntax: readonly string[];
  /** One-line description for `--help`. */
  readonly help: string;
  /** Build the framing for a variant (`undefined` when none was written). */
  create(variant: string | undefined): Framing;
}
