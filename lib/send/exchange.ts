/**
 * One client exchange: send messages, half-close, read replies. What `send` does once
 * connected.
 *
 * @example Two messages to an echo server, two replies back
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { exchange } from "./exchange.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/echo.sock`);
 * const listener = await listen(address);
 * const echoing = (async () => {
 *   const conn = await listener.accept();
 *   const buffer = new Uint8Array(1024);
 *   for (let n; (n = await conn.read(buffer)) !== null;) await conn.write(buffer.subarray(0, n));
 *   conn.close();
 * })();
 * const conn = await connect(address);
 * const te = new TextEncoder();
 * const totals = await exchange(conn, {
 *   framing: parseFraming("lines"),
 *   maxFrame: 1 << 24,
 *   batches: [[te.encode("hello"), te.encode("world")]],
 *   onReplies: (replies) => replies.forEach((reply) => console.log(new TextDecoder().decode(reply))),
 * });
 * console.log(totals); // { sent: 2, received: 2 }
 * conn.close();
 * await echoing;
 * listener.close();
 * ```
 * @module
 */
import type { Connection } from "../address/types.ts";
import type { Framing } from "../framing/types.ts";
import { DeliveryError, FrameError } from "../errors.ts";
import { frameErrorFrom } from "../framing/guess.ts";
import { LineCounter } from "../framing/lines.ts";
import { readMessages } from "../messages.ts";
import { isPeerGone } from "../errors.ts";

/** Bytes already framed for the wire, and how many messages they carry. */
export interface Framed {
  /** The wire bytes. */
  wire: Uint8Array;
  /** Messages in them. */
  messages: number;
}

/** Options for {@linkcode exchange}. */
export interface ExchangeOptions {
  /** How messages are framed both ways. */
  framing: Framing;
  /** Largest reply accepted, in bytes. */
  maxFrame: number;
  /** The messages to send, in batches (one write per batch), or already framed. */
  batches: AsyncIterable<Uint8Array[] | Framed> | Iterable<Uint8Array[] | Framed>;
  /** Called with each batch of replies, in order. */
  onReplies(replies: Uint8Array[]): void;
  /**
   * Under a framing whose wire form is its text form (`wireIsText`): called instead of
   * `onReplies` with the replies' bytes as they came, whole lines only, valid during the call.
   */
  onReplyBytes?(bytes: Uint8Array): void;
  /** Stop after this many replies. */
  replies?: number;
  /** Do not half-close; stop after one reply per message sent (unless `replies` says). */
  keepOpen?: boolean;
  /** Do not read replies at all. */
  noReply?: boolean;
}

/** Messages written and replies read. */
export interface ExchangeTotals {
  /** Messages written. */
  sent: number;
  /** Replies read. */
  received: number;
}

/**
 * Send, half-close (unless keepOpen), and read replies until EOF or the reply limit. At
 * the server's EOF, the sending still goes on until the input ends: a server that
 * half-closed reads on. One that went away while messages were held for it is a
 * `DeliveryError`, after the replies it sent are handed over. A `FrameError` in the
 * replies names the server and the framing they look like. The caller closes `conn`.
 */
export async function exchange(conn: Connection, options: ExchangeOptions): Promise<ExchangeTotals> {
  const { framing, keepOpen, noReply } = options;
  let sent = 0;
  let received = 0;
  let sendingDone = false;
  const limit = () => options.replies ?? (keepOpen && sendingDone ? sent : Infinity);
  const { promise: done, resolve, reject } = Promise.withResolvers<void>();
  const enough = new AbortController();
  const check = () => {
    if (received >= limit()) {
      enough.abort();
      resolve();
    }
  };

  let taken = 0;
  let delivered = 0;
  const writing = (async () => {
    for await (const batch of options.batches) {
      // --max-frame bounds what we send too; the messages before an oversize one still go.
      const framed = Array.isArray(batch) ? undefined : batch as Framed;
      const messages = batch as Uint8Array[];
      const over = framed ? -1 : messages.findIndex((message) => message.length > options.maxFrame);
      const fits = framed ? framed.messages : over < 0 ? messages.length : over;
      if (fits) {
        const wire = framed ? framed.wire : framing.encode(over < 0 ? messages : messages.slice(0, over));
        taken += wire.length;
        try {
          let at = 0;
          while (at < wire.length) {
            const n = await conn.write(at === 0 ? wire : wire.subarray(at));
            at += n;
            delivered += n;
          }
        } catch (error) {
          if (!isPeerGone(error)) throw error;
          throw new DeliveryError(conn.peer, delivered, taken, "bytes", error);
        }
      }
      sent += fits;
      if (over >= 0) throw messageTooLong(messages[over].length, sent, options.maxFrame);
    }
    sendingDone = true;
    if (!keepOpen) {
      await conn.closeWrite().catch((error) => {
        if (!isPeerGone(error)) throw error;
      });
    }
  })();
  if (noReply) {
    await writing;
    return { sent, received };
  }

  let sendFailed: unknown;
  const sending = writing.then(check, (error) => {
    // The replies the server sent before it went away are still read and shown first.
    if (error instanceof DeliveryError) sendFailed = error;
    else reject(error);
  });
  // A Unix peer that closes with our data unread resets the connection after its last
  // reply: for the reader that is the end of the replies, as EOF is.
  const reader = {
    read: (buffer: Uint8Array) =>
      conn.read(buffer).catch((error) => {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      }),
  };
  const lines = options.onReplyBytes && framing.wireIsText
    ? new LineCounter({ maxLine: options.maxFrame })
    : null;
  const reading = lines
    ? readMessages(reader, lines.decoder(limit), (views) => {
      received = lines.count;
      for (const view of views) options.onReplyBytes!(view);
      check();
    }, { signal: enough.signal })
    : readMessages(reader, framing.decoder(options.maxFrame), (replies) => {
      const room = limit() - received;
      const shown = replies.length > room ? replies.slice(0, room) : replies;
      received += shown.length;
      if (shown.length) options.onReplies(shown);
      check();
    }, { signal: enough.signal });
  reading.then(async (eof) => {
    // The server's EOF ends its replies, not our sending (unless the reply limit was met).
    if (eof) await sending;
    if (sendFailed) reject(sendFailed);
    else resolve();
  }, (error) => reject(error instanceof FrameError ? frameErrorFrom(error, conn.peer, framing.name) : error));
  await done;
  return { sent, received };
}

/** The error of a message over `--max-frame`, after `sent` messages went. */
export function messageTooLong(length: number, sent: number, maxFrame: number): FrameError {
  return new FrameError(
    `Message ${sent + 1} is ${length} bytes, over --max-frame ${maxFrame}`,
    undefined,
    "raise --max-frame",
  );
}
