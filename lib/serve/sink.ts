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
import { LineCounter } from "../framing/lines.ts";
import type { FrameDecoder, Framing } from "../framing/types.ts";
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
  /**
   * The framing's wire form is its text form (`wireIsText`) and `format` prints a message as
   * that form (`-e text`): lines pass as the bytes they came in, counted, never split into
   * messages. @default {false}
   */
  linesAsBytes?: boolean;
}

/** Prints (or echoes) what each session receives; see the module doc. */
export class Sink {
  #server: Pick<Server, "take" | "stop">;
  #options: SinkOptions;
  #outputFailed = false;
  #overheads: FramingOverheads | null = null;

  /** `server` is asked to admit messages against `--count` and is stopped when it is reached. */
  constructor(server: Pick<Server, "take" | "stop">, options: SinkOptions) {
    this.#server = server;
    this.#options = options;
    if (options.echo) this.#overheads = new FramingOverheads(options.framing);
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
    if (this.#options.linesAsBytes && this.#options.framing.wireIsText) {
      return await this.#serveLines(session);
    }
    const { framing, maxFrame, echo } = this.#options;
    const { conn } = session;
    const server = this.#server;
    const onBusy = (busy: boolean) => session.busy = busy;
    const decoder = framing.decoder(maxFrame);
    const wire = echo ? new EchoWire(decoder.recordWireLengths(), this.#overheads!) : null;
    await readMessages(conn, decoder, async (received) => {
      const allowed = server.take(received.length);
      const whole = allowed === received.length;
      const messages = whole ? received : received.slice(0, allowed);
      const verbatim = wire?.take(received);
      if (messages.length === 0) return;
      if (echo) await writeAll(conn, whole && verbatim ? verbatim : framing.encode(messages));
      else if (!this.#print(messages)) server.stop();
    }, { signal: session.stopping, onBusy, onRead: wire ? (bytes) => wire.read(bytes) : undefined });
  }

  /**
   * `serve` for lines that pass as bytes: each read's whole lines (one or two views, from a
   * `LineCounter`) are admitted against `--count`, then written back or printed as they are.
   */
  async #serveLines(session: Session): Promise<void> {
    const { maxFrame, echo } = this.#options;
    const { conn } = session;
    const server = this.#server;
    // Made at the first byte, hence not LineCounter.decoder(): made up front, a thousand idle
    // connections measured 15.0-15.7 KB each rather than 16.8-19.3 (bench/25-memory.sh).
    let counter: LineCounter | undefined;
    // readMessages' loop (fresh slab space per read, backpressure, the good lines before bad
    // bytes), with the counter's views as the "messages".
    const spans: FrameDecoder = {
      push: (chunk, out) => (counter ??= new LineCounter({ maxLine: maxFrame })).push(chunk, out),
      end: (out) => counter?.end(out),
      recordWireLengths: () => [],
    };
    let seen = 0;
    await readMessages(conn, spans, async (views) => {
      const lines = counter!.count - seen;
      seen = counter!.count;
      const allowed = server.take(lines);
      if (allowed === 0) return;
      const bytes = allowed === lines ? views : firstLines(views, allowed);
      if (echo) { for (const view of bytes) await writeAll(conn, view); }
      else if (!this.#printBytes(bytes)) server.stop();
    }, { signal: session.stopping, onBusy: (busy) => session.busy = busy });
  }

  #printBytes(views: Uint8Array[]): boolean {
    return views.every((view) => this.#write(view));
  }

  /**
   * stdout closed (`ipcat serve S | head -1`): stop like a sink whose reader left, exit 0.
   * stdout that cannot take the data stops the same way, but is a failure (exit 1).
   */
  #print(messages: Uint8Array[]): boolean {
    return this.#write(this.#options.format(messages));
  }

  #write(bytes: Uint8Array): boolean {
    const { stdout, log } = this.#options;
    try {
      writeAllSync(stdout, bytes);
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

/**
 * The bytes each message takes on the wire when `framing` encodes it, by message length
 * (for every framing the encoding's size depends on the length alone), learned from the
 * framing itself once per length.
 */
class FramingOverheads {
  #framing: Framing;
  #byLength = new Map<number, number>();
  #lastLength = -1;
  #lastOverhead = 0;

  constructor(framing: Framing) {
    this.#framing = framing;
  }

  /** True when `wire` is the size `framing.encode` gives `message`. */
  canonical(message: Uint8Array, wire: number): boolean {
    const length = message.length;
    if (length !== this.#lastLength) {
      let overhead = this.#byLength.get(length);
      if (overhead === undefined) {
        try {
          overhead = this.#framing.encode([message]).length - length;
        } catch {
          return false;
        }
        // Message sizes are few in practice; a stream of ever new ones must not grow this.
        if (this.#byLength.size >= 1024) this.#byLength.clear();
        this.#byLength.set(length, overhead);
      }
      this.#lastLength = length;
      this.#lastOverhead = overhead;
    }
    return wire === length + this.#lastOverhead;
  }
}

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Echo writes back the very bytes it read, one write per read and no copy, where
 * re-encoding would give the same bytes: a message whose wire size is the size its framing
 * encodes it to has the same header (a length written the one way it can be at that size)
 * and the same body. Messages sent otherwise (a varint header with extra bytes, a netstring
 * length with leading zeros, a last line without its `\n`) are re-encoded, as before.
 */
class EchoWire {
  #wires: number[];
  #overheads: FramingOverheads;
  /** Bytes read that no complete message holds yet. */
  #pending = 0;
  /** Those bytes as one view, when they lie side by side in memory; null when not. */
  #run: Uint8Array | null = null;
  #last: Uint8Array = EMPTY;

  /** `wires` is the array the decoder records wire lengths in. */
  constructor(wires: number[], overheads: FramingOverheads) {
    this.#wires = wires;
    this.#overheads = overheads;
  }

  /** Each read's bytes, before they are decoded. */
  read(bytes: Uint8Array): void {
    const run = this.#run;
    if (this.#pending === 0) this.#run = bytes;
    else if (run && run.buffer === bytes.buffer && run.byteOffset + run.length === bytes.byteOffset) {
      this.#run = new Uint8Array(run.buffer, run.byteOffset, run.length + bytes.length);
    } else this.#run = null;
    this.#pending += bytes.length;
    this.#last = bytes;
  }

  /** The wire bytes that carried `messages` (the decoder's latest), or null: re-encode them. */
  take(messages: Uint8Array[]): Uint8Array | null {
    const wires = this.#wires;
    let total = 0;
    for (let i = 0; i < wires.length; i++) total += wires[i];
    let verbatim = this.#run !== null && wires.length === messages.length && total <= this.#run.length;
    for (let i = 0; verbatim && i < messages.length; i++) {
      verbatim = this.#overheads.canonical(messages[i], wires[i]);
    }
    const bytes = verbatim ? this.#run!.subarray(0, total) : null;
    wires.length = 0;
    this.#pending = Math.max(0, this.#pending - total);
    const last = this.#last;
    // Nothing held: keep no view, or an idle connection would pin a shared read slab.
    if (this.#pending === 0) {
      this.#run = null;
      this.#last = EMPTY;
    } // The bytes still pending are the stream's latest: the end of the last read, if it holds them.
    else if (this.#run && this.#run.length >= this.#pending) {
      this.#run = this.#run.subarray(this.#run.length - this.#pending);
    } else this.#run = this.#pending <= last.length ? last.subarray(last.length - this.#pending) : null;
    return bytes;
  }
}

/** The first `n` lines of `views` (whole lines, in order), as views. */
function firstLines(views: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const view of views) {
    let end = 0;
    while (n > 0 && end < view.length) {
      end = view.indexOf(0x0a, end) + 1;
      n--;
    }
    out.push(view.subarray(0, end));
    if (n === 0) break;
  }
  return out;
}
