/**
 * `unixgram:PATH`: Unix datagram sockets (SOCK_DGRAM), one message each. A server's replies
 * go to the sender's own socket path, so `send` and `pipe` bind one in a private temporary
 * directory and remove it when they close.
 *
 * @example
 * ```ts
 * import { unixgramTransport } from "./unixgram.ts";
 *
 * unixgramTransport.parse("/tmp/log.sock"); // { scheme: "unixgram", path: "/tmp/log.sock", ... }
 * ```
 * @module
 */
import { UnavailableError, UsageError } from "../errors.ts";
import { DatagramClient, DatagramListener } from "./_datagram.ts";
import { lstatOrNull, sameFile } from "./_socket_file.ts";
import type { Address, Transport } from "./types.ts";
import { connectError } from "./unix.ts";

/** A Unix datagram socket path. */
export interface UnixgramAddress extends Address {
  /** Always `unixgram`. */
  readonly scheme: "unixgram";
  /** The socket file's path. */
  readonly path: string;
}

/**
 * The largest datagram ipcat sends or takes on a Unix datagram socket. Linux bounds one by
 * the socket send buffer (net.core.wmem_default, 212,992 bytes by default, less overhead);
 * this stays under it so a datagram that passes the check is also one the kernel takes.
 */
export const MAX_UNIXGRAM_DATAGRAM = 200_000;

// sun_path is 108 bytes including the terminating NUL.
const MAX_PATH_BYTES = 107;

/** Is a socket bound at `path` right now? Linux lists every bound Unix socket's path. */
function bound(path: string): boolean {
  try {
    return Deno.readTextFileSync("/proc/net/unix").split("\n").some((line) => line.endsWith(` ${path}`));
  } catch {
    return true; // Cannot tell: never remove what might be live.
  }
}

/** Make room at the path: a stale socket goes, a live one or any other file stays. */
function clearStale(address: UnixgramAddress): void {
  const info = lstatOrNull(address.path);
  if (info === null) return;
  if (!info.isSocket) {
    throw new Error(
      `Cannot listen on ${address.text}: the path exists and is not a socket; leaving it untouched`,
    );
  }
  if (bound(address.path)) {
    throw new UnavailableError(
      `Cannot listen on ${address.text}: another socket is bound there`,
      "stop it first, or pick another path",
    );
  }
  Deno.removeSync(address.path);
}

const peerName = (listener: string) => (from: Deno.Addr) => {
  const path = (from as Deno.UnixAddr).path;
  // A sender that bound no path cannot be answered; it is known by the server's address.
  if (!path) return listener;
  // An abstract name starts with a NUL byte, which no environment variable can hold.
  return path.startsWith("\0") ? `unixgram:@${path.slice(1)}` : `unixgram:${path}`;
};

/** `unixgram:PATH`. */
export const unixgramTransport: Transport<UnixgramAddress> = {
  scheme: "unixgram",
  syntax: ["unixgram:PATH"],
  help: "Unix datagram socket, one message per datagram",
  messages: true,
  datagrams: true,
  parse(rest) {
    if (rest === "") {
      throw new UsageError(
        `Cannot parse address "unixgram:": the path is empty`,
        "write unixgram:/tmp/app.sock",
      );
    }
    const bytes = new TextEncoder().encode(rest).length;
    if (bytes > MAX_PATH_BYTES) {
      throw new UsageError(
        `Socket path "${rest}" is ${bytes} bytes; Unix sockets allow at most ${MAX_PATH_BYTES}`,
        "use a shorter path, e.g. under /tmp",
      );
    }
    return { scheme: "unixgram", text: `unixgram:${rest}`, path: rest };
  },
  connect(address) {
    const info = lstatOrNull(address.path);
    if (info === null) return Promise.reject(connectError(address.text, new Deno.errors.NotFound()));
    // The replies' address: a private directory nobody else can bind or swap names in.
    const dir = Deno.makeTempDirSync({ prefix: "ipcat-" });
    const socket = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/c` });
    const to: Deno.UnixAddr = { transport: "unixpacket", path: address.path };
    const client = new DatagramClient(socket, to, address.text, {
      maxMessage: MAX_UNIXGRAM_DATAGRAM,
      // The server's replies come from a socket of its own when it is ipcat (see listen).
      fromServer: () => true,
      exclusive: true,
      onClose: () => Deno.removeSync(dir, { recursive: true }),
      // A socket file nobody is bound to refuses, as a stream socket's stale file does.
      sendFailed: (error) => connectError(address.text, error),
    });
    return Promise.resolve(client);
  },
  listen(address, options) {
    let socket: Deno.DatagramConn;
    try {
      clearStale(address);
      // The umask decides the socket file's mode at bind time, so there is no chmod race.
      const previous = Deno.umask(0o777 & ~(options.mode ?? 0o600));
      try {
        socket = Deno.listenDatagram({ transport: "unixpacket", path: address.path });
      } finally {
        Deno.umask(previous);
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`Cannot listen on ${address.text}: the directory does not exist`);
      }
      if (error instanceof Deno.errors.PermissionDenied) {
        throw new Error(`Cannot listen on ${address.text}: permission denied`);
      }
      throw error;
    }
    const id = Deno.lstatSync(address.path);
    // Deno's Unix datagram socket cannot send while a receive is outstanding, and the server
    // always has one: replies go out through a second socket, bound in a private directory.
    const dir = Deno.makeTempDirSync({ prefix: "ipcat-" });
    const replies = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/r` });
    return Promise.resolve(
      new DatagramListener(
        socket,
        address.text,
        { maxMessage: MAX_UNIXGRAM_DATAGRAM, peerName: peerName(address.text), replies },
        // Only the file this server bound: one swapped in meanwhile is somebody else's.
        () => {
          if (sameFile(id, lstatOrNull(address.path))) Deno.removeSync(address.path);
          Deno.removeSync(dir, { recursive: true });
        },
      ),
    );
  },
};
