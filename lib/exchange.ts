/**
 * One client exchange: send messages, half-close, read replies. What `send` does once
 * connected.
 *
 * @example
 * ```ts
 * await exchange(conn, { framing, maxFrame, batches: [[hello]], onReplies: print });
 * ```
 * @module
 */
import type { Connection } from "./address/types.ts";
import type { Framing } from "./framing/types.ts";
import { FrameError, IpcatError } from "./errors.ts";
import { readMessages, writeAll } from "./io.ts";
import { isPeerGone } from "./relay.ts";

/** Options for {@linkcode exchange}. */
export interface ExchangeOptions {
  framing: Framing;
  maxFrame: number;
  /** The messages to send, in batches (one write per batch). */
  batches: AsyncIterable<Uint8Array[]> | Iterable<Uint8Array[]>;
  /** Called with each batch of replies, in order. */
  onReplies(replies: Uint8Array[]): void;
  /** Stop after this many replies. */
  replies?: number;
  /** Do not half-close; stop after one reply per message sent (unless `replies` says). */
  keepOpen?: boolean;
  /** Do not read replies at all. */
  noReply?: boolean;
}

/**
 * Send, half-close (unless keepOpen), and read replies until EOF or the reply limit.
 * The caller closes `conn` afterwards.
 */
export async function exchange(conn: Connection, options: ExchangeOptions): Promise<void> {
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

  const writing = (async () => {
    for await (const batch of options.batches) {
      // --max-frame bounds what we send too; the messages before an oversize one still go.
      const over = batch.findIndex((message) => message.length > options.maxFrame);
      const fits = over < 0 ? batch : batch.slice(0, over);
      if (fits.length) await writeAll(conn, framing.encode(fits));
      sent += fits.length;
      if (over >= 0) {
        throw new FrameError(
          `Message ${sent + 1} is ${batch[over].length} bytes, over --max-frame ${options.maxFrame}`,
          undefined,
          "raise --max-frame",
        );
      }
    }
    sendingDone = true;
    if (!keepOpen) await conn.closeWrite();
  })();
  if (noReply) {
    return await writing.catch((error) => {
      if (!isPeerGone(error)) throw error;
      throw new IpcatError(
        `Cannot send to ${conn.peer}: the server closed the connection`,
        `${sent} messages were written before that; the rest were not sent`,
      );
    });
  }

  writing.then(check, (error) => isPeerGone(error) ? check() : reject(error));
  // A Unix peer that closes with our data unread resets the connection after its last
  // reply: for the reader that is the end of the replies, as EOF is.
  const reader = {
    read: (buffer: Uint8Array) =>
      conn.read(buffer).catch((error) => {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      }),
  };
  readMessages(reader, framing.decoder(options.maxFrame), (replies) => {
    const room = limit() - received;
    const shown = replies.length > room ? replies.slice(0, room) : replies;
    received += shown.length;
    if (shown.length) options.onReplies(shown);
    check();
  }, { signal: enough.signal }).then(() => resolve(), reject);
  await done;
}
