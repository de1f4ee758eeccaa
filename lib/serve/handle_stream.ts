/**
 * `serve --handle-stream CMD`: the coprocess model. Each connection gets one long-running
 * CMD; every message goes to its stdin as one line, and every line CMD writes to stdout goes
 * back to the client as one reply, framed like the messages. No process per message, so the
 * rate is bounded by the pipe and by CMD, not by process creation (`jq --unbuffered -c .`,
 * a Python `for line in sys.stdin` loop, `cat`).
 *
 * Replies are CMD's stdout lines in the order it writes them; ipcat does not pair them with
 * requests, so a CMD that answers with no line or with two shifts the pairing (its contract).
 * A message holding a newline cannot be one line: that connection is closed, CMD's stdin
 * first, so the replies before it are still delivered.
 *
 * Client EOF (or the server stopping) closes CMD's stdin; CMD's stdout EOF ends the session
 * once its last replies are written. A client that went away gets CMD terminated.
 *
 * @example One client, one coprocess (`tr` answers each line as it reads it)
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { parseProgram } from "../process/command_line.ts";
 * import { streamHandlerSession } from "./handle_stream.ts";
 * import { Server } from "./server.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/stream.sock`);
 * const server = new Server(await listen(address), { log: () => {} });
 * const options = { argv: parseProgram("tr a-z A-Z"), framing: parseFraming("lines"), maxFrame: 1024, log: () => {} };
 * const serving = server.run((session) => streamHandlerSession(session, options));
 * const client = await connect(address);
 * await client.write(new TextEncoder().encode("hi\nho\n"));
 * await client.closeWrite();
 * const buffer = new Uint8Array(16);
 * const n = await client.read(buffer); // "HI\nHO\n" once tr has seen its stdin's end
 * client.close();
 * server.stop();
 * await serving;
 * ```
 * @module
 */
import { describeStatus, forwardLines } from "../process/child.ts";
import { startCoprocess } from "./_coprocess.ts";
import type { Framing } from "../framing/types.ts";
import { readMessages, writeAll } from "../messages.ts";
import { isPeerGone } from "../errors.ts";
import type { LogLevel } from "../log.ts";
import type { Session } from "./server.ts";

/** Options for {@linkcode streamHandlerSession}. */
export interface StreamHandlerOptions {
  /** CMD's argv, `argv[0]` already resolved (see `parseProgram`). */
  argv: readonly string[];
  /** How messages and replies are framed on the connection. */
  framing: Framing;
  /** Largest message accepted, and largest reply line sent. */
  maxFrame: number;
  /** Receives log lines; one backoff (one "cannot start" line per episode) per function. */
  log: (level: LogLevel, line: string) => void;
  /** Admit `n` messages against `--count`; returns how many may be handled. */
  take?: (n: number) => number;
}

const NL = 0x0a;

/** Serve one connection through its own CMD until CMD's output is delivered. */
export async function streamHandlerSession(session: Session, options: StreamHandlerOptions): Promise<void> {
  const { argv, framing, maxFrame, log, take } = options;
  const { conn, id } = session;
  // This mode ends its own connection on stop: CMD's stdin is closed, its last replies delivered.
  session.busy = true;
  const env = { IPCAT_CONN: String(id), IPCAT_PEER: conn.peer, IPCAT_FRAMING: framing.name };
  const started = await startCoprocess(session, "--handle-stream", argv, { env }, log);
  if (started === undefined) return;
  const { child, gone, failed } = started;
  const stdin = child.process.stdin.getWriter();
  let inputClosed = false;
  const closeInput = () => {
    if (inputClosed) return;
    inputClosed = true;
    stdin.close().catch(() => {});
  };
  session.stopping.addEventListener("abort", closeInput, { once: true });
  // CMD may close its stdin or exit at any time: it takes no more messages then, and its
  // replies so far still go out.
  const feed = async (bytes: Uint8Array) => {
    try {
      await stdin.write(bytes);
    } catch {
      inputClosed = true;
    }
  };
  let finished = false;
  const errors = forwardLines(child.process.stderr, (line) => log("error", `conn ${id}: ${line}`));

  // Resolves to the client's bad framing, if any: the server logs it once CMD is done.
  const toChild = (async (): Promise<unknown> => {
    try {
      await readMessages(conn, framing.decoder(maxFrame), async (received) => {
        if (inputClosed) return;
        const admitted = take ? take(received.length) : received.length;
        let size = 0;
        for (let i = 0; i < admitted; i++) size += received[i].length + 1;
        // One write per read: a pipelining client costs one pipe write per batch, not per message.
        const lines = new Uint8Array(size);
        let at = 0;
        for (let i = 0; i < admitted; i++) {
          const message = received[i];
          if (message.includes(NL)) {
            log(
              "error",
              `conn ${id}: a message holds a newline; --handle-stream passes one message per line; closing`,
            );
            if (at > 0) await feed(lines.subarray(0, at));
            closeInput();
            return;
          }
          lines.set(message, at);
          at += message.length;
          lines[at++] = NL;
        }
        if (at > 0) await feed(lines);
      }, { signal: session.stopping });
    } catch (error) {
      if (finished) return;
      if (isPeerGone(error)) gone("client went away");
      else {
        // Bad framing: the replies so far are delivered first.
        closeInput();
        return error;
      }
    }
    closeInput();
  })();

  const fromChild = (async () => {
    const reader = child.process.stdout.getReader();
    let partial: Uint8Array = new Uint8Array(0);
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        const lines: Uint8Array[] = [];
        let start = 0;
        let nl = value.indexOf(NL);
        if (nl >= 0 && partial.length > 0) {
          lines.push(concat(partial, value.subarray(0, nl)));
          partial = new Uint8Array(0);
          start = nl + 1;
          nl = value.indexOf(NL, start);
        }
        for (; nl >= 0; start = nl + 1, nl = value.indexOf(NL, start)) lines.push(value.subarray(start, nl));
        if (start < value.length) partial = concat(partial, value.subarray(start));
        // The replies before a line too large still go out; nothing after it does.
        const tooLarge = lines.findIndex((line) => line.length > maxFrame);
        const fit = tooLarge < 0 ? lines : lines.slice(0, tooLarge);
        if (fit.length > 0) await writeAll(conn, framing.encode(fit));
        if (tooLarge >= 0 || partial.length > maxFrame) {
          log(
            "error",
            `conn ${id}: handler reply is larger than --max-frame (${maxFrame} bytes); not sent, closing`,
          );
          gone("reply too large");
          await reader.cancel().catch(() => {});
          return;
        }
      }
      // The last line without its newline is still a reply.
      if (partial.length > 0) await writeAll(conn, framing.encode([partial]));
      await conn.closeWrite().catch(() => {});
    } catch (error) {
      if (isPeerGone(error) || !(error instanceof TypeError)) failed("write", error);
      await reader.cancel().catch(() => {});
    }
  })();

  await fromChild;
  const status = await child.status;
  session.stopping.removeEventListener("abort", closeInput);
  finished = true;
  // Unblocks a read still waiting on the client once CMD is done.
  conn.close();
  closeInput();
  await errors;
  const badInput = await toChild;
  if (child.terminated) log("verbose", `conn ${id}: pid ${child.pid} ${describeStatus(status)}`);
  else if (!status.success) {
    log("error", `conn ${id}: ${argv[0]} (pid ${child.pid}) ${describeStatus(status)}`);
  } else log("verbose", `conn ${id}: pid ${child.pid} exited`);
  if (badInput !== undefined) throw badInput;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
