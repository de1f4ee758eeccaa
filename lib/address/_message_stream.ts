/**
 * The seam between transports that carry whole messages (datagrams, WebSocket) and the rest of
 * ipcat, which moves byte streams cut into messages by a framing.
 *
 * A message transport implements `receive()` and `send()`; {@linkcode MessageStream} turns that
 * into an ordinary {@linkcode Connection} whose bytes are the messages in one fixed, private
 * framing ({@linkcode MESSAGE_FRAMING}: a 4-byte big-endian length, then the message). Every
 * command then works on it unchanged — serve's modes, send's exchange, pipe's re-framing,
 * inspect's proxy — as long as it reads and writes that connection with `MESSAGE_FRAMING`,
 * which {@linkcode framingFor} in `mod.ts` picks for every address whose transport says
 * `messages: true`. One message costs one copy of its bytes each way.
 *
 * @example
 * ```ts
 * import { MessageStream } from "./_message_stream.ts";
 * class Loopback extends MessageStream {
 *   #queue: Uint8Array[] = [];
 *   constructor() {
 *     super("loopback", 1 << 20);
 *   }
 *   receive() {
 *     return Promise.resolve(this.#queue.shift() ?? null);
 *   }
 *   send(message: Uint8Array) {
 *     this.#queue.push(message.slice());
 *     return Promise.resolve();
 *   }
 *   closeWrite() {
 *     return Promise.resolve();
 *   }
 *   close() {}
 * }
 * ```
 * @module
 */
import { FrameError } from "../errors.ts";
import { lengthFamily } from "../framing/length.ts";
import type { Framing } from "../framing/types.ts";
import type { Connection } from "./types.ts";

/**
 * The framing of a {@linkcode MessageStream}'s bytes. Its name is what logs and errors show
 * for a message transport's framing.
 */
export const MESSAGE_FRAMING: Framing = { ...lengthFamily.create("u32be"), name: "message" };

const HEADER = 4;

/**
 * A {@linkcode Connection} over a transport of whole messages. Subclasses provide
 * `receive`, `send`, `closeWrite` and `close`; reads and writes carry the messages framed
 * with {@linkcode MESSAGE_FRAMING}.
 */
export abstract class MessageStream implements Connection {
  /** Who is on the other end, for logs and `IPCAT_PEER`. */
  readonly peer: string;
  #maxMessage: number;
  /** The message being read out: header and body, and how much of it was read. */
  #out: Uint8Array | null = null;
  #outAt = 0;
  /** Bytes written that do not yet make a whole message. */
  #in = new Uint8Array(0);
  #inLength = 0;

  /**
   * A stream with nothing read or written yet.
   *
   * @param peer Who is on the other end.
   * @param maxMessage Largest message `write` accepts (the transport's own limit).
   */
  constructor(peer: string, maxMessage: number) {
    this.peer = peer;
    this.#maxMessage = maxMessage;
  }

  /** The next whole message from the peer, or null once it is done sending. */
  abstract receive(): Promise<Uint8Array | null>;
  /**
   * Send one whole message. A transport that only queues it (a broker client's buffer) may
   * return nothing: `write` then sends a whole batch without yielding between messages.
   */
  abstract send(message: Uint8Array): Promise<void> | void;
  /** Tell the peer no more messages come (a WebSocket close frame; nothing for datagrams). */
  abstract closeWrite(): Promise<void>;
  /** Close both directions. Safe to call twice. */
  abstract close(): void | Promise<void>;

  /**
   * A message already received and waiting, or null, without waiting for one. `read` uses it
   * to fill one buffer with every message that is ready (one read, one decode, one batch);
   * transports that queue messages override it.
   */
  protected takeReady(): Uint8Array | null {
    return null;
  }

  /** Read the next bytes of the framed message stream; null at the peer's end. */
  async read(buffer: Uint8Array): Promise<number | null> {
    let n: number;
    if (this.#out !== null) n = this.#drain(buffer, 0);
    else {
      const message = await this.receive();
      if (message === null) return null;
      n = this.#put(message, buffer, 0);
    }
    while (this.#out === null && buffer.length - n > HEADER) {
      const next = this.takeReady();
      if (next === null) break;
      n = this.#put(next, buffer, n);
    }
    return n;
  }

  /** Frame `message` into `buffer` at `at`; what does not fit waits for the next read. */
  #put(message: Uint8Array, buffer: Uint8Array, at: number): number {
    if (buffer.length - at >= HEADER + message.length) {
      new DataView(buffer.buffer, buffer.byteOffset + at).setUint32(0, message.length);
      buffer.set(message, at + HEADER);
      return at + HEADER + message.length;
    }
    const framed = new Uint8Array(HEADER + message.length);
    new DataView(framed.buffer).setUint32(0, message.length);
    framed.set(message, HEADER);
    this.#out = framed;
    this.#outAt = 0;
    return this.#drain(buffer, at);
  }

  /** Copy as much of the waiting framed message as fits into `buffer` at `at`. */
  #drain(buffer: Uint8Array, at: number): number {
    const out = this.#out!;
    const n = Math.min(buffer.length - at, out.length - this.#outAt);
    buffer.set(out.subarray(this.#outAt, this.#outAt + n), at);
    this.#outAt += n;
    if (this.#outAt === out.length) this.#out = null;
    return at + n;
  }

  /** Write framed bytes; each whole message in them is sent as one message. */
  async write(data: Uint8Array): Promise<number> {
    let chunk = data;
    if (this.#inLength > 0) {
      const joined = new Uint8Array(this.#inLength + data.length);
      joined.set(this.#in.subarray(0, this.#inLength));
      joined.set(data, this.#inLength);
      chunk = joined;
      this.#inLength = 0;
    }
    let at = 0;
    while (chunk.length - at >= HEADER) {
      const size = new DataView(chunk.buffer, chunk.byteOffset + at).getUint32(0);
      if (size > this.#maxMessage) {
        throw new FrameError(
          `${this.peer}: a message of ${size} bytes is over this transport's limit of ${this.#maxMessage}`,
        );
      }
      if (chunk.length - at < HEADER + size) break;
      const sending = this.send(chunk.subarray(at + HEADER, at + HEADER + size));
      if (sending) await sending;
      at += HEADER + size;
    }
    if (at < chunk.length) {
      const rest = chunk.subarray(at);
      if (this.#in.length < rest.length) {
        this.#in = new Uint8Array(Math.max(rest.length, 2 * this.#in.length));
      }
      this.#in.set(rest);
      this.#inLength = rest.length;
    }
    return data.length;
  }
}
