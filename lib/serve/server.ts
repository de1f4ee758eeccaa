/**
 * The accept loop every `serve` mode shares: concurrency limits, graceful stop, message
 * counting. What happens on a connection is the mode's business.
 *
 * @example A server that answers its first client, then stops (`count: 1`)
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { Server } from "./server.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/a.sock`);
 * const server = new Server(await listen(address), { log: () => {}, count: 1 });
 * const serving = server.run(async (session) => {
 *   await session.conn.write(new TextEncoder().encode("hi\n"));
 *   server.take(1);
 * });
 * const client = await connect(address);
 * const buffer = new Uint8Array(8);
 * const n = await client.read(buffer);
 * client.close();
 * await serving;
 * console.log(new TextDecoder().decode(buffer.subarray(0, n ?? 0))); // "hi\n"
 * ```
 * @module
 */
import type { Connection, Listener } from "../address/types.ts";
import { ShortageBackoff } from "./_shortage.ts";
import { describe, isPeerGone } from "../errors.ts";
import { formatMs, IdleTimer } from "../idle.ts";
import type { Log } from "../log.ts";

/** One accepted connection and its bookkeeping. */
export interface Session {
  /** Connection id: 1, 2, 3… in accept order. */
  readonly id: number;
  /** The accepted connection; the server closes it once the handler returns. */
  readonly conn: Connection;
  /** Aborted when the server stops: finish the current batch, then return. */
  readonly stopping: AbortSignal;
  /** True while a batch is being answered; idle connections are closed at once on stop. */
  busy: boolean;
  /**
   * Another connection that belongs to this session (a forwarded target): under
   * `--idle-timeout` its traffic keeps the session alive and it is closed with it.
   */
  watch(conn: Connection): Connection;
  /** Appended to the `conn N: closed` log line, e.g. byte totals. */
  closeNote?: string;
}

/** Options for {@linkcode Server}. */
export interface ServerOptions {
  /** Receives log lines; the caller decides where they go. */
  log: Log;
  /** Accept at most this many connections at once; more wait in the backlog. */
  maxConnections?: number;
  /** Stop after this many messages. */
  count?: number;
  /**
   * Accept this many connections, then stop listening and resolve once they are done
   * (`--once` is 1). Unlike a stop, the connections in flight are not cut short.
   */
  connections?: number;
  /** Close a connection after this many ms with no data either way (`--idle-timeout`). */
  idleTimeout?: number;
  /** Awaited before each accept: a mode that needs descriptors of its own keeps some free. */
  beforeAccept?: (stopping: AbortSignal) => Promise<void>;
  /** Logged once the limit is reached. @default {"--max-connections N reached; new connections wait"} */
  limitReached?: string;
}

/** Runs an accept loop and a handler per connection. */
export class Server {
  #listener: Listener;
  #options: ServerOptions;
  #stop = new AbortController();
  #sessions = new Set<Session>();
  #nextId = 1;
  #counted = 0;
  #slotFreed: (() => void) | null = null;
  #lastAccepted = false;

  /** Serve `listener` (owned from now on: {@linkcode Server.stop} closes it). */
  constructor(listener: Listener, options: ServerOptions) {
    this.#listener = listener;
    this.#options = options;
  }

  /** Aborted once the server is stopping. */
  get stopping(): AbortSignal {
    return this.#stop.signal;
  }

  /**
   * Count `n` received messages against `--count`: returns how many of them may still be
   * handled, and stops the server once the count is reached.
   */
  take(n: number): number {
    const { count } = this.#options;
    if (count === undefined) return n;
    const allowed = Math.max(0, Math.min(n, count - this.#counted));
    this.#counted += allowed;
    if (this.#counted >= count) queueMicrotask(() => this.stop());
    return allowed;
  }

  /** Stop accepting; close idle connections; busy ones close after their current batch. */
  stop(): void {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    this.#listener.close();
    for (const session of this.#sessions) if (!session.busy) session.conn.close();
    this.#slotFreed?.();
  }

  /** Accept until stopped; resolves once every connection's handler has returned. */
  async run(handle: (session: Session) => Promise<void>): Promise<void> {
    const { log, maxConnections, connections, idleTimeout } = this.#options;
    const running = new Set<Promise<void>>();
    let waitingLogged = false;
    // Out of descriptors, the pending clients wait in the backlog; connections already open
    // keep being served meanwhile.
    const accepting = new ShortageBackoff({
      log,
      failed: "accept failed",
      waiting: "new connections wait",
      recovered: "accepting connections again",
    });
    while (!this.#stop.signal.aborted) {
      if (maxConnections !== undefined && this.#sessions.size >= maxConnections) {
        if (!waitingLogged) {
          log(
            "info",
            this.#options.limitReached ?? `--max-connections ${maxConnections} reached; new connections wait`,
          );
          waitingLogged = true;
        }
        await new Promise<void>((resolve) => this.#slotFreed = resolve);
        this.#slotFreed = null;
        continue;
      }
      waitingLogged = false;
      await this.#options.beforeAccept?.(this.#stop.signal);
      if (this.#stop.signal.aborted) break;
      let conn: Connection | undefined;
      try {
        conn = await accepting.run(() => this.#listener.accept(), this.#stop.signal);
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) break;
        // A client that connected and reset before we got to it: its failure is its own,
        // and the next client must not wait for it.
        log("verbose", `a client left before its connection was accepted (${plain(error)})`);
        continue;
      }
      if (conn === undefined) break;
      const id = this.#nextId++;
      const idle = idleTimeout === undefined ? undefined : new IdleTimer(idleTimeout);
      const session: Session = {
        id,
        conn: idle ? idle.watch(conn) : conn,
        stopping: this.#stop.signal,
        busy: false,
        watch: (other) => idle ? idle.watch(other) : other,
      };
      this.#sessions.add(session);
      log("verbose", `conn ${session.id}: open from ${conn.peer}`);
      // The last connection --once/--connections allows: stop listening (the socket file
      // goes), and end once it is done.
      if (connections !== undefined && id >= connections) {
        this.#listener.close();
        this.#lastAccepted = true;
      }
      const done = handle(session)
        .catch((error) => {
          // Whatever the mode was waiting on when the clock ran out, the end is the timeout.
          if (idle?.expired) return;
          // A peer leaving is its right: information, not an error.
          if (isPeerGone(error)) log("verbose", `conn ${session.id}: client went away (${plain(error)})`);
          // stop() closed this idle connection under its pending read: the stop ended it.
          else if (this.#stop.signal.aborted && error instanceof Deno.errors.Interrupted) return;
          else log("error", `conn ${session.id}: ${describe(error)}`);
        })
        .finally(() => {
          idle?.[Symbol.dispose]();
          session.conn.close();
          this.#sessions.delete(session);
          running.delete(done);
          const why = idle?.expired ? ` after ${formatMs(idleTimeout!)} with no data (--idle-timeout)` : "";
          const note = session.closeNote ? `; ${session.closeNote}` : "";
          log("verbose", `conn ${session.id}: closed${why}${note}`);
          this.#slotFreed?.();
        });
      running.add(done);
      if (this.#lastAccepted) break;
    }
    await Promise.all(running);
  }
}

/** An OS error's words without the "(os error 32)" debug suffix, in lower case. */
function plain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const words = message.replace(/\s*\(os error \d+\)/, "");
  return words.charAt(0).toLowerCase() + words.slice(1);
}
