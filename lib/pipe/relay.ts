/**
 * Moving bytes between two connections both ways, with half-close: the core of `pipe`
 * and of `inspect`'s proxy.
 *
 * @example Each side half-closes in turn; the relay ends when both directions are done
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { relay } from "./relay.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const [front, back] = [parseAddress(`unix:${dir}/front.sock`), parseAddress(`unix:${dir}/back.sock`)];
 * const [frontListener, backListener] = [await listen(front), await listen(back)];
 * const [client, server] = [await connect(front), await connect(back)];
 * const [a, b] = [await frontListener.accept(), await backListener.accept()];
 * const relaying = relay(a, b);
 * await client.write(new TextEncoder().encode("ping"));
 * await client.closeWrite();
 * await server.read(new Uint8Array(4)); // "ping"
 * await server.write(new TextEncoder().encode("pong!"));
 * await server.closeWrite();
 * console.log(await relaying); // { forward: 4, backward: 5 }
 * for (const c of [a, b, client, server, frontListener, backListener]) c.close();
 * ```
 * @module
 */
import type { Connection } from "../address/types.ts";
import { DeliveryError, isPeerGone } from "../errors.ts";

/** Reused per direction: a read fills it, the write drains it before the next read. */
const RELAY_BUFFER = 256 * 1024;

/** `forward` is a → b (client to server), `backward` is b → a. */
export type Direction = "forward" | "backward";

/** Options for {@linkcode relay}. */
export interface RelayOptions {
  /**
   * Sees every chunk after it has been written on. Must not keep `bytes` (the buffer is
   * reused) and must not block: traffic waits for it.
   */
  tap?: (direction: Direction, bytes: Uint8Array) => void;
  /**
   * How the relay ends when a peer goes away; see {@linkcode joinDirections}. Without it, a
   * direction whose peer vanished just ends (a proxy mirrors what each side does).
   */
  end?: EndRule;
}

/** Bytes moved in each direction. */
export interface RelayTotals {
  /** a → b. */
  forward: number;
  /** b → a. */
  backward: number;
}

/**
 * Copy `from` to `to` until EOF, then half-close `to`. Resolves to the bytes copied.
 * The reading side is backpressured by the writing side: one buffer in flight. A source
 * with `readView` (stdin, a child's stdout) is read without copying. A source that
 * vanishes has ended; a destination that vanishes while bytes are held for it is a
 * {@linkcode DeliveryError} counting the bytes its write calls accepted.
 */
export async function pump(
  from: Pick<Connection, "read" | "readView">,
  to: Pick<Connection, "write" | "closeWrite" | "peer">,
  onChunk?: (bytes: Uint8Array) => void,
): Promise<number> {
  // No await per chunk but the read and the write (no read closure, a second write only
  // when one was partial): every extra async layer adds to each round trip through a proxy.
  const buffer = from.readView ? null : new Uint8Array(RELAY_BUFFER);
  let taken = 0;
  let delivered = 0;
  while (true) {
    let chunk: Uint8Array;
    try {
      if (buffer === null) {
        const view = await from.readView!();
        if (view === null) break;
        chunk = view;
      } else {
        const n = await from.read(buffer);
        if (n === null) break;
        chunk = buffer.subarray(0, n);
      }
    } catch (error) {
      // A reset after the peer's last bytes ends its data as EOF does.
      if (!isPeerGone(error)) throw error;
      break;
    }
    taken += chunk.length;
    try {
      let written = await to.write(chunk);
      delivered += written;
      while (written < chunk.length) {
        const n = await to.write(chunk.subarray(written));
        written += n;
        delivered += n;
      }
    } catch (error) {
      if (!isPeerGone(error)) throw error;
      throw new DeliveryError(to.peer, delivered, taken, "bytes", error);
    }
    onChunk?.(chunk);
  }
  try {
    await to.closeWrite();
  } catch (error) {
    if (!isPeerGone(error)) throw error;
  }
  return delivered;
}

/**
 * When a relay between a and b (b the far side) ends, beyond "both directions are done":
 * - `"strict"`: a peer that goes away while bytes are held for it is an error
 *   ({@linkcode DeliveryError}), reported once the other direction (whose source is that
 *   same peer) has ended, so everything it sent is written first.
 * - `"interactive"`: as strict, and b's EOF ends the relay at once (a person typing on a
 *   learns from that EOF that the session is over, as with `nc`).
 * `aReaderMayLeave`: a is stdout, whose reader leaving on purpose (`| head`) ends the relay
 * quietly.
 */
export interface EndRule {
  /** `"strict"` or `"interactive"`, as above. */
  mode: "strict" | "interactive";
  /** a is stdout: its reader leaving ends the relay quietly. */
  aReaderMayLeave?: boolean;
}

/**
 * Wait for the two directions of a relay (a → b, b → a) under `rule` (lenient when
 * undefined: peers going away end their direction). Rejects with the first error.
 */
export async function joinDirections(
  forward: Promise<unknown>,
  backward: Promise<unknown>,
  rule?: EndRule,
): Promise<void> {
  let aheadFailed: DeliveryError | undefined;
  const settle = (direction: Promise<unknown>) =>
    direction.then(() => undefined, (error) => {
      if (error instanceof DeliveryError) return error;
      throw error;
    });
  const ahead = settle(forward).then((failed) => aheadFailed = failed);
  const back = settle(backward);
  if (!rule) {
    await Promise.all([ahead, back]);
    return;
  }
  // Any other error from a → b rejects at once, even while b → a is still going.
  const backFailed = await Promise.race([back, ahead.then(() => new Promise<never>(() => {}))]);
  if (backFailed && rule.aReaderMayLeave) return;
  if (!backFailed && !aheadFailed && rule.mode === "interactive") return;
  const failed = (await ahead) ?? backFailed;
  if (failed) throw failed;
}

/** Relay a ↔ b until both directions have ended, or as `options.end` says. */
export async function relay(a: Connection, b: Connection, options: RelayOptions = {}): Promise<RelayTotals> {
  const { tap } = options;
  const totals: RelayTotals = { forward: 0, backward: 0 };
  const direction = (name: Direction, from: Connection, to: Connection) =>
    pump(from, to, (bytes) => {
      totals[name] += bytes.length;
      tap?.(name, bytes);
    });
  await joinDirections(direction("forward", a, b), direction("backward", b, a), options.end);
  return totals;
}
