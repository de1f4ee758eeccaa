/**
 * The accept loop every `serve` mode shares: concurrency limits, graceful stop, message
 * counting. What happens on a connection is the mode's business.
 *
 * @example
 * ```ts
 * const server = new Server(listener, { log: () => {} });
 * await server.run(async (session) => { session.conn.close(); });
 * ```
 * @module
 */
import type { Connection, Listener } from "./address/types.ts";

/** One accepted connection and its bookkeeping. */
export interface Session {
  /** Connection id: 1, 2, 3… in accept order. */
  readonly id: number;
  readonly conn: Connection;
  /** Aborted when the server stops: finish the current batch, then return. */
  readonly stopping: AbortSignal;
  /** True while a batch is being answered; idle connections are closed at once on stop. */
  busy: boolean;
}

/** What a server reports to its log. */
export type LogLevel = "error" | "info" | "verbose";

/** Options for {@linkcode Server}. */
export interface ServerOptions {
  /** Receives log lines; the caller decides where they go. */
  log: (level: LogLevel, line: string) => void;
  /** Accept at most this many connections at once; more wait in the backlog. */
  maxConnections?: number;
  /** Stop after this many messages. */
  count?: number;
}

/** Backoff while out of file descriptors. */
const ACCEPT_BACKOFF_MS = 100;

/** Runs an accept loop and a handler per connection. */
export class Server {
  #listener: Listener;
  #options: ServerOptions;
  #stop = new AbortController();
  #sessions = new Set<Session>();
  #nextId = 1;
  #counted = 0;
  #slotFreed: (() => void) | null = null;

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
    const { log, maxConnections } = this.#options;
    const running = new Set<Promise<void>>();
    let waitingLogged = false;
    let acceptFailing = false;
    while (!this.#stop.signal.aborted) {
      if (maxConnections !== undefined && this.#sessions.size >= maxConnections) {
        if (!waitingLogged) {
          log("info", `--max-connections ${maxConnections} reached; new connections wait`);
          waitingLogged = true;
        }
        await new Promise<void>((resolve) => this.#slotFreed = resolve);
        this.#slotFreed = null;
        continue;
      }
      waitingLogged = false;
      let conn: Connection;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) break;
        // EMFILE and friends: wait for descriptors to free up rather than die. One line per
        // episode: the pending clients wait in the backlog meanwhile.
        if (!acceptFailing) {
          log("error", `accept failed: ${(error as Error).message}; retrying every ${ACCEPT_BACKOFF_MS}ms`);
          acceptFailing = true;
        }
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_BACKOFF_MS));
        continue;
      }
      if (acceptFailing) {
        log("info", "accepting connections again");
        acceptFailing = false;
      }
      const session: Session = { id: this.#nextId++, conn, stopping: this.#stop.signal, busy: false };
      this.#sessions.add(session);
      log("verbose", `conn ${session.id}: open from ${conn.peer}`);
      const done = handle(session)
        .catch((error) => log("error", `conn ${session.id}: ${describe(error)}`))
        .finally(() => {
          conn.close();
          this.#sessions.delete(session);
          running.delete(done);
          log("verbose", `conn ${session.id}: closed`);
          this.#slotFreed?.();
        });
      running.add(done);
    }
    await Promise.all(running);
  }
}

/** One-line description of an error for logs. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const hint = (error as { hint?: string }).hint;
    return hint ? `${error.message} (${hint})` : error.message;
  }
  return String(error);
}
