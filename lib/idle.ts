/**
 * `--idle-timeout`: end a connection (or a pair of them) after a stretch with no data in
 * either direction, as socat `-T` and nc `-w` do.
 *
 * @example Close a connection nobody talks on for 50 ms
 * ```ts
 * import { connect, listen, parseAddress } from "./address/mod.ts";
 * import { TimeoutError } from "./errors.ts";
 * import { IdleTimer } from "./idle.ts";
 *
 * const listener = await listen(parseAddress("tcp:127.0.0.1:0"));
 * const accepting = listener.accept();
 * using idle = new IdleTimer(50, () => console.log("idle for 50 ms"));
 * const conn = idle.watch(await connect(parseAddress(listener.address)));
 * const silent = await accepting;
 * const read = await conn.read(new Uint8Array(16)).catch((error) => error);
 * console.log(read instanceof TimeoutError); // true: rejected after 50 ms of silence
 * silent.close();
 * listener.close();
 * ```
 * @module
 */
import type { Connection } from "./address/types.ts";
import { TimeoutError } from "./errors.ts";

/**
 * One clock for one or more connections: every read that returns data and every write
 * restarts it. When it runs out, `onIdle` is called once, every watched connection is
 * closed, and their pending reads and writes reject with a {@linkcode TimeoutError}.
 */
export class IdleTimer implements Disposable {
  #ms: number;
  #onIdle: () => void;
  #last = Date.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #watched: Connection[] = [];
  #expired = false;

  /** Start the clock: `onIdle` runs after `ms` with no data. */
  constructor(ms: number, onIdle: () => void = () => {}) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    this.#arm(ms);
  }

  /** True once the timer ran out. */
  get expired(): boolean {
    return this.#expired;
  }

  /** The error a watched connection's pending call rejects with once expired. */
  get error(): IdleTimeoutError {
    return new IdleTimeoutError(this.#ms);
  }

  /** Note activity that does not pass through a watched connection. */
  touch(): void {
    this.#last = Date.now();
  }

  /** `conn`, with its traffic restarting the clock, closed when the clock runs out. */
  watch(conn: Connection): Connection {
    this.#watched.push(conn);
    if (this.#expired) conn.close();
    return new IdleWatchedConnection(conn, this);
  }

  /** Stop the clock; watched connections stay open. */
  [Symbol.dispose](): void {
    // A reset per chunk would be a clearTimeout per chunk: the timer instead checks the
    // last activity when it fires and sleeps for the rest.
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => {
      const quiet = Date.now() - this.#last;
      if (quiet < this.#ms) return this.#arm(this.#ms - quiet);
      this.#timer = undefined;
      this.#expired = true;
      this.#onIdle();
      for (const conn of this.#watched) {
        try {
          void Promise.resolve(conn.close()).catch(() => {});
        } catch {
          // Already closed.
        }
      }
    }, ms);
  }
}

/** `--idle-timeout` ran out (exit 124 where a command exits). */
export class IdleTimeoutError extends TimeoutError {
  /** Class name, as in stack traces. */
  override name = "IdleTimeoutError";
  /** The `--idle-timeout` that ran out, in milliseconds. */
  readonly ms: number;
  /** `subject` names what went quiet, as the message's first words. */
  constructor(ms: number, subject?: string) {
    const why = `no data either way for ${formatMs(ms)}`;
    super(subject === undefined ? why : `${subject}: ${why}`, "raise --idle-timeout");
    this.ms = ms;
  }

  /** The same timeout, naming what went quiet: `unix:/tmp/a.sock: no data either way for 5s`. */
  on(subject: string): IdleTimeoutError {
    return new IdleTimeoutError(this.ms, subject);
  }
}

/** A connection whose traffic restarts an {@linkcode IdleTimer}. */
class IdleWatchedConnection implements Connection {
  #inner: Connection;
  #idle: IdleTimer;
  readView?: () => Promise<Uint8Array | null>;

  constructor(inner: Connection, idle: IdleTimer) {
    this.#inner = inner;
    this.#idle = idle;
    // Only where the inner one has it: the relay picks its zero-copy path by its presence.
    if (inner.readView) {
      const readView = inner.readView.bind(inner);
      this.readView = () => readView().then((view) => (view && this.#idle.touch(), view), this.#failed);
    }
  }

  #failed = (error: unknown): never => {
    throw this.#idle.expired ? this.#idle.error : error;
  };

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#inner.read(buffer).then((n) => (n && this.#idle.touch(), n), this.#failed);
  }
  write(data: Uint8Array): Promise<number> {
    return this.#inner.write(data).then((n) => (this.#idle.touch(), n), this.#failed);
  }
  closeWrite(): Promise<void> {
    return this.#inner.closeWrite().catch(this.#failed);
  }
  close(): void | Promise<void> {
    return this.#inner.close();
  }
  get peer(): string {
    return this.#inner.peer;
  }
  get wire(): Connection["wire"] {
    return this.#inner.wire;
  }
}

/** `5s`, `250ms`, `2m`: as a user would write it. */
export function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
