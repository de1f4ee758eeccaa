/**
 * `serve --broadcast`: a hub. Every message from one client goes to every other connected
 * client, re-framed in the server's framing. Each client has its own queue, bounded in
 * messages and in bytes. A sender's batch waits until every client keeping up has room for
 * it, so a burst slows the sender down instead of costing a reader; a client whose queue
 * stays full with nothing written for a grace period is slow, and gets the `slow` policy.
 * Memory stays bounded by clients × queue bytes (+ one write batch each).
 *
 * @example Two clients: what one sends, the other receives
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { BroadcastHub } from "./broadcast.ts";
 * import { Server } from "./server.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/hub.sock`);
 * const server = new Server(await listen(address), { log: () => {} });
 * const hub = new BroadcastHub({ framing: parseFraming("lines"), maxFrame: 1 << 24, log: () => {} });
 * const serving = server.run((session) => hub.join(session));
 * const alice = await connect(address);
 * const bob = await connect(address);
 * while (hub.size < 2) await new Promise((resolve) => setTimeout(resolve, 1));
 * await alice.write(new TextEncoder().encode("hello\n"));
 * const buffer = new Uint8Array(16);
 * const n = await bob.read(buffer); // "hello\n"
 * alice.close();
 * bob.close();
 * server.stop();
 * await serving;
 * ```
 * @module
 */
import type { Framing } from "../framing/types.ts";
import { readMessages } from "../messages.ts";
import { isPeerGone } from "../errors.ts";
import type { LogLevel } from "../log.ts";
import type { Session } from "./server.ts";

/** What the hub does with a client that stays full: see {@linkcode BroadcastOptions.slow}. */
export type SlowPolicy = "disconnect" | "block" | "drop-oldest";

/** The `--slow` policies, in the order `--help` lists them. */
export const SLOW_POLICIES: readonly SlowPolicy[] = ["disconnect", "block", "drop-oldest"];

/** Options for {@linkcode BroadcastHub}. */
export interface BroadcastOptions {
  /** How messages are cut from each client and framed to the others. */
  framing: Framing;
  /** Largest message accepted from a client, in bytes. */
  maxFrame: number;
  /** Messages a client may have waiting (counting the ones being written). @default {1024} */
  queue?: number;
  /** Message bytes a client may have waiting (counting the ones being written). @default {16 MiB} */
  queueBytes?: number;
  /**
   * A slow client (full, nothing written for `grace` ms): `disconnect` it, `block` the
   * senders until it reads, or `drop-oldest` of its queued messages. @default {"disconnect"}
   */
  slow?: SlowPolicy;
  /** How long senders wait for a full client that writes nothing before it counts as slow. @default {1000} */
  grace?: number;
  /** Receives log lines (slow clients, drops, departures). */
  log: (level: LogLevel, line: string) => void;
  /** Admit `n` messages against `--count`; returns how many may be relayed. */
  take?: (n: number) => number;
}

/** Default {@linkcode BroadcastOptions.queue}. */
export const DEFAULT_QUEUE = 1024;
/** Default {@linkcode BroadcastOptions.queueBytes}: 16 MiB, the default `--max-frame`. */
export const DEFAULT_QUEUE_BYTES = 16 * 1024 * 1024;
/** Default {@linkcode BroadcastOptions.grace}. */
export const DEFAULT_GRACE_MS = 1000;

/**
 * Most message bytes encoded for one write. The drain never encodes its whole queue at
 * once: that doubled a full queue's memory (900 × 1 MiB queued took the server to 1.9 GB).
 */
const WRITE_BATCH_BYTES = 256 * 1024;

/** Oldest-first messages and their byte total; taking from the front is O(1) amortised. */
class MessageQueue {
  #items: Uint8Array[] = [];
  #head = 0;
  bytes = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(messages: readonly Uint8Array[]): void {
    for (const message of messages) {
      this.#items.push(message);
      this.bytes += message.length;
    }
  }

  /** Remove the oldest messages, at least one and at most `maxBytes` beyond the first. */
  take(maxBytes: number): Uint8Array[] {
    let end = this.#head;
    let size = 0;
    while (end < this.#items.length && (end === this.#head || size + this.#items[end].length <= maxBytes)) {
      size += this.#items[end++].length;
    }
    const taken = this.#items.slice(this.#head, end);
    this.#advance(end);
    this.bytes -= size;
    return taken;
  }

  /** Forget the oldest message. */
  dropOldest(): void {
    this.bytes -= this.#items[this.#head].length;
    this.#advance(this.#head + 1);
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.bytes = 0;
  }

  #advance(head: number): void {
    // Let taken messages go; compact once the dead front is at least half the array.
    this.#items.fill(EMPTY, this.#head, head);
    this.#head = head;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

/** One connected client. */
interface Member {
  readonly session: Session;
  readonly queue: MessageQueue;
  /** Messages taken from the queue, being written, and their bytes. */
  writing: number;
  writingBytes: number;
  /** Since when it has written nothing while having something to write. */
  stalledSince: number;
  /** Declared slow under `drop-oldest`: senders no longer wait for it until it catches up. */
  lagging: boolean;
  /** Messages dropped while lagging, reported when it catches up or leaves. */
  droppedMessages: number;
  /** `block`: the "holding senders" line was logged for this stall. */
  holdLogged: boolean;
  wake: (() => void) | null;
  /** No more messages will be queued: flush what is queued, then close. */
  leaving: boolean;
  /** Closed by the hub: stop at once. */
  dropped: boolean;
}

/** The set of connected clients and the relay between them. */
export class BroadcastHub {
  #options: BroadcastOptions;
  #limit: number;
  #limitBytes: number;
  #members = new Set<Member>();
  /** Senders waiting for room; called whenever a queue shrinks or a member leaves. */
  #roomWaiters: (() => void)[] = [];

  /** A hub with no clients yet; {@linkcode BroadcastHub.join} adds one. */
  constructor(options: BroadcastOptions) {
    this.#options = options;
    this.#limit = options.queue ?? DEFAULT_QUEUE;
    this.#limitBytes = options.queueBytes ?? DEFAULT_QUEUE_BYTES;
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
    const member: Member = {
      session,
      queue: new MessageQueue(),
      writing: 0,
      writingBytes: 0,
      stalledSince: 0,
      lagging: false,
      droppedMessages: 0,
      holdLogged: false,
      wake: null,
      leaving: false,
      dropped: false,
    };
    this.#members.add(member);
    log("verbose", `conn ${id}: joined (${this.#members.size} connected)`);
    // On stop, what is queued for a member is flushed, but a member that does not read gets
    // the same grace as a slow one, then is closed: a stop never waits on a client.
    let stopTimer: ReturnType<typeof setTimeout> | undefined;
    const onStop = () => {
      this.#leave(member);
      stopTimer = setTimeout(() => {
        if (member.queue.length + member.writing === 0) return;
        log("verbose", `conn ${id}: not reading while the server stops; closed with messages unsent`);
        member.dropped = true;
        conn.close();
      }, this.#options.grace ?? DEFAULT_GRACE_MS);
    };
    session.stopping.addEventListener("abort", onStop, { once: true });

    const writer = this.#drain(member);
    try {
      // Awaited before the next read: a sender waiting for room stops reading, and TCP
      // (or the unix socket buffer) slows the sending client down.
      await readMessages(conn, framing.decoder(maxFrame), async (received) => {
        if (member.leaving) return;
        const n = take ? take(received.length) : received.length;
        // Copied once, shared by every recipient: a small message must not pin a read buffer.
        // A message that is its whole buffer (a long one, joined by the decoder) is kept as is.
        const messages = received.slice(0, n).map((m) =>
          m.byteLength === m.buffer.byteLength ? m : m.slice()
        );
        // One read can decode more than a queue holds (thousands of short lines): admitted
        // in slices that fit, so a reader that keeps up always has room for the next one.
        for (let at = 0; at < messages.length && !member.leaving;) {
          let end = at;
          let bytes = 0;
          while (
            end < messages.length && end - at < this.#limit &&
            (end === at || bytes + messages[end].length <= this.#limitBytes)
          ) bytes += messages[end++].length;
          const slice = messages.slice(at, end);
          at = end;
          let wait;
          while (!member.leaving && (wait = this.#blocked(member, slice.length, bytes)) !== null) {
            await this.#roomOrTimeout(wait);
          }
          if (member.dropped) return;
          for (const other of this.#members) if (other !== member) this.#deliver(other, slice);
        }
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
    if (stopTimer !== undefined) clearTimeout(stopTimer);
  }

  #hasRoom(member: Member, count: number, bytes: number): boolean {
    const queued = member.queue.length + member.writing;
    const queuedBytes = member.queue.bytes + member.writingBytes;
    // An empty queue takes anything: a message larger than the byte limit still goes through.
    if (queued === 0) return true;
    return queued + count <= this.#limit && queuedBytes + bytes <= this.#limitBytes;
  }

  /**
   * How long `sender` must wait before every member that keeps up has room for `count`
   * messages of `bytes` (Infinity: until some queue shrinks), or null when it may deliver
   * now. A member full and stalled for the grace period gets the slow policy instead.
   * Synchronous on purpose: a batch that fits is delivered in the same tick it was read.
   */
  #blocked(sender: Member, count: number, bytes: number): number | null {
    const { slow = "disconnect", grace = DEFAULT_GRACE_MS } = this.#options;
    let wait: number | null = null;
    const now = Date.now();
    for (const other of this.#members) {
      if (other === sender || other.lagging || this.#hasRoom(other, count, bytes)) continue;
      const stalled = now - other.stalledSince;
      if (stalled < grace) {
        wait = Math.min(wait ?? Infinity, grace - stalled);
      } else if (slow === "block") {
        wait ??= Infinity;
        if (!other.holdLogged) {
          other.holdLogged = true;
          this.#options.log(
            "error",
            `conn ${other.session.id}: ${this.#tooSlow(other, count)}; holding senders (--slow block)`,
          );
        }
      } else {
        this.#slow(other, slow, count);
      }
    }
    return wait;
  }

  /** Resolve when some queue shrinks or a member leaves, or after `ms`. */
  #roomOrTimeout(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === Infinity ? undefined : setTimeout(resolve, ms);
      this.#roomWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #roomFreed(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Why `member` has no room for `count` more messages: the limit the batch would cross. */
  #tooSlow(member: Member, count: number): string {
    const over = member.queue.length + member.writing + count > this.#limit;
    return `too slow, ${over ? `${this.#limit} messages` : describeBytes(this.#limitBytes)} queued (--queue)`;
  }

  #slow(member: Member, policy: "disconnect" | "drop-oldest", count: number): void {
    const { log } = this.#options;
    if (policy === "drop-oldest") {
      log(
        "error",
        `conn ${member.session.id}: ${
          this.#tooSlow(member, count)
        }; dropping its oldest messages (--slow drop-oldest)`,
      );
      member.lagging = true;
      return;
    }
    log("error", `conn ${member.session.id}: ${this.#tooSlow(member, count)}; disconnected`);
    member.dropped = true;
    this.#leave(member);
    member.queue.clear();
    member.session.conn.close();
  }

  #deliver(member: Member, messages: Uint8Array[]): void {
    if (member.leaving) return;
    if (member.queue.length + member.writing === 0) member.stalledSince = Date.now();
    member.queue.push(messages);
    if (member.lagging) {
      // Room for the newest: the oldest queued go (the batch being written is on its way).
      while (
        member.queue.length > 1 &&
        (member.queue.length + member.writing > this.#limit ||
          member.queue.bytes + member.writingBytes > this.#limitBytes)
      ) {
        member.queue.dropOldest();
        member.droppedMessages++;
      }
    }
    member.wake?.();
  }

  #reportDropped(member: Member, why: string): void {
    if (member.droppedMessages === 0) return;
    this.#options.log(
      "error",
      `conn ${member.session.id}: ${why}; ${member.droppedMessages} messages dropped (--slow drop-oldest)`,
    );
    member.droppedMessages = 0;
  }

  #leave(member: Member): void {
    if (member.leaving) return;
    member.leaving = true;
    this.#members.delete(member);
    this.#options.log("verbose", `conn ${member.session.id}: left (${this.#members.size} connected)`);
    member.wake?.();
    this.#roomFreed();
  }

  /** Write the member's queue in bounded batches as it fills; after it leaves, flush and close. */
  async #drain(member: Member): Promise<void> {
    const { conn } = member.session;
    const { framing } = this.#options;
    try {
      while (!member.dropped) {
        if (member.queue.length === 0) {
          if (member.leaving) break;
          await new Promise<void>((resolve) => member.wake = resolve);
          member.wake = null;
          continue;
        }
        const before = member.queue.bytes;
        const batch = member.queue.take(WRITE_BATCH_BYTES);
        member.writing = batch.length;
        member.writingBytes = before - member.queue.bytes;
        const data = framing.encode(batch);
        for (let at = 0; at < data.length && !member.dropped;) {
          at += await conn.write(at === 0 ? data : data.subarray(at));
          member.stalledSince = Date.now();
          member.holdLogged = false;
        }
        member.writing = 0;
        member.writingBytes = 0;
        if (member.lagging && member.queue.length === 0) {
          member.lagging = false;
          this.#reportDropped(member, "caught up");
        }
        this.#roomFreed();
      }
    } catch (error) {
      if (!member.dropped && !isPeerGone(error)) {
        this.#options.log("error", `conn ${member.session.id}: ${(error as Error).message}`);
      }
      this.#leave(member);
    } finally {
      this.#reportDropped(member, "left");
      // Its reader may still be waiting for input: closing ends it.
      conn.close();
    }
  }
}

/** `16 MiB`, `512 KiB`, or `1000 bytes`: limits read back as they are usually written. */
function describeBytes(n: number): string {
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
