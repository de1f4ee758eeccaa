/**
 * `unix:PATH`: Unix stream sockets, listened on without ever touching somebody else's file.
 *
 * @module
 */
import { IpcatError, UnavailableError, UsageError } from "../errors.ts";
import { SocketConnection } from "./_socket.ts";
import {
  bindPrivately,
  lstatOrNull,
  PRIVATE_OVERHEAD,
  type PrivateSocket,
  removeIfOurs,
} from "./_socket_file.ts";
import type { Address, Connection, Listener, ListenOptions, Transport } from "./types.ts";

/** A Unix stream socket path. */
export interface UnixAddress extends Address {
  /** Always `unix`. */
  readonly scheme: "unix";
  /** The file path, or for an abstract socket (`unix:@NAME`) a NUL and the name, as Deno takes it. */
  readonly path: string;
}

/** Is this a Linux abstract socket (`unix:@NAME`): a name with no file behind it? */
const isAbstract = (address: UnixAddress) => address.path.startsWith("\0");

// sun_path is 108 bytes including the terminating NUL.
const MAX_PATH_BYTES = 107;

function checkPath(path: string) {
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_PATH_BYTES) {
    throw new UsageError(
      `Socket path "${path}" is ${bytes} bytes; Unix sockets allow at most ${MAX_PATH_BYTES}`,
      "use a shorter path, e.g. under /tmp",
    );
  }
}

/** Connect to a Unix socket, mapping failures to clear errors. */
export async function connectUnix(address: UnixAddress): Promise<Connection> {
  checkPath(address.path);
  try {
    const conn = await Deno.connect({ transport: "unix", path: address.path });
    return new SocketConnection(conn, address.text);
  } catch (error) {
    throw connectError(address.text, error);
  }
}

/** Turn a connect failure into an `UnavailableError` that says why. */
export function connectError(text: string, error: unknown): Error {
  if (error instanceof Deno.errors.NotFound) {
    return new UnavailableError(
      `Cannot connect to ${text}: no such socket`,
      "is the server running? --wait 5s retries until it appears",
    );
  }
  if (error instanceof Deno.errors.ConnectionRefused) {
    return new UnavailableError(
      `Cannot connect to ${text}: connection refused`,
      "nothing is listening there; --wait 5s retries until something does",
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new Error(`Cannot connect to ${text}: permission denied`);
  }
  return new UnavailableError(
    `Cannot connect to ${text}: ${error instanceof Error ? error.message : error}`,
  );
}

/**
 * Make room at the path for a new socket: a stale socket (nobody listening) is removed, a
 * live one is an `UnavailableError`, anything that is not a socket is left alone (plain
 * Error). The stale socket is moved into `bound`'s private directory and checked there
 * before it is unlinked, so a file swapped in after the check goes back untouched.
 */
async function clearStale(address: UnixAddress, bound: PrivateSocket): Promise<void> {
  const info = lstatOrNull(address.path);
  if (info === null) return;
  if (!info.isSocket) {
    throw new Error(
      `Cannot listen on ${address.text}: the path exists and is not a socket; leaving it untouched`,
    );
  }
  try {
    const probe = await Deno.connect({ transport: "unix", path: address.path });
    probe.close();
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      if (removeIfOurs(address.path, info, bound.dir) === "not ours") {
        throw new Error(
          `Cannot listen on ${address.text}: the path was replaced while ipcat was removing a stale socket there; leaving it untouched`,
        );
      }
      return;
    }
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  throw new UnavailableError(
    `Cannot listen on ${address.text}: another server is listening there`,
    "stop it first, or pick another path",
  );
}

class UnixListener implements Listener {
  #bound: PrivateSocket;
  #path: string;
  #log?: ListenOptions["log"];
  #closed = false;
  readonly address: string;

  constructor(bound: PrivateSocket, address: UnixAddress, log?: ListenOptions["log"]) {
    this.#bound = bound;
    this.#path = address.path;
    this.#log = log;
    this.address = address.text;
  }

  async accept(): Promise<Connection> {
    const conn = await this.#bound.listener.accept();
    return new SocketConnection(conn, this.address);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      // Deno's own unlink at close only reaches the private directory; the public path is
      // removed here, and only if it is still the socket this process bound.
      if (removeIfOurs(this.#path, this.#bound, this.#bound.dir) === "not ours") {
        this.#log?.("info", `left ${this.#path} alone: it is no longer this server's socket`);
      }
    } catch (error) {
      this.#log?.("error", (error as Error).message);
    } finally {
      this.#bound.dispose();
    }
  }
}

/** The listener for a socket that `bindAside` bound and the caller has put at `address`'s path. */
export function unixListenerAt(
  bound: PrivateSocket,
  address: UnixAddress,
  options: ListenOptions = {},
): Listener {
  return new UnixListener(bound, address, options.log);
}

/**
 * An abstract socket: no file, so no stale-socket rules and nothing to remove; the kernel
 * frees the name when the socket closes.
 */
class AbstractListener implements Listener {
  #listener: Deno.Listener;
  readonly address: string;
  constructor(listener: Deno.Listener, address: UnixAddress) {
    this.#listener = listener;
    this.address = address.text;
  }
  async accept(): Promise<Connection> {
    return new SocketConnection(await this.#listener.accept(), this.address);
  }
  close(): void {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}

function listenAbstract(address: UnixAddress, options: ListenOptions): Listener {
  // There is no file to give a mode: any process in the same network namespace can connect.
  if (options.mode !== undefined && options.mode !== 0o600) {
    options.log?.(
      "info",
      `--mode does not apply to ${address.text}: an abstract socket has no file; any process in this network namespace can connect`,
    );
  }
  try {
    return new AbstractListener(Deno.listen({ transport: "unix", path: address.path }), address);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UnavailableError(
        `Cannot listen on ${address.text}: another server is listening there`,
        "stop it first, or pick another name",
      );
    }
    throw listenError(address, error);
  }
}

/** Listen on a Unix socket with the requested file mode and the stale-socket rules. */
export async function listenUnix(address: UnixAddress, options: ListenOptions): Promise<Listener> {
  checkPath(address.path);
  if (isAbstract(address)) return listenAbstract(address, options);
  const bound = bindAside(address, options.mode ?? 0o600);
  try {
    // link, unlike rename, never replaces a name: whatever appears at the path in the
    // meantime is met by clearStale's rules again instead of being clobbered.
    for (let attempt = 0;; attempt++) {
      try {
        Deno.linkSync(bound.temp, address.path);
        break;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists) || attempt >= 5) throw error;
        await clearStale(address, bound);
      }
    }
    Deno.removeSync(bound.temp);
  } catch (error) {
    bound.dispose();
    throw listenError(address, error);
  }
  return new UnixListener(bound, address, options.log);
}

/** Bind in a private directory beside the path (see `_socket_file.ts` for why). */
export function bindAside(address: UnixAddress, mode: number): PrivateSocket {
  const dirBytes = new TextEncoder().encode(address.path).length -
    new TextEncoder().encode(address.path.slice(address.path.lastIndexOf("/") + 1)).length;
  if (dirBytes + PRIVATE_OVERHEAD > MAX_PATH_BYTES) {
    throw new UsageError(
      `Socket path "${address.path}" is in a directory too deep for ipcat's private bind name (${
        dirBytes + PRIVATE_OVERHEAD
      } bytes; Unix sockets allow at most ${MAX_PATH_BYTES})`,
      "use a shorter directory, e.g. /tmp",
    );
  }
  try {
    return bindPrivately(address.path, mode);
  } catch (error) {
    throw listenError(address, error);
  }
}

function listenError(address: UnixAddress, error: unknown): unknown {
  // ipcat's own errors already say what happened; only the OS's are reworded.
  if (error instanceof IpcatError || !(error instanceof Error) || error.constructor === Error) return error;
  if (error instanceof Deno.errors.AddrInUse) {
    return new UnavailableError(`Cannot listen on ${address.text}: address in use`);
  }
  if (error instanceof Deno.errors.NotFound) {
    return new Error(`Cannot listen on ${address.text}: the directory does not exist`);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new Error(`Cannot listen on ${address.text}: permission denied`);
  }
  return new Error(`Cannot listen on ${address.text}: ${error.message}`);
}

/**
 * The address of the Unix socket at `path`, for code that has a path rather than an argument
 * (`inspect --intercept`).
 *
 * @example
 * ```ts
 * import { unixAddress } from "./unix.ts";
 *
 * unixAddress("/tmp/app.sock"); // { scheme: "unix", text: "unix:/tmp/app.sock", path: "/tmp/app.sock" }
 * ```
 */
export function unixAddress(path: string): UnixAddress {
  return { scheme: "unix", text: `unix:${path}`, path };
}

/** `unix:@NAME`: Linux's abstract namespace, which Deno reaches with a path starting with NUL. */
function abstractAddress(name: string): UnixAddress {
  return { scheme: "unix", text: `unix:@${name}`, path: `\0${name}` };
}

/** `unix:PATH`, or a bare path containing `/` or ending in `.sock`. */
export const unixTransport: Transport<UnixAddress> = {
  scheme: "unix",
  syntax: ["unix:PATH", "PATH (containing / or ending in .sock)", "unix:@NAME (Linux abstract socket)"],
  help: "Unix stream socket",
  unnamedPeers: true,
  // A bare argument is a path when it looks like one: a word followed by a colon is a
  // scheme, so a relative path with a colon in it needs `unix:` spelled out.
  bare: (text) => text.includes("/") || text.endsWith(".sock"),
  parse(rest) {
    if (rest === "") {
      throw new UsageError(`Cannot parse address "unix:": the path is empty`, "write unix:/tmp/app.sock");
    }
    if (rest === "@") {
      throw new UsageError(`Cannot parse address "unix:@": the abstract name is empty`, "write unix:@app");
    }
    return rest.startsWith("@") ? abstractAddress(rest.slice(1)) : unixAddress(rest);
  },
  connect: connectUnix,
  listen: listenUnix,
};
