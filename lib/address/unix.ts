import { UnavailableError, UsageError } from "../errors.ts";
import { SocketConnection } from "./_socket.ts";
import type { Address, Connection, Listener, ListenOptions, Transport } from "./types.ts";

/** A Unix stream socket path. */
export interface UnixAddress extends Address {
  readonly scheme: "unix";
  readonly path: string;
}

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
 * Decide what an existing path means before listening: a stale socket is removed, a live
 * one is an `UnavailableError`, anything that is not a socket is left alone (plain Error).
 */
async function clearStale(address: UnixAddress): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(address.path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
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
      await Deno.remove(address.path);
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
  #listener: Deno.Listener;
  #path: string;
  #ino: number | null;
  readonly address: string;

  constructor(listener: Deno.Listener, address: UnixAddress) {
    this.#listener = listener;
    this.#path = address.path;
    this.#ino = Deno.lstatSync(address.path).ino;
    this.address = address.text;
  }

  async accept(): Promise<Connection> {
    const conn = await this.#listener.accept();
    return new SocketConnection(conn, this.address);
  }

  close(): void {
    // Closing a Deno unix listener unlinks the path whoever owns it now. If another process
    // has since bound it, keep its socket: link it aside, close, then put it back.
    let current: number | null = null;
    try {
      current = Deno.lstatSync(this.#path).ino;
    } catch {
      current = null;
    }
    if (current !== null && current !== this.#ino) {
      const aside = `${this.#path}.ipcat-keep-${Deno.pid}`;
      Deno.linkSync(this.#path, aside);
      this.#listener.close();
      Deno.renameSync(aside, this.#path);
      return;
    }
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}

/** Listen on a Unix socket with the requested file mode and the stale-socket rules. */
export async function listenUnix(address: UnixAddress, options: ListenOptions): Promise<Listener> {
  checkPath(address.path);
  await clearStale(address);
  const mode = options.mode ?? 0o600;
  // The umask decides the socket file's mode at bind time, so there is no chmod race.
  const previous = Deno.umask(0o777 & ~mode);
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ transport: "unix", path: address.path });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UnavailableError(`Cannot listen on ${address.text}: address in use`);
    }
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot listen on ${address.text}: the directory does not exist`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new Error(`Cannot listen on ${address.text}: permission denied`);
    }
    throw error;
  } finally {
    Deno.umask(previous);
  }
  return new UnixListener(listener, address);
}

/** `unix:PATH`, or a bare path containing `/` or ending in `.sock`. */
export const unixTransport: Transport<UnixAddress> = {
  scheme: "unix",
  syntax: ["unix:PATH", "PATH (containing / or ending in .sock)"],
  help: "Unix stream socket",
  parse(rest) {
    if (rest === "") {
      throw new UsageError(`Cannot parse address "unix:": the path is empty`, "write unix:/tmp/app.sock");
    }
    return { scheme: "unix", text: `unix:${rest}`, path: rest };
  },
  connect: connectUnix,
  listen: listenUnix,
};
