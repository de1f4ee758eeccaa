/**
 * `serve`'s default and `--echo` modes: every message a client sends, counted against
 * `--count`, is printed to stdout (the sink) or written back to its sender (echo).
 *
 * @example
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { Server } from "./server.ts";
 * import { Sink } from "./sink.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/a.sock`);
 * const server = new Server(await listen(address), { log: () => {}, count: 2 });
 * const printed: string[] = [];
 * const sink = new Sink(server, {
 *   framing: parseFraming("lines"),
 *   maxFrame: 1024,
 *   format: (messages) => new TextEncoder().encode(messages.map((m) => new TextDecoder().decode(m)).join(",")),
 *   stdout: { writeSync: (data) => printed.push(new TextDecoder().decode(data)) && data.length },
 *   log: () => {},
 * });
 * const serving = server.run((session) => sink.serve(session));
 * const client = await connect(address);
 * await client.write(new TextEncoder().encode("a\nb\n"));
 * await serving; // `count: 2` reached
 * client.close();
 * console.log(printed.join("")); // "a,b" (or "a" then "b", as the reads fell)
 * ```
 * @module
 */
import type { Framing } from "../framing/types.ts";
import type { Log } from "../log.ts";
import { readMessages, writeAll, writeAllSync } from "../messages.ts";
import type { Server, Session } from "./server.ts";

/** Options for {@linkcode Sink}. */
export interface SinkOptions {
  /** How messages are framed. */
  framing: Framing;
  /** Largest message accepted. */
  maxFrame: number;
  /** Messages as printed: the `-e` encoding, one per line where it has lines. */
  format: (messages: Uint8Array[]) => Uint8Array;
  /** Where printed messages go. */
  stdout: { writeSync(data: Uint8Array): number };
  /** Diagnostics for stderr. */
  log: Log;
  /** Reply to each message with itself instead of printing it. @default {false} */
  echo?: boolean;
}

/** Prints (or echoes) what each session receives; see the module doc. */
export class Sink {
  #server: Pick<Server, "take" | "stop">;
  #options: SinkOptions;
  #outputFailed = false;

  /** `server` is asked to admit messages against `--count` and is stopped when it is reached. */
  constructor(server: Pick<Server, "take" | "stop">, options: SinkOptions) {
    this.#server = server;
    this.#options = options;
  }

  /**
   * True once stdout refused data for a reason other than its reader leaving (a full disk,
   * /dev/full): messages were taken from their senders and lost, so the run failed.
   */
  get outputFailed(): boolean {
    return this.#outputFailed;
  }

  /** Receive `session`'s messages until it ends or the server stops. */
  async serve(session: Session): Promise<void> {
    const { framing, maxFrame, echo } = this.#options;
    const { conn } = session;
    const server = this.#server;
    const onBusy = (busy: boolean) => session.busy = busy;
    await readMessages(conn, framing.decoder(maxFrame), async (received) => {
      const allowed = server.take(received.length);
      const messages = allowed < received.length ? received.slice(0, allowed) : received;
      if (messages.length === 0) return;
      if (echo) await writeAll(conn, framing.encode(messages));
      else if (!this.#print(messages)) server.stop();
    }, { signal: session.stopping, onBusy });
  }

  /**
   * stdout closed (`ipcat serve S | head -1`): stop like a sink whose reader left, exit 0.
   * stdout that cannot take the data stops the same way, but is a failure (exit 1).
   */
  #print(messages: Uint8Array[]): boolean {
    const { format, stdout, log } = this.#options;
    try {
      writeAllSync(stdout, format(messages));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) log("verbose", "stdout closed; stopping");
      else if (!this.#outputFailed) {
        this.#outputFailed = true;
        const why = error instanceof Error ? error.message.replace(/ \(os error \d+\)$/, "") : String(error);
        log(
          "error",
          `Cannot write to stdout: ${why.charAt(0).toLowerCase()}${
            why.slice(1)
          } (stopped; the messages from there on were not printed)`,
        );
      }
      return false;
    }
  }
}
