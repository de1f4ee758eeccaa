/**
 * `serve --forward TARGET`: every accepted connection gets its own new connection to
 * TARGET, joined both ways by `pipe()` (the raw relay, or re-framing with `--from`/`--to`),
 * with pipe's half-close rules. What socat's `UNIX-LISTEN:S,fork TCP:HOST:PORT` does.
 *
 * @example One client forwarded to a TCP target that answers in upper case
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import type { Connection } from "../address/types.ts";
 * import { Server } from "./server.ts";
 * import { forwardSession } from "./forward.ts";
 *
 * const readAll = async (conn: Connection) => {
 *   const buffer = new Uint8Array(64);
 *   let text = "";
 *   for (let n; (n = await conn.read(buffer)) !== null;) text += new TextDecoder().decode(buffer.subarray(0, n));
 *   return text;
 * };
 * const upstream = await listen(parseAddress("tcp:127.0.0.1:0"));
 * const answering = (async () => {
 *   const conn = await upstream.accept();
 *   await conn.write(new TextEncoder().encode((await readAll(conn)).toUpperCase()));
 *   conn.close();
 *   upstream.close();
 * })();
 * const front = parseAddress(`unix:${await Deno.makeTempDir()}/front.sock`);
 * const server = new Server(await listen(front), { log: () => {} });
 * const target = parseAddress(upstream.address);
 * const serving = server.run(async (session) => {
 *   await forwardSession(session, { target, log: () => {} });
 *   server.stop();
 * });
 * const client = await connect(front);
 * await client.write(new TextEncoder().encode("hi"));
 * await client.closeWrite();
 * const answer = await readAll(client);
 * client.close();
 * await answering;
 * await serving;
 * console.log(answer); // "HI"
 * ```
 * @module
 */
import { connect } from "../address/mod.ts";
import type { Address, Connection } from "../address/types.ts";
import { describe } from "../errors.ts";
import type { Framing } from "../framing/types.ts";
import type { Log } from "../log.ts";
import { pipe } from "../pipe/pipe.ts";
import type { Session } from "./server.ts";

/** Options for {@linkcode forwardSession}. */
export interface ForwardOptions {
  /** Where each client's connection goes. */
  target: Address;
  /** Where the `cannot reach TARGET` and `connected to TARGET` lines go. */
  log: Log;
  /** Framing on the client side; `undefined` means raw. */
  from?: Framing;
  /** Framing on TARGET's side; `undefined` means raw. */
  to?: Framing;
  /** Largest message accepted on a framed side. */
  maxFrame?: number;
  /** How to reach TARGET. @default {connect} */
  connect?: (address: Address) => Promise<Connection>;
}

/**
 * Relay `session`'s connection to a new connection to TARGET until both directions are
 * done. TARGET unreachable: one log line, and the client's connection is closed (by the
 * server, once this returns). A stopping server cuts the relay.
 */
export async function forwardSession(session: Session, options: ForwardOptions): Promise<void> {
  const { target, log } = options;
  const { id, conn: client } = session;
  // A relay has no batch to finish: the stop below decides when it is cut.
  session.busy = true;
  let upstream: Connection;
  try {
    upstream = session.watch(await (options.connect ?? connect)(target));
  } catch (error) {
    log("error", `conn ${id}: cannot reach ${target.text}: ${describe(error)}; client closed`);
    return;
  }
  log("verbose", `conn ${id}: connected to ${target.text}`);
  // Stop (a signal) closes both ends: their pending reads fail and the pipe ends.
  const cut = () => {
    client.close();
    upstream.close();
  };
  session.stopping.addEventListener("abort", cut, { once: true });
  // Counted as written, so a relay that fails or is cut still reports what went through.
  const totals = { forward: { bytes: 0, messages: 0 }, backward: { bytes: 0, messages: 0 } };
  try {
    await pipe(client, upstream, {
      from: options.from,
      to: options.to,
      maxFrame: options.maxFrame,
      end: { mode: "strict" },
      flags: ["--from", "--to"],
      onWrite: (direction, bytes, messages) => {
        totals[direction].bytes += bytes;
        totals[direction].messages += messages;
      },
    });
  } catch (error) {
    // The stop cut it: not a failure of the relay.
    if (!session.stopping.aborted) throw error;
  } finally {
    session.stopping.removeEventListener("abort", cut);
    await upstream.close();
    session.closeNote = `${totals.forward.bytes} B to ${target.text}, ${totals.backward.bytes} B back`;
  }
}
