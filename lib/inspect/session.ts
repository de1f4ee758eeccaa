/**
 * `inspect ADDR`'s interactive session: each typed line is one message; every message
 * received is printed as it arrives, in the log's view, above the line being typed.
 *
 * @example
 * ```ts
 * import { connect, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { PlainLines } from "./line_editor.ts";
 * import { eventFormatter } from "./log_format.ts";
 * import { runSession } from "./session.ts";
 *
 * // Typed lines come from a script; `cat` sends each one back.
 * const typed = [new TextEncoder().encode("hi\n")];
 * const input = new PlainLines({
 *   read: (buffer) => {
 *     const line = typed.shift();
 *     if (!line) return Promise.resolve(null);
 *     buffer.set(line);
 *     return Promise.resolve(line.length);
 *   },
 * }, (text) => console.log(text.trimEnd()));
 * const end = await runSession({
 *   conn: await connect(parseAddress("exec:cat")),
 *   framing: parseFraming("lines"),
 *   maxFrame: 1024,
 *   showMax: 4096,
 *   parseLine: (line) => new TextEncoder().encode(line),
 *   format: eventFormatter({ format: "text", color: false }),
 *   input,
 * });
 * console.log(end); // "eof", after printing the "hi" that came back
 * ```
 * @module
 */
import { connectWithWait } from "../retry.ts";
import type { Address, Connection, ConnectOptions } from "../address/types.ts";
import type { Log } from "../log.ts";
import { bytesToShow } from "../encoding.ts";
import type { Framing } from "../framing/types.ts";
import { writeAll, writeAllSync } from "../messages.ts";
import { describe, isPeerGone } from "../errors.ts";
import { asText, type Formatted, type InspectEvent } from "./log_format.ts";
import { type ByteReader, LineEditor, type LineSource, PlainLines } from "./line_editor.ts";
import { MessageCutter } from "./message_cutter.ts";

/** Options for {@linkcode runSession}. */
export interface SessionOptions {
  /** The connection to the far side. */
  conn: Connection;
  /** How messages are framed on `conn`. */
  framing: Framing;
  /** Largest message received. */
  maxFrame: number;
  /** Bytes of each message shown. */
  showMax: number;
  /** One typed line to message bytes; throws on bad input (reported, not sent). */
  parseLine: (line: string) => Uint8Array;
  /** Renders a message received for display. */
  format: (event: InspectEvent) => Formatted;
  /** Where typed lines come from. */
  input: LineSource;
}

/** How a session ended. */
export type SessionEnd = "quit" | "eof" | "closed";

/** Run the session until `:quit`, end of input (after the far side finishes), or the far side closes. */
export async function runSession(options: SessionOptions): Promise<SessionEnd> {
  const { conn, framing, maxFrame, showMax, parseLine, format, input } = options;
  const show = (event: InspectEvent) => input.print(asText(format(event)));
  const note = (text: string) => show({ kind: "note", t: Date.now(), text });
  const keep = bytesToShow(framing, showMax);
  let sent = 0;
  let received = 0;

  const receive = async (): Promise<string> => {
    const cutter = new MessageCutter(framing, maxFrame);
    const buffer = new Uint8Array(64 * 1024);
    const print = (cuts: ReturnType<MessageCutter["push"]>) => {
      const t = Date.now();
      for (const { message } of cuts) {
        show({ kind: "data", t, dir: "s2c", size: message.length, bytes: message.slice(0, keep) });
      }
      const error = cutter.takeError();
      if (error) note(`${describe(error)}; showing raw reads from here`);
    };
    while (true) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        if (isPeerGone(error)) return `connection lost: ${describe(error)}`;
        throw error;
      }
      if (n === null) {
        print(cutter.end());
        return "closed by the far side";
      }
      received += n;
      print(cutter.push(buffer.subarray(0, n)));
    }
  };

  const send = async (): Promise<SessionEnd> => {
    while (true) {
      const line = await input.next();
      if (line === null) return "eof";
      if (line === ":quit") return "quit";
      let wire: Uint8Array;
      let message: Uint8Array;
      try {
        message = parseLine(line);
        wire = framing.encode([message]);
      } catch (error) {
        note(`not sent: ${describe(error)}`);
        continue;
      }
      try {
        await writeAll(conn, wire);
      } catch (error) {
        if (isPeerGone(error)) return "closed";
        throw error;
      }
      sent += wire.length;
      show({ kind: "data", t: Date.now(), dir: "c2s", size: message.length, bytes: message.slice(0, keep) });
    }
  };

  const receiving = receive();
  const sending = send();
  const first = await Promise.race([
    receiving.then((why) => ({ why, end: "closed" as SessionEnd })),
    sending.then((end) => ({ why: "", end })),
  ]);
  const totals = () => `; sent ${sent}B, received ${received}B`;
  try {
    if (first.end === "closed") {
      const why = first.why || await receiving;
      show({ kind: "close", t: Date.now(), text: `${why}${totals()}` });
      return "closed";
    }
    if (first.end === "eof") {
      // End of input: half-close and show what the far side still sends, like `send`.
      try {
        await conn.closeWrite();
      } catch (error) {
        if (!isPeerGone(error)) throw error;
      }
      const why = await receiving;
      show({ kind: "close", t: Date.now(), text: `end of input, then ${why}${totals()}` });
      return "eof";
    }
    show({ kind: "close", t: Date.now(), text: `:quit${totals()}` });
    return "quit";
  } finally {
    input.close();
    conn.close();
    // The reader fails once the connection is closed; that is the end we asked for.
    receiving.catch(() => {});
    sending.catch(() => {});
  }
}

/** Options for {@linkcode startSession}. */
export interface StartSessionOptions extends Omit<SessionOptions, "conn" | "input"> {
  /** Where to connect. */
  target: Address;
  /** TLS trust and exit logging for the connection. */
  connectOptions?: ConnectOptions;
  /** `--wait`: retry connecting for this many ms while `target` is missing or refuses. */
  waitMs?: number;
  /** Typed lines come from here; a terminal gets a line editor in raw mode. */
  stdin: ByteReader & { isTerminal(): boolean; setRaw(raw: boolean): void };
  /** Messages are shown here, above the line being typed. */
  stdout: { writeSync(data: Uint8Array): number; isTerminal(): boolean };
  /** Diagnostics for stderr. */
  log: Log;
}

/** A running session: `ended` settles as {@linkcode runSession} does; disposing ends it. */
export interface RunningSession extends Disposable {
  /** How the session ended, once it has. */
  readonly ended: Promise<SessionEnd>;
}

const te = new TextEncoder();

/**
 * Connect to `target` and run a session on stdin/stdout. The line editor draws a prompt on
 * stdout, so it is used only when both ends are a terminal; otherwise lines are read plainly.
 */
export async function startSession(options: StartSessionOptions): Promise<RunningSession> {
  const { target, stdin, stdout, log, maxFrame } = options;
  const conn = await connectWithWait(target, options.waitMs, options.connectOptions);
  const write = (text: string) => writeAllSync(stdout, te.encode(text));
  const tty = stdin.isTerminal() && stdout.isTerminal();
  const input = tty
    ? new LineEditor(stdin, write, { prompt: "send> ", setRaw: (raw) => stdin.setRaw(raw) })
    : new PlainLines(stdin, write, maxFrame * 4 + 2);
  if (tty) log("info", `connected to ${target.text}; each line is one message; :quit or Ctrl-D ends`);
  return {
    ended: runSession({ ...options, conn, input }),
    [Symbol.dispose]() {
      // Leaves raw mode, whichever way the session ended.
      input.close();
      conn.close();
    },
  };
}
