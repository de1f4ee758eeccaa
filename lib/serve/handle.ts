/**
 * `serve --handle CMD`: every message runs CMD with the message on its stdin, and CMD's
 * stdout is the reply. Replies keep request order per connection; at most `jobs` handlers
 * run at once across connections; messages wait for a slot, they are never dropped.
 *
 * @example
 * ```ts
 * const handlers = new HandlerService({ argv: ["/usr/bin/tr", "a-z", "A-Z"], framing, maxFrame, jobs: 4, log });
 * await server.run((session) => handlers.serve(session));
 * ```
 * @module
 */
import { Child, describeStatus, forwardLines } from "../process/child.ts";
import { DescriptorReserve, ShortageBackoff, shortageOf } from "./_shortage.ts";
import { Slots } from "./_slots.ts";
import { concatBytes } from "../bytes.ts";
import type { Framing } from "../framing/types.ts";
import { readMessages, writeAll } from "../messages.ts";
import { isPeerGone } from "../errors.ts";
import type { LogLevel } from "../log.ts";
import type { Session } from "./server.ts";

/** Options for {@linkcode HandlerService}. */
export interface HandlerOptions {
  /** The handler's argv, `argv[0]` already resolved (see `parseProgram`). */
  argv: readonly string[];
  framing: Framing;
  /** Largest message accepted, and largest reply sent. */
  maxFrame: number;
  /** Handlers running at once, across all connections. */
  jobs: number;
  /** Terminate a handler running longer than this many milliseconds. */
  timeout?: number;
  log: (level: LogLevel, line: string) => void;
  /** Admit `n` messages against `--count`; returns how many may be handled. */
  take?: (n: number) => number;
}

/** What one handler run produced: the framed reply, or why the connection must close. */
type Outcome = { wire: Uint8Array } | { fatal: string } | { skipped: true };

interface Pending {
  outcome: Outcome | null;
}

/** Most messages of one connection in flight (read, not yet answered). */
const MIN_WINDOW = 64;

const NL = 0x0a;

/** Enough descriptors for one handler to start: its three pipes, both ends, and spawn's own. */
const RESERVED_FDS = 12;

/** Runs `--handle` connections; one instance is shared by every connection of a server. */
export class HandlerService {
  #options: HandlerOptions;
  #jobs: Slots;
  #spawning: ShortageBackoff;
  #reserve = new DescriptorReserve(RESERVED_FDS);

  constructor(options: HandlerOptions) {
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

  /** Resolves when a handler could start: the accept loop waits for it before taking a descriptor. */
  descriptorsReady(signal?: AbortSignal): Promise<void> {
    return this.#reserve.whenFull(signal);
  }

  /** Give back the descriptors held in reserve. */
  close(): void {
    this.#reserve.release();
  }

  /** Serve one connection until its EOF (every message answered), the server stops, or it breaks. */
  async serve(session: Session): Promise<void> {
    const { framing, maxFrame, log, take } = this.#options;
    const { conn, id } = session;
    // This mode closes its own connection on stop, once the replies in flight are written.
    session.busy = true;
    const dead = new AbortController();
    const window = new Slots(Math.max(MIN_WINDOW, 2 * this.#options.jobs));
    const pending: Pending[] = [];
    const runs = new Set<Promise<void>>();
    const env = {
      IPCAT_CONN: String(id),
      IPCAT_PEER: conn.peer,
      IPCAT_FRAMING: framing.name,
    };
    let inBatch = false;
    let readerDone = false;
    let wake: (() => void) | null = null;
    const notify = () => wake?.();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      conn.close();
    };
    const kill = (why?: string) => {
      if (dead.signal.aborted) return;
      if (why) log("verbose", `conn ${id}: ${why}`);
      dead.abort();
      window.close();
      close();
      notify();
    };
    const closeIfDrained = () => {
      if (session.stopping.aborted && !inBatch && pending.length === 0) close();
    };
    session.stopping.addEventListener("abort", closeIfDrained);

    const writer = (async () => {
      while (!dead.signal.aborted) {
        const ready: Uint8Array[] = [];
        let fatal: string | null = null;
        while (pending.length > 0 && pending[0].outcome) {
          const outcome = pending.shift()!.outcome!;
          if ("wire" in outcome) ready.push(outcome.wire);
          else if ("fatal" in outcome) {
            fatal = outcome.fatal;
            break;
          }
        }
        if (ready.length > 0) {
          try {
            await writeAll(conn, concatBytes(ready));
          } catch (error) {
            if (!isPeerGone(error) && !closed) throw error;
            kill("client went away before its replies");
            return;
          }
          window.release(ready.length);
        }
        if (fatal) {
          log("error", `conn ${id}: ${fatal}`);
          kill("closed after a bad reply");
          return;
        }
        if (pending.length === 0) {
          if (readerDone) return;
          closeIfDrained();
        }
        if (ready.length === 0) {
          await new Promise<void>((resolve) => wake = resolve);
          wake = null;
        }
      }
    })();

    try {
      await readMessages(conn, framing.decoder(maxFrame), async (messages) => {
        const admitted = take ? take(messages.length) : messages.length;
        for (let i = 0; i < admitted; i++) {
          await window.acquire();
          if (dead.signal.aborted) return;
          const entry: Pending = { outcome: null };
          pending.push(entry);
          const run: Promise<void> = this.#run(messages[i], env, id, dead.signal)
            .then((outcome) => entry.outcome = outcome, (error) => entry.outcome = { fatal: String(error) })
            .then(() => {
              runs.delete(run);
              notify();
            });
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
      readerDone = true;
      session.stopping.removeEventListener("abort", closeIfDrained);
      notify();
    }
    try {
      await writer;
    } finally {
      kill();
      await Promise.all(runs);
    }
  }

  /** Run the handler once for `input`, holding a job slot. */
  async #run(
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
          if (shortageOf(error) === null || !this.#reserve.release()) throw error;
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
    const limit = maxFrame + (framing.name === "lines" ? 1 : 0);
    const output = await readAtMost(stdout, limit);
    if (output === null) child.terminate("reply too large");
    const status = await child.status;
    if (timer !== undefined) clearTimeout(timer);
    dead.removeEventListener("abort", onDead);
    await Promise.all([fed, errors]);
    this.#reserve.fill();
    if (!child.terminated && !status.success) {
      log("error", `conn ${id}: handler (pid ${child.pid}) ${describeStatus(status)}`);
    }
    if (output === null) {
      return { fatal: `handler reply is larger than --max-frame (${maxFrame} bytes); not sent, closing` };
    }
    return this.#frame(output);
  }

  /** The reply as it goes on the wire. */
  #frame(output: Uint8Array): Outcome {
    const { framing, maxFrame } = this.#options;
    if (framing.name === "lines") {
      // One trailing newline is the line's own; a reply of several lines stays several lines.
      if (output.length > 0 && output[output.length - 1] === NL) return { wire: output };
      if (output.length >= maxFrame + 1) {
        return { fatal: `handler reply is larger than --max-frame (${maxFrame} bytes); not sent, closing` };
      }
      return { wire: concatBytes([output, new Uint8Array([NL])]) };
    }
    if (framing.name === "msgpack") {
      // Self-delimiting: anything but exactly one value would desynchronise the client.
      let values = 0;
      try {
        const decoder = framing.decoder(maxFrame);
        values = decoder.push(output).length + decoder.end().length;
      } catch {
        values = -1;
      }
      if (values !== 1) return { fatal: "handler reply is not exactly one MessagePack value; closing" };
    }
    return { wire: framing.encode([output]) };
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
