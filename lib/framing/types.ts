/**
 * What every framing provides. A framing turns a byte stream into messages and back.
 * @module
 */

/**
 * A streaming decoder: feed it chunks as they arrive, in any sizes, and it appends every
 * message the chunk completes to `out`.
 *
 * On bad bytes it throws a `FrameError` after appending the messages before them, so a
 * caller delivers those first without the error carrying them. Appended messages may be
 * views into the chunk passed to {@linkcode FrameDecoder.push}: copy them before reusing
 * that buffer.
 */
export interface FrameDecoder {
  /** Append the messages that `chunk` completes to `out`; then throw `FrameError` on bad input. */
  push(chunk: Uint8Array, out: Uint8Array[]): void;
  /** End of stream: append the last message (`lines`), or throw `FrameError` if one was cut short. */
  end(out: Uint8Array[]): void;
  /**
   * From now on, append to the returned array how many stream bytes carried each message
   * returned (header, delimiter and trailer included), in order; the caller empties it.
   * Inspect's cutter records the wire bytes of each message from this, so it cuts exactly
   * where the decoder did (a non-canonical varint header is longer than the usual one).
   */
  recordWireLengths(): number[];
}

/**
 * How messages look under `-e text`:
 * - `lines`: the bytes themselves, one message per line, on stdout and stdin;
 * - `bytes`: the bytes themselves, one per line on stdout, but all of stdin is one message
 *   (the framing carries newlines);
 * - `stream`: no messages, the byte stream itself: nothing added on stdout, stdin sent as read;
 * - `json`: each message is one JSON value, converted to and from MessagePack; stdin holds
 *   one JSON document, or JSON Lines.
 */
export type TextForm = "lines" | "bytes" | "stream" | "json";

/** One framing, as registered in `lib/framing/mod.ts`. */
export interface Framing {
  /** Name as written after `-f`, e.g. `length:u16le`. */
  readonly name: string;
  /** False for `raw`: reads are not messages, so there is nothing to count or re-frame. */
  readonly framed: boolean;
  /** How `-e text` prints and reads messages. */
  readonly text: TextForm;
  /**
   * True when the wire form is `-e text`'s form: each message followed by `\n` (`lines`).
   * Text from stdin and to stdout can then pass as bytes, counted by a
   * `LineCounter` (`lines.ts`), never split into messages.
   */
  readonly wireIsText?: boolean;
  /** Bytes of a `--handle` handler's stdout that are framing, not message (`lines`: its `\n`). */
  readonly replyOverhead: number;
  /** A new decoder that rejects messages over `maxFrame` bytes. */
  decoder(maxFrame: number): FrameDecoder;
  /**
   * Frame a batch of messages into one buffer, so a batch costs one write. A message the
   * framing cannot carry is a `FrameError`; when `written` is given, the messages before it
   * are appended to it first, framed, one buffer each, so a caller can still send them.
   */
  encode(messages: readonly Uint8Array[], written?: Uint8Array[]): Uint8Array;
  /**
   * Check that `message`, given whole (a hex or base64 argument), is one message of this
   * framing; throws `FrameError` (`msgpack`: exactly one value).
   */
  check(message: Uint8Array): void;
  /**
   * A `--handle` handler's whole stdout as the one reply it is, framed for the wire; null
   * when it is larger than `maxFrame`. Throws `FrameError` when it cannot be one reply;
   * its `reason` completes "handler reply is ...".
   */
  reply(output: Uint8Array, maxFrame: number): Uint8Array | null;
}

/** A family of framings in the registry: `length` covers `length:u8` to `length:varint`. */
export interface FramingFamily {
  /** Name before the optional `:variant`. */
  readonly name: string;
  /** The `:variant`s it takes (`length:u8`, ...); none when absent. */
  readonly variants?: readonly string[];
  /** Accepted spellings, for help text and error hints. */
  readonly syntax: readonly string[];
  /** One-line description for `--help`. */
  readonly help: string;
  /** Build the framing for a variant (`undefined` when none was written). */
  create(variant: string | undefined): Framing;
}
