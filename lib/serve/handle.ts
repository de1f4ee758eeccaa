/**
 * `serve --handle CMD`: every message runs CMD with the message on its stdin, and CMD's
 * stdout is the reply. Replies keep request order per connection; at most `jobs` handlers
 * run at once across connections; messages wait for a slot, they are never dropped.
 *
 * @example
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { HandlerService } from "./handle.ts";
 * import { Server } from "./server.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/a.sock`);
 * const server = new Server(await listen(address), { log: () => {}, count: 1 });
 * const handlers = new HandlerService({
 *   argv: ["/usr/bin/tr", "a-z", "A-Z"],
 *   framing: parseFraming("lines"),
 *   maxFrame: 1024,
 *   jobs: 4,
 *   log: () => {},
 *   take: (n) => server.take(n),
 * });
 * const serving = server.run((session) => handlers.serve(session));
 * const client = await connect(address);
 * await client.write(new TextEncoder().encode("hi\n"));
 * const buffer = new Uint8Array(8);
 * const n = await client.read(buffer);
 * console.log(new TextDecoder().decode(buffer.subarray(0, n ?? 0))); // "HI\n"
 * client.close();
 * await serving;
 * ```
 * @module
 */
import { Child, describeStatus, forwardLines } from "../process/child.ts";
import { DescriptorReserve, ShortageBackoff, shortageOf } from "./_shortage.ts";
import { Slots } from "./_slots.ts";
import { concatBytes } from "../bytes.ts";
import { FrameError } from "../errors.ts";
import type { Framing } from "../framing/types.ts";
import { readMessages, writeAll } from "../messages.ts";
import { isPeerGone } from "../errors.ts";
import type { LogLevel } from "../log.ts";
import type { Session } from "./server.ts";

/** Options for {@linkcode HandlerService}. */
export interface HandlerOptions {
  /** The handler's argv, `argv[0]` already resolved (see `parseProgram`). */
  argv: readonly string[];
  /** How messages and replies are framed. */
  framing: Framing;
  /** Largest message accepted, and largest reply sent. */
  maxFrame: number;
  /** Handlers running at once, across all connections. */
  jobs: number;
  /** Terminate a handler running longer than this many milliseconds. */
  timeout?: number;
  /** Diagnostics for stderr, e.g. a handler's failure. */
  log: (level: LogLevel, line: string) => void;
  /** Admit `n` messages against `--count`; returns how many may be handled. */
  take?: (n: number) => number;
}

/** What one handler run produced: the framed reply, or why the connection must close. */
export type Outcome = { wire: Uint8Array } | { fatal: string } | { skipped: true };

/** Most messages of one connection in flight (read, not yet answered). */
const MIN_WINDOW = 64;

/** Enough descriptors for one handler to start: its three pipes, both ends, and spawn's own. */
const RESERVED_FDS = 12;

/** Options for {@linkcode OrderedReplies}. */
export interface OrderedRepliesOptions {
  /** Write one batch of framed replies. */
  write: (wire: Uint8Array) => Promise<void>;
  /** After each write: how many replies it carried. */
  written?: (replies: number) => void;
  /** Every place so far is written, and more may come. */
  drained?: () => void;
}

/**
 * One connection's replies, written in request order though handlers finish in any order:
 * each request takes its place with {@linkcode OrderedReplies.add}, and the replies settled
 * at the head of the line go out together, in one write.
 *
 * @example
 * ```ts
 * import { OrderedReplies } from "./handle.ts";
 *
 * const te = new TextEncoder();
 * const writes: string[] = [];
 * const replies = new OrderedReplies({
 *   write: (wire) => Promise.resolve(void writes.push(new TextDecoder().decode(wire))),
 * });
 * const first = replies.add(), second = replies.add();
 * second({ wire: te.encode("b\n") });
 * first({ wire: te.encode("a\n") });
 * replies.end();
 * await replies.run(new AbortController().signal);
 * console.log(writes); // ["a\nb\n"]: a then b, in one write
 * ```
 */
export class OrderedReplies {
  #options: OrderedRepliesOptions;
  #queue: { outcome: Outcome | null }[] = [];
  #ended = false;
  #wake: (() => void) | null = null;

  /** Replies are written through `options.write` once {@linkcode OrderedReplies.run} runs. */
  constructor(options: OrderedRepliesOptions) {
    this.#options = options;
  }

  /** Places taken and not yet written. */
  get length(): number {
    return this.#queue.length;
  }

  /** Take the next place in line; the returned function settles it. */
  add(): (outcome: Outcome) => void {
    const entry: { outcome: Outcome | null } = { outcome: null };
    this.#queue.push(entry);
    return (outcome) => {
      entry.outcome = outcome;
      this.wake();
    };
  }

  /** No place will be added: {@linkcode OrderedReplies.run} returns once the line is empty. */
  end(): void {
    this.#ended = true;
    this.wake();
  }

  /** Let `run` look again (after `signal` aborts, or a change it waits for). */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Write replies in order until the line is empty after `end()`, `signal` aborts (call
   * `wake()` then), or a place settles as fatal: resolves to that reason, which nothing
   * after it is written past. A failed write rejects.
   */
  async run(signal: AbortSignal): Promise<string | undefined> {
    const queue = this.#queue;
    while (!signal.aborted) {
      const ready: Uint8Array[] = [];
      let fatal: string | undefined;
      while (queue.length > 0 && queue[0].outcome) {
        const outcome = queue.shift()!.outcome!;
        if ("wire" in outcome) ready.push(outcome.wire);
        else if ("fatal" in outcome) {
          fatal = outcome.fatal;
          break;
        }
      }
      if (ready.length > 0) {
        await this.#options.write(concatBytes(ready));
        this.#options.written?.(ready.length);
      }
      if (fatal !== undefined) return fatal;
      if (queue.length === 0) {
        if (this.#ended) return undefined;
        this.#options.drained?.();
      }
      if (ready.length === 0) {
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = null;
      }
    }
    return undefined;
  }
}

/** Options for {@linkcode HandlerRunner}: {@linkcode HandlerOptions} but `take`, which is about reading. */
export type HandlerRunnerOptions = Omit<HandlerOptions, "take">;

/**
 * Runs the handler for one message, at most `jobs` at once across calls, and turns its
 * stdout into the framed reply. Shared by every connection of a server.
 */
export class HandlerRunner {
  #options: HandlerRunnerOptions;
  #jobs: Slots;
  #spawning: ShortageBackoff;
  /** Descriptors held back so a handler can start when connections took the rest. */
  readonly reserve = new DescriptorReserve(RESERVED_FDS);

  /** One runner per server: `options.jobs` bounds its handlers across connections. */
  constructor(options: HandlerRunnerOptions) {
    this.#options = options;
    this.#jobs = new Slots(options.jobs);
    // Out of descriptors or processes, a message waits for them like it waits for a job
    // slot: answering it with a closed connection would break the promise never to drop one.
    this.#spawning = new ShortageBackoff({
      log: options.log,
      failed: "cannot start handler",
      waiting: "messages wait",
      recovered: "starting handlers again",
    });
  }

  /** Give back the descriptors held in reserve. */
  close(): void {
    this.reserve.release();
  }

  /** Run the handler once for `input`, holding a job slot; `dead` cancels it. */
  async run(
    input: Uint8Array,
    env: Record<string, string>,
    id: number,
    dead: AbortSignal,
  ): Promise<Outcome> {
    await this.#jobs.acquire();
    try {
      if (dead.aborted) return { skipped: true };
      return await this.#spawn(input, env, id, dead);
    } finally {
      this.#jobs.release();
    }
  }

  async #spawn(
    input: Uint8Array,
    env: Record<string, string>,
    id: number,
    dead: AbortSignal,
  ): Promise<Outcome> {
    const { argv, maxFrame, log, timeout, framing } = this.#options;
    let started: Child | undefined;
    try {
      started = await this.#spawning.run(() => {
        try {
          return new Child(argv, { env });
        } catch (error) {
          // Connections have the rest: the reserve lets this message be answered, freeing its.
          if (shortageOf(error) === null || !this.reserve.release()) throw error;
          return new Child(argv, { env });
        }
      }, dead);
    } catch (error) {
      return { fatal: `cannot start handler: ${(error as Error).message}` };
    }
    if (started === undefined) return { skipped: true };
    const child = started;
    const onDead = () => child.terminate("client gone");
    dead.addEventListener("abort", onDead, { once: true });
    const timer = timeout === undefined ? undefined : setTimeout(() => {
      log("error", `conn ${id}: handler (pid ${child.pid}) ran longer than ${timeout}ms; terminating it`);
      child.terminate("timeout");
    }, timeout);
    const { stdin, stdout, stderr } = child.process;
    const fed = (async () => {
      const writer = stdin.getWriter();
      try {
        await writer.write(input);
        await writer.close();
      } catch {
        // The handler closed its stdin or exited without reading it all: its choice.
        await writer.abort().catch(() => {});
      }
    })();
    const errors = forwardLines(stderr, (line) => log("error", `conn ${id}: ${line}`));
    const output = await readAtMost(stdout, maxFrame + framing.replyOverhead);
    if (output === null) child.terminate("reply too large");
    const status = await child.status;
    if (timer !== undefined) clearTimeout(timer);
    dead.removeEventListener("abort", onDead);
    await Promise.all([fed, errors]);
    this.reserve.fill();
    if (!child.terminated && !status.success) {
      log("error", `conn ${id}: handler (pid ${child.pid}) ${describeStatus(status)}`);
    }
    return output === null ? tooLarge(maxFrame) : this.#frame(output);
  }

  /** The reply as it goes on the wire, as the framing makes one of the handler's stdout. */
  #frame(output: Uint8Array): Outcome {
    const { framing, maxFrame } = this.#options;
    let wire: Uint8Array | null;
    try {
      wire = framing.reply(output, maxFrame);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      return { fatal: `handler reply is ${error.reason}; closing` };
    }
    return wire === null ? tooLarge(maxFrame) : { wire };
  }
}

function tooLarge(maxFrame: number): Outcome {
  return { fatal: `handler reply is larger than --max-frame (${maxFrame} bytes); not sent, closing` };
}

/** Runs `--handle` connections; one instance is shared by every connection of a server. */
export class HandlerService {
  #options: HandlerOptions;
  #runner: HandlerRunner;

  /** One service per server; {@linkcode HandlerService.serve} each of its sessions. */
  constructor(options: HandlerOptions) {
    this.#options = options;
    this.#runner = new HandlerRunner(options);
  }

  /** Resolves when a handler could start: the accept loop waits for it before taking a descriptor. */
  descriptorsReady(signal?: AbortSignal): Promise<void> {
    return this.#runner.reserve.whenFull(signal);
  }

  /** Give back the descriptors held in reserve. */
  close(): void {
    this.#runner.close();
  }

  /** Serve one connection until its EOF (every message answered), the server stops, or it breaks. */
  async serve(session: Session): Promise<void> {
    const { framing, maxFrame, log, take } = this.#options;
    const { conn, id } = session;
    // This mode closes its own connection on stop, once the replies in flight are written.
    session.busy = true;
    const dead = new AbortController();
    const window = new Slots(Math.max(MIN_WINDOW, 2 * this.#options.jobs));
    const runs = new Set<Promise<void>>();
    const env = {
      IPCAT_CONN: String(id),
      IPCAT_PEER: conn.peer,
      IPCAT_FRAMING: framing.name,
      ...conn.env,
    };
    let inBatch = false;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      conn.close();
    };
    const closeIfDrained = () => {
      if (session.stopping.aborted && !inBatch && replies.length === 0) close();
    };
    const replies = new OrderedReplies({
      write: (wire) => writeAll(conn, wire),
      written: (n) => window.release(n),
      drained: closeIfDrained,
    });
    const kill = (why?: string) => {
      if (dead.signal.aborted) return;
      if (why) log("verbose", `conn ${id}: ${why}`);
      dead.abort();
      window.close();
      close();
      replies.wake();
    };
    session.stopping.addEventListener("abort", closeIfDrained);

    const writer = replies.run(dead.signal).then((fatal) => {
      if (fatal === undefined) return;
      log("error", `conn ${id}: ${fatal}`);
      kill("closed after a bad reply");
    }, (error) => {
      if (!isPeerGone(error) && !closed) {
        // Ends this connection now (a datagram session would read on); the error is its end.
        kill();
        throw error;
      }
      kill("client went away before its replies");
    });
    // Awaited below, once reading ends; until then a failed write must not count as unhandled.
    writer.catch(() => {});

    try {
      await readMessages(conn, framing.decoder(maxFrame), async (messages) => {
        const admitted = take ? take(messages.length) : messages.length;
        for (let i = 0; i < admitted; i++) {
          await window.acquire();
          if (dead.signal.aborted) return;
          const settle = replies.add();
          const run: Promise<void> = this.#runner.run(messages[i], env, id, dead.signal)
            .then(settle, (error) => settle({ fatal: String(error) }))
            .then(() => void runs.delete(run));
          runs.add(run);
        }
      }, {
        signal: session.stopping,
        onBusy: (busy) => {
          inBatch = busy;
          if (!busy) closeIfDrained();
        },
      });
    } catch (error) {
      if (!closed && !dead.signal.aborted) {
        if (!isPeerGone(error)) {
          kill("bad input");
          await Promise.all(runs);
          await writer.catch(() => {});
          throw error;
        }
        kill("client went away");
      }
    } finally {
      session.stopping.removeEventListener("abort", closeIfDrained);
      replies.end();
    }
    try {
      await writer;
    } finally {
      kill();
      await Promise.all(runs);
    }
  }
}

/** Read `stream` to EOF; null (and the stream cancelled) once it exceeds `limit` bytes. */
async function readAtMost(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } catch {
    // The pipe broke: the reply is what arrived.
  } finally {
    reader.releaseLock();
  }
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks, total);
}
