/**
 * Taking over a live Unix socket without touching its clients, and giving it back.
 *
 * The swap is atomic for clients: ipcat binds a temporary name beside PATH, hard-links the
 * service's socket to the aside name, then renames its own socket over PATH. Every client
 * reaches either the service or the proxy, never a missing file. Restoring renames the
 * aside name back over PATH, again atomically.
 *
 * @example
 * ```ts
 * const taken = await intercept("/run/app.sock");
 * // ... proxy taken.listener to taken.aside ...
 * taken.restore();
 * ```
 * @module
 */
import { listen } from "../address/mod.ts";
import type { Listener } from "../address/types.ts";
import { IpcatError, UnavailableError } from "../errors.ts";

/** Where the service's socket waits while intercepted: same directory, a telling name. */
export function asidePath(path: string): string {
  return `${path}.ipcat-original`;
}

/** What {@linkcode intercept} set up. */
export interface Interception {
  readonly path: string;
  readonly aside: string;
  /** The proxy's listener, now reachable at `path`. */
  readonly listener: Listener;
  /** The original socket's file mode, which the proxy's socket got too. */
  readonly mode: number;
  /** Put the original back at `path` if `path` is still ours. Safe to call twice. */
  restore(): void;
}

const MAX_PATH_BYTES = 107;

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Is a process accepting on the socket at `path`? */
async function isLive(path: string): Promise<boolean> {
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

const restoreHint = (path: string) => `put it back with: ipcat inspect --restore ${path}`;

/** Move the live socket at `path` aside and listen there with its file mode. */
export async function intercept(path: string): Promise<Interception> {
  const aside = asidePath(path);
  if (new TextEncoder().encode(aside).length > MAX_PATH_BYTES) {
    throw new Error(
      `Cannot intercept ${path}: the aside name ${aside} would be over ${MAX_PATH_BYTES} bytes, too long to connect to`,
    );
  }
  const original = lstatOrNull(path);
  if (original === null) {
    throw new UnavailableError(`Cannot intercept ${path}: no such socket`, "is the service running?");
  }
  if (!original.isSocket) {
    throw new Error(`Cannot intercept ${path}: it is not a socket; leaving it untouched`);
  }
  if (lstatOrNull(aside) !== null) {
    throw new IpcatError(
      `Cannot intercept ${path}: ${aside} already exists: another ipcat inspect is intercepting it, or one was interrupted`,
      restoreHint(path),
    );
  }
  if (!(await isLive(path))) {
    throw new UnavailableError(`Cannot intercept ${path}: nothing is listening there (a stale socket)`);
  }
  const mode = (original.mode ?? 0o600) & 0o777;
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  const temp = `${dir}.ipcat-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.sock`;
  const listener = await listen({ scheme: "unix", text: `unix:${temp}`, path: temp }, { mode });
  try {
    if (original.uid !== null && original.gid !== null) {
      try {
        Deno.chownSync(temp, original.uid, original.gid);
      } catch {
        // Not allowed (not root): the socket stays ours, with the original's mode.
      }
    }
    Deno.linkSync(path, aside);
    try {
      Deno.renameSync(temp, path);
    } catch (error) {
      Deno.removeSync(aside);
      throw error;
    }
  } catch (error) {
    listener.close();
    try {
      Deno.removeSync(temp);
    } catch {
      // Never created or already gone.
    }
    throw new Error(`Cannot intercept ${path}: ${(error as Error).message}`);
  }
  const ours = Deno.lstatSync(path).ino;
  let restored = false;
  return {
    path,
    aside,
    listener,
    mode,
    restore() {
      if (restored) return;
      const current = lstatOrNull(path);
      if (current !== null && current.ino !== ours) {
        restored = true;
        throw new IpcatError(
          `${path} was replaced while intercepting; the original socket is still at ${aside}`,
          restoreHint(path),
        );
      }
      Deno.renameSync(aside, path);
      restored = true;
    },
  };
}

/** `--restore PATH`: put back a socket left aside by an interrupted run. Returns a report. */
export async function restoreAside(path: string): Promise<string> {
  const aside = asidePath(path);
  const moved = lstatOrNull(aside);
  if (moved === null) throw new Error(`Nothing to restore: ${aside} does not exist`);
  if (!moved.isSocket) {
    throw new Error(`Cannot restore ${path}: ${aside} is not a socket; leaving it untouched`);
  }
  const current = lstatOrNull(path);
  if (current !== null && !current.isSocket) {
    throw new Error(`Cannot restore ${path}: the path exists and is not a socket; leaving it untouched`);
  }
  if (current !== null && await isLive(path)) {
    throw new IpcatError(
      `Cannot restore ${path}: something is listening there (a running ipcat inspect, or a restarted service)`,
      `stop that inspector first; if the service restarted, remove ${aside} yourself`,
    );
  }
  Deno.renameSync(aside, path);
  return (await isLive(path)) ? `restored ${path}` : `restored ${path} (nothing is listening on it now)`;
}
