/**
 * Re-framing one direction of a pipe: decode messages with one framing, encode them with
 * another, one write per read (a batch), backpressured by that write.
 *
 * @example
 * ```ts
 * import { parseFraming } from "../framing/mod.ts";
 * import { reframe } from "./reframe.ts";
 *
 * // Lines in → length-prefixed frames out.
 * const input = [new TextEncoder().encode("a\nbc\n")];
 * const from = { read: (buffer: Uint8Array) => {
 *   const chunk = input.shift();
 *   if (!chunk) return Promise.resolve(null);
 *   buffer.set(chunk);
 *   return Promise.resolve(chunk.length);
 * } };
 * const written: number[] = [];
 * const to = {
 *   write: (data: Uint8Array) => (written.push(...data), Promise.resolve(data.length)),
 *   closeWrite: () => Promise.resolve(),
 * };
 * console.log(await reframe(from, to, parseFraming("lines").decoder(1024), parseFraming("length")));
 * // { bytes: 11, messages: 2 }: written is 0,0,0,1,"a", 0,0,0,2,"bc"
 * ```
 * @module
 */
import type { Connection } from "../address/types.ts";
import type { MessageCodec } from "../encoding.ts";
import { DeliveryError, FrameError } from "../errors.ts";
import { frameErrorFrom } from "../framing/guess.ts";
import { concatBytes } from "../bytes.ts";
import { LinesDecoder } from "../framing/lines.ts";
import type { FrameDecoder, Framing } from "../framing/types.ts";
import { readMessages, writeAll } from "../messages.ts";
import { isPeerGone } from "../errors.ts";

/**
 * Decodes lines of hex/base64 (per `codec.parseLine`) into messages. A bad line is a
 * `FrameError` at its byte offset, thrown after the messages of the lines before it.
 */
export class EncodedLinesDecoder implements FrameDecoder {
  #lines: LinesDecoder;
  #codec: MessageCodec;
  #offset = 0;

  /** Lines in `codec`'s encoding, of messages at most `maxFrame` bytes once decoded. */
  constructor(codec: MessageCodec, maxFrame: number) {
    this.#codec = codec;
    // Hex takes twice the bytes of the message it carries, base64 4/3.
    this.#lines = new LinesDecoder(maxFrame * 2 + 2);
  }

  push(chunk: Uint8Array, out: Uint8Array[]): void {
    const lines: Uint8Array[] = [];
    try {
      this.#lines.push(chunk, lines);
    } finally {
      // An oversize line: the lines before it are still messages to deliver.
      this.#parseAll(lines, out);
    }
  }

  end(out: Uint8Array[]): void {
    const lines: Uint8Array[] = [];
    this.#lines.end(lines);
    this.#parseAll(lines, out);
  }

  recordWireLengths(): number[] {
    return this.#lines.recordWireLengths();
  }

  #parseAll(lines: readonly Uint8Array[], out: Uint8Array[]): void {
    for (const line of lines) {
      try {
        out.push(this.#codec.parseLine(line));
      } catch (error) {
        const why = error instanceof FrameError
          ? error.reason
          : error instanceof Error
          ? error.message
          : String(error);
        throw new FrameError(why, this.#offset);
      }
      this.#offset += line.length + 1;
    }
  }
}

/**
 * The framing of a `-` side under `-e hex|base64`: one message per line in that encoding.
 */
export function encodedLines(codec: MessageCodec, encoding: string): Framing {
  return {
    name: `lines of ${encoding}`,
    framed: true,
    text: "lines",
    replyOverhead: 1,
    decoder: (maxFrame) => new EncodedLinesDecoder(codec, maxFrame),
    encode: (messages) => codec.format(messages),
    check() {},
    reply: (output, maxFrame) => output.length > maxFrame ? null : codec.format([output]),
  };
}

/** Counts of one direction: bytes written on, and messages. */
export interface ReframeTotals {
  /** Bytes written on. */
  bytes: number;
  /** Messages written on. */
  messages: number;
}

/** Where a direction's bytes come from, to name it in errors. */
export interface ReframeSource {
  /** The peer read from, e.g. `unix:/tmp/app.sock`. */
  peer: string;
  /** The framing it is decoded with. */
  framing: string;
  /** The flag that sets that framing, for the hint. @default {"-f"} */
  flag?: string;
}

/**
 * Copy messages from `from` (decoded by `decoder`) to `to` (encoded by `framing`) until
 * EOF, then half-close `to`. Messages decoded before a bad frame are delivered before the
 * `FrameError` is thrown (naming `source` when given). A `to` that goes away while
 * messages are held for it is a `DeliveryError` counting the messages written.
 */
export async function reframe(
  from: Pick<Connection, "read">,
  to: Pick<Connection, "write" | "closeWrite"> & Partial<Pick<Connection, "peer">>,
  decoder: FrameDecoder,
  framing: Pick<Framing, "encode">,
  onBatch?: (bytes: number, messages: number) => void,
  source?: ReframeSource,
): Promise<ReframeTotals> {
  const totals: ReframeTotals = { bytes: 0, messages: 0 };
  let taken = 0;
  const send = async (messages: Uint8Array[], wire: Uint8Array) => {
    try {
      await writeAll(to, wire);
    } catch (error) {
      if (!isPeerGone(error)) throw error;
      throw new DeliveryError(to.peer ?? "the peer", totals.messages, taken, "messages", error);
    }
    totals.bytes += wire.length;
    totals.messages += messages.length;
    onBatch?.(wire.length, messages.length);
  };
  // A reset after the peer's last bytes ends its data as EOF does.
  const reader = {
    read: (buffer: Uint8Array) =>
      from.read(buffer).catch((error) => {
        if (isPeerGone(error)) return null;
        throw error;
      }),
  };
  let encodeFailed = false;
  try {
    // readMessages hands over the messages before a bad frame, then throws its FrameError.
    await readMessages(reader, decoder, async (messages) => {
      taken += messages.length;
      let wire: Uint8Array;
      // The messages framed before one the framing cannot carry (a newline under `lines`,
      // too long for its prefix) are still sent.
      const written: Uint8Array[] = [];
      try {
        wire = framing.encode(messages, written);
      } catch (error) {
        encodeFailed = true;
        if (written.length) await send(messages.slice(0, written.length), concatBytes(written));
        throw error;
      }
      await send(messages, wire);
    });
  } catch (error) {
    if (!(error instanceof FrameError) || encodeFailed || !source) throw error;
    throw frameErrorFrom(error, source.peer, source.framing, source.flag);
  }
  try {
    await to.closeWrite();
  } catch (error) {
    if (!isPeerGone(error)) throw error;
  }
  return totals;
}
