/**
 * Moving bytes between two connections both ways, with half-close: the core of `pipe`
 * and of `inspect`'s proxy.
 *
 * @example
 * ```ts
 * const totals = await relay(client, server); // { forward: 1234, backward: 56 }
 * ```
 * @module
 */
import type { Connection } from "./address/types.ts";
import { writeAll } from "./io.ts";

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
  /** End as soon as b closes (after a has everything b sent), even if a is still sending. */
  endWhenBCloses?: boolean;
}

/** Bytes moved in each direction. */
export interface RelayTotals {
  forward: number;
  backward: number;
}

/** The peer went away: a direction ends, it is not an error. */
export function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.NotConnected || error instanceof Deno.errors.BadResource;
}

/**
 * Copy `from` to `to` until EOF, then half-close `to`. Resolves to the bytes copied.
 * The reading side is backpressured by the writing side: one buffer in flight. A source
 * with `readView` (stdin, a child's stdout) is read without copying.
 */
export async function pump(
  from: Pick<Connection, "read" | "readView">,
  to: Pick<Connection, "write" | "closeWrite">,
  onChunk?: (bytes: Uint8Array) => void,
): Promise<number> {
  // No await per chunk but the read and the write (no read closure, no writeAll unless a
  // write was partial): every extra async layer adds to each round trip through a proxy.
  const buffer = from.readView ? null : new Uint8Array(RELAY_BUFFER);
  let total = 0;
  while (true) {
    let chunk: Uint8Array;
    if (buffer === null) {
      const view = await from.readView!();
      if (view === null) break;
      chunk = view;
    } else {
      const n = await from.read(buffer);
      if (n === null) break;
      chunk = buffer.subarray(0, n);
    }
    const written = await to.write(chunk);
    if (written < chunk.length) await writeAll(to, chunk.subarray(written));
    total += chunk.length;
    onChunk?.(chunk);
  }
  try {
    await to.closeWrite();
  } catch (error) {
    if (!isPeerGone(error)) throw error;
  }
  return total;
}

/**
 * Relay a ↔ b until both directions have ended (or until b closes, with
 * `endWhenBCloses`). A direction whose peer vanished ends quietly; other errors reject.
 */
export async function relay(a: Connection, b: Connection, options: RelayOptions = {}): Promise<RelayTotals> {
  const { tap } = options;
  const totals: RelayTotals = { forward: 0, backward: 0 };
  const direction = (name: Direction, from: Connection, to: Connection) =>
    pump(from, to, (bytes) => {
      totals[name] += bytes.length;
      tap?.(name, bytes);
    }).catch((error) => {
      if (!isPeerGone(error)) throw error;
    });
  const forward = direction("forward", a, b);
  const backward = direction("backward", b, a);
  if (options.endWhenBCloses) await Promise.race([backward, Promise.all([forward, backward])]);
  else await Promise.all([forward, backward]);
  return totals;
}
