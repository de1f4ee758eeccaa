/**
 * Taking over a live Unix socket without touching its clients, and giving it back.
 *
 * The swap is atomic for clients: ipcat binds a temporary name in a private directory beside
 * PATH (see `../address/_socket_file.ts`), hard-links the service's socket to the aside name,
 * then renames its own socket over PATH. Every client
 * reaches either the service or the proxy, never a missing file. Restoring renames the
 * aside name back over PATH, again atomically.
 *
 * {@linkcode Interception} is what `inspect --intercept` holds for the whole run: the swap,
 * the put-back on every way out (stop, error, crash), and a `connect()` to the service that
 * survives the put-back.
 *
 * @example
 * ```ts
 * import { listen, parseAddress } from "../address/mod.ts";
 * import { Interception } from "./intercept.ts";
 *
 * const path = `${await Deno.makeTempDir()}/app.sock`;
 * const service = await listen(parseAddress(`unix:${path}`));
 * {
 *   using interception = await Interception.start(path, () => {});
 *   const upstream = await interception.connect(); // the service, at its aside name
 *   // ... proxy what interception.listener accepts to upstream ...
 *   (await service.accept()).close();
 *   upstream.close();
 * } // disposed: the service's own socket is back at `path`
 * service.close();
 * ```
 * @module
 */
import { bindAside, unixAddress, unixListenerAt } from "../address/unix.ts";
import {
  type FileId,
  lstatOrNull,
  type PrivateSocket,
  removeIfOurs,
  sameFile,
} from "../address/_socket_file.ts";
import { connect, parseAddress } from "../address/mod.ts";
import type { Address, Connection, ConnectOptions, Listener } from "../address/types.ts";
import { IpcatError, UnavailableError } from "../errors.ts";
import type { Log } from "../log.ts";

/** Where the service's socket waits while intercepted: same directory, a telling name. */
export function asidePath(path: string): string {
  return `${path}.ipcat-original`;
}

/** What {@linkcode intercept} set up. */
export interface TakenSocket {
  /** The socket path taken over. */
  readonly path: string;
  /** Where the service's own socket waits meanwhile ({@linkcode asidePath}). */
  readonly aside: string;
  /** The proxy's listener, now reachable at `path`. */
  readonly listener: Listener;
  /** The original socket's file mode, which the proxy's socket got too. */
  readonly mode: number;
  /** Put the original back at `path` if `path` is still ours. Safe to call twice. */
  restore(): void;
}

const MAX_PATH_BYTES = 107;

function describeFsError(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message.replace(/ \(os error \d+\).*$/, "") : String(error);
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

/**
 * chown the freshly bound socket to the service's owner. chown follows symlinks and the
 * private directory's own name sits in a directory others may write (they could rename it
 * and plant theirs), so the chown goes through the working directory: once entered and
 * checked to be a 0700 directory of ours, nobody else can change what `s` in it names.
 * All synchronous, so no other code runs while the working directory is moved.
 */
function giveAway(bound: PrivateSocket, uid: number, gid: number): void {
  const home = Deno.cwd();
  try {
    Deno.chdir(bound.dir);
    const here = Deno.statSync(".");
    const mine = here.isDirectory && here.uid === Deno.uid() && ((here.mode ?? 0) & 0o077) === 0;
    const name = bound.temp.slice(bound.dir.length + 1);
    if (!mine || !sameFile(bound, lstatOrNull(name))) {
      throw new Error("its private directory was tampered with; stopping");
    }
    Deno.chownSync(name, uid, gid);
  } catch (error) {
    // Not allowed (not root): the socket stays ours, with the original's mode.
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
  } finally {
    Deno.chdir(home);
  }
}

const restoreHint = (path: string) => `put it back with: ipcat inspect --restore ${path}`;

/** Move the live socket at `path` aside and listen there with its file mode. */
export async function intercept(path: string): Promise<TakenSocket> {
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
  const address = unixAddress(path);
  // Bound, and chowned, inside a private directory only this process can write: a user who
  // can write PATH's directory cannot swap the name for a symlink and have root chown their
  // pick.
  const bound = bindAside(address, mode);
  let linked = false;
  try {
    if (original.uid !== null && original.gid !== null) giveAway(bound, original.uid, original.gid);
    Deno.linkSync(path, aside);
    linked = true;
    if (!sameFile(original, lstatOrNull(aside))) {
      throw new Error(`${path} was replaced while ipcat was moving it aside; leaving it untouched`);
    }
    Deno.renameSync(bound.temp, path);
  } catch (error) {
    // The service's socket is still at PATH: the aside name is a spare link to drop.
    if (linked) removeIfOurs(aside, original, bound.dir);
    bound.dispose();
    throw new Error(`Cannot intercept ${path}: ${describeFsError(error)}`);
  }
  const listener = unixListenerAt(bound, address);
  const ours: FileId = bound;
  let restored = false;
  return {
    path,
    aside,
    listener,
    mode,
    restore() {
      if (restored) return;
      const current = lstatOrNull(path);
      if (current !== null && !sameFile(ours, current)) {
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

/**
 * A live socket taken over for the length of a run. Disposing puts it back (if nothing did
 * yet) and stops listening; so does a crash. A failed put-back is kept, not thrown, so it
 * never hides the error that ended the run: {@linkcode Interception.check} reports it.
 */
export class Interception implements Disposable {
  /** The socket path taken over. */
  readonly path: string;
  /** Where the service's own socket waits meanwhile ({@linkcode asidePath}). */
  readonly aside: string;
  /** The proxy's listener, reachable at `path`. */
  readonly listener: Listener;
  /** Where clients connect, as the log names it. */
  readonly listening: string;
  /** The service, at its aside name while intercepted. */
  readonly target: Address;
  #taken: TakenSocket;
  #log: Log;
  #connectOptions: ConnectOptions;
  #restored = false;
  #restoreError: unknown;
  // Even a crash puts the socket back (the exception still ends the process).
  #onCrash = () => this.restore();

  private constructor(taken: TakenSocket, log: Log, connectOptions: ConnectOptions) {
    this.#taken = taken;
    this.#log = log;
    this.#connectOptions = connectOptions;
    this.path = taken.path;
    this.aside = taken.aside;
    this.listener = taken.listener;
    this.listening = unixAddress(taken.path).text;
    this.target = unixAddress(taken.aside);
    globalThis.addEventListener("error", this.#onCrash);
    globalThis.addEventListener("unhandledrejection", this.#onCrash);
  }

  /** Move the live socket at `path` aside and listen there; see {@linkcode intercept}. */
  static async start(path: string, log: Log, connectOptions: ConnectOptions = {}): Promise<Interception> {
    return new Interception(await intercept(path), log, connectOptions);
  }

  /** True once the original socket was put back (or that was tried and failed). */
  get restored(): boolean {
    return this.#restored;
  }

  /** Put the original socket back at `path` (once) and log it. Never throws; see `check`. */
  restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    try {
      this.#taken.restore();
      this.#log("info", `restored ${this.path}`);
    } catch (error) {
      this.#restoreError = error;
    }
  }

  /** Throw the error the put-back met, if it failed. */
  check(): void {
    if (this.#restoreError) throw this.#restoreError;
  }

  /**
   * Connect to the service. A connection that races the put-back finds the service back
   * at its own path.
   */
  async connect(): Promise<Connection> {
    try {
      return await connect(this.target, this.#connectOptions);
    } catch (error) {
      if (!this.#restored) throw error;
      return await connect(parseAddress(this.listening));
    }
  }

  /** Put the socket back if nothing did yet, stop listening, drop the crash hooks. */
  [Symbol.dispose](): void {
    globalThis.removeEventListener("error", this.#onCrash);
    globalThis.removeEventListener("unhandledrejection", this.#onCrash);
    this.restore();
    this.listener.close();
  }
}
