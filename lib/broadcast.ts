/**
 * `serve --broadcast`: a hub. Every message from one client goes to every other connected
 * client, re-framed in the server's framing. Each client has its own bounded queue; a client
 * that falls `queue` messages behind is disconnected, so it never stalls the others and
 * memory stays bounded.
 *
 * @example
 * ```ts
 * const hub = new BroadcastHub({ framing, maxFrame: 1 << 24, queue: 1024, log });
 * await server.run((session) => hub.join(session));
 * ```
 * @module
 */
import type { Framing } from "./framing/types.ts";
import { readMessages, writeAll } from "./io.ts";
import { isPeerGone } from "./relay.ts";
import type { LogLevel, Session } from "./server.ts";

/** Options for {@linkcode BroadcastHub}. */
export interface BroadcastOptions {
  framing: Framing;
  maxFrame: number;
  /** Messages a client may have waiting before it is disconnected. @default {1024} */
  queue?: number;
  log: (level: LogLevel, line: string) => void;
  /** Admit `n` messages against `--count`; returns how many may be relayed. */
  take?: (n: number) => number;
}

/** One connected client. */
interface Member {
  readonly session: Session;
  queue: Uint8Array[];
  /** Messages taken from the queue, being written. */
  writing: number;
  wake: (() => void) | null;
  /** No more messages will be queued: flush what is queued, then close. */
  leaving: boolean;
  /** Closed by the hub: stop at once. */
  dropped: boolean;
}

/** The set of connected clients and the relay between them. */
export class BroadcastHub {
  #options: BroadcastOptions;
  #members = new Set<Member>();

  constructor(options: BroadcastOptions) {
    this.#options = options;
  }

  /** How many clients are connected. */
  get size(): number {
    return this.#members.size;
  }

  /** Add a client; resolves once it has left (EOF, error, dropped, or server stop). */
  async join(session: Session): Promise<void> {
    const { framing, maxFrame, log, take } = this.#options;
    const { conn, id } = session;
    session.busy = true;
    const member: Member = { session, queue: [], writing: 0, wake: null, leaving: false, dropped: false };
    this.#members.add(member);
    log("verbose", `conn ${id}: joined (${this.#members.size} connected)`);
    const onStop = () => this.#leave(member);
    session.stopping.addEventListener("abort", onStop, { once: true });

    const writer = this.#drain(member);
    try {
      await readMessages(conn, framing.decoder(maxFrame), (received) => {
        if (member.leaving) return;
        const n = take ? take(received.length) : received.length;
        // Copied once, shared by every recipient: a small message must not pin a read buffer.
        const messages = received.slice(0, n).map((m) => m.slice());
        for (const other of this.#members) if (other !== member) this.#deliver(other, messages);
      }, { signal: session.stopping });
    } catch (error) {
      if (!member.leaving && !isPeerGone(error)) {
        this.#leave(member);
        conn.close();
        await writer;
        throw error;
      }
    } finally {
      session.stopping.removeEventListener("abort", onStop);
      this.#leave(member);
    }
    await writer;
  }

  #deliver(member: Member, messages: Uint8Array[]): void {
    if (member.leaving) return;
    const limit = this.#options.queue ?? 1024;
    if (member.queue.length + member.writing + messages.length > limit) {
      this.#options.log(
        "error",
        `conn ${member.session.id}: too slow, ${limit} messages queued (--queue); disconnected`,
      );
      member.dropped = true;
      this.#leave(member);
      member.queue = [];
      member.session.conn.close();
      return;
    }
    member.queue.push(...messages);
    member.wake?.();
  }

  #leave(member: Member): void {
    if (member.leaving) return;
    member.leaving = true;
    this.#members.delete(member);
    this.#options.log("verbose", `conn ${member.session.id}: left (${this.#members.size} connected)`);
    member.wake?.();
  }

  /** Write the member's queue as it fills; after it leaves, flush and close. */
  async #drain(member: Member): Promise<void> {
    const { conn } = member.session;
    try {
      while (!member.dropped) {
        if (member.queue.length === 0) {
          if (member.leaving) break;
          await new Promise<void>((resolve) => member.wake = resolve);
          member.wake = null;
          continue;
        }
        const batch = member.queue;
        member.queue = [];
        member.writing = batch.length;
        await writeAll(conn, this.#options.framing.encode(batch));
        member.writing = 0;
      }
    } catch (error) {
      if (!member.dropped && !isPeerGone(error)) {
        this.#options.log("error", `conn ${member.session.id}: ${(error as Error).message}`);
      }
      this.#leave(member);
    } finally {
      // Its reader may still be waiting for input: closing ends it.
      conn.close();
    }
  }
}
