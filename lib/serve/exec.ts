/**
 * `serve --exec CMD`: per connection, a new CMD whose stdin is the connection's bytes and
 * whose stdout goes back to the client, like `nc -e` or inetd. Framing does not apply.
 *
 * Client EOF closes CMD's stdin; CMD's stdout EOF half-closes the connection, and once CMD
 * has exited the connection closes. A client that went away (a write or read fails) gets
 * CMD terminated, as does a stopping server. CMD is always waited for: no zombies.
 *
 * @example One client, bridged to `tr a-z A-Z`
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { parseProgram } from "../process/command_line.ts";
 * import { execSession } from "./exec.ts";
 * import { Server } from "./server.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/exec.sock`);
 * const server = new Server(await listen(address), { log: () => {} });
 * const argv = parseProgram("tr a-z A-Z");
 * const serving = server.run((session) => execSession(session, { argv, log: () => {} }));
 * const client = await connect(address);
 * await client.write(new TextEncoder().encode("hi\n"));
 * await client.closeWrite();
 * const buffer = new Uint8Array(8);
 * const n = await client.read(buffer); // "HI\n" (a small reply arrives in one read)
 * client.close();
 * server.stop();
 * await serving;
 * ```
 * @module
 */
import { describeStatus, forwardLines } from "../process/child.ts";
import { startCoprocess } from "./_coprocess.ts";
import { writeAll } from "../messages.ts";
import type { LogLevel } from "../log.ts";
import type { Session } from "./server.ts";

/** Options for {@linkcode execSession}. */
export interface ExecOptions {
  /** CMD's argv, `argv[0]` already resolved (see `parseProgram`). */
  argv: readonly string[];
  /** Receives log lines; one backoff (one "cannot start" line per episode) per function. */
  log: (level: LogLevel, line: string) => void;
}

const BUFFER_SIZE = 64 * 1024;

/** Bridge one connection to a new CMD until CMD has exited and its output is delivered. */
export async function execSession(session: Session, options: ExecOptions): Promise<void> {
  const { argv, log } = options;
  const { conn, id } = session;
  // This mode ends its own connection on stop: CMD is terminated, its last output delivered.
  session.busy = true;
  // Out of descriptors or processes, the client waits for CMD rather than being hung up on.
  const env = { IPCAT_CONN: String(id), IPCAT_PEER: conn.peer };
  const started = await startCoprocess(session, "--exec", argv, { env, ownGroup: true }, log);
  if (started === undefined) return;
  const { child, gone, failed } = started;
  const { stdin, stdout, stderr } = child.process;
  const onStop = () => gone("server stopping");
  session.stopping.addEventListener("abort", onStop, { once: true });
  let closing = false;

  const errors = forwardLines(stderr, (line) => log("error", `conn ${id}: ${line}`));

  const toChild = (async () => {
    const writer = stdin.getWriter();
    const buffer = new Uint8Array(BUFFER_SIZE);
    try {
      while (true) {
        let n: number | null;
        try {
          n = await conn.read(buffer);
        } catch (error) {
          if (!closing) {
            failed("read", error);
          }
          break;
        }
        if (n === null) break;
        // The writer may hold the chunk until written: copy, since the buffer is reused.
        await writer.write(buffer.slice(0, n));
      }
      await writer.close();
    } catch {
      // CMD closed its stdin (or exited): it wants no more input.
      await writer.abort().catch(() => {});
    }
  })();

  const fromChild = (async () => {
    try {
      for await (const chunk of stdout) {
        try {
          await writeAll(conn, chunk);
        } catch (error) {
          failed("write", error);
          // Drain so CMD is never blocked on a full pipe while it is being terminated.
          for await (const _ of stdout) { /* discard */ }
          return;
        }
      }
      await conn.closeWrite().catch(() => {});
    } catch {
      // CMD's stdout broke with it: nothing more to deliver.
    }
  })();

  await fromChild;
  const status = await child.status;
  session.stopping.removeEventListener("abort", onStop);
  closing = true;
  conn.close();
  await Promise.all([toChild, errors]);
  if (child.terminated) log("verbose", `conn ${id}: pid ${child.pid} ${describeStatus(status)}`);
  else if (!status.success) {
    log("error", `conn ${id}: ${argv[0]} (pid ${child.pid}) ${describeStatus(status)}`);
  } else log("verbose", `conn ${id}: pid ${child.pid} exited`);
}
