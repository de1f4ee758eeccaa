/**
 * `tcp:HOST:PORT`, `tcp:PORT`: TCP sockets, host 127.0.0.1 unless given; port 0 listens on a free port.
 *
 * @module
 */
import { UnavailableError, UsageError } from "../errors.ts";
import { SocketConnection } from "./_socket.ts";
import { connectError } from "./unix.ts";
import type { Address, Connection, Listener, ListenOptions, Transport } from "./types.ts";

/** A TCP host and port. */
export interface TcpAddress extends Address {
  /** `tcp`, or `tls` for the same address under TLS. */
  readonly scheme: "tcp" | "tls";
  /** Host name or IP literal, without IPv6 brackets. */
  readonly host: string;
  /** Port; 0 asks the OS for a free one when listening. */
  readonly port: number;
}

/** Format a host and port, bracketing IPv6 hosts. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Parse `HOST:PORT`, `PORT` or `[V6]:PORT`; host defaults to 127.0.0.1.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./tcp.ts";
 *
 * parseHostPort("tcp", "8080"); // { host: "127.0.0.1", port: 8080, ... }
 * ```
 */
export function parseHostPort<S extends string>(
  scheme: S,
  rest: string,
): Address & { scheme: S; host: string; port: number } {
  let host = "127.0.0.1";
  let portText = rest;
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (rest.includes(":")) {
    const colon = rest.lastIndexOf(":");
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(":")) {
      throw new UsageError(
        `Cannot parse address "${scheme}:${rest}": IPv6 hosts need brackets`,
        `write ${scheme}:[${host}]:${portText}`,
      );
    }
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535 || host === "") {
    throw new UsageError(
      `Cannot parse address "${scheme}:${rest}": expected ${scheme}:HOST:PORT or ${scheme}:PORT`,
      `for example ${scheme}:127.0.0.1:8080`,
    );
  }
  return { scheme, text: `${scheme}:${hostPort(host, port)}`, host, port };
}

/** A TCP or TLS listener; connections get TCP_NODELAY (messages are small and latency matters). */
export class TcpListener implements Listener {
  #listener: Deno.Listener<Deno.TcpConn | Deno.TlsConn, Deno.NetAddr>;
  readonly address: string;

  /** Wrap a Deno listener; `scheme` prefixes the addresses it reports. */
  constructor(listener: Deno.Listener<Deno.TcpConn | Deno.TlsConn, Deno.NetAddr>, scheme: "tcp" | "tls") {
    this.#listener = listener;
    this.address = `${scheme}:${hostPort(listener.addr.hostname, listener.addr.port)}`;
  }
  /** The next connection, with TCP_NODELAY set. */
  async accept(): Promise<Connection> {
    const conn = await this.#listener.accept();
    if ("setNoDelay" in conn) conn.setNoDelay(true);
    const peer = conn.remoteAddr as Deno.NetAddr;
    return new SocketConnection(conn, `tcp:${hostPort(peer.hostname, peer.port)}`);
  }
  close(): void {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}

/** `tcp:HOST:PORT`, `tcp:PORT`, `tcp:[::1]:PORT`. */
export const tcpTransport: Transport<TcpAddress> = {
  scheme: "tcp",
  syntax: ["tcp:HOST:PORT", "tcp:PORT", "tcp:[::1]:PORT"],
  help: "TCP (host defaults to 127.0.0.1)",
  parse: (rest) => parseHostPort("tcp", rest),
  async connect(address) {
    try {
      const conn = await Deno.connect({ hostname: address.host, port: address.port });
      conn.setNoDelay(true);
      return new SocketConnection(conn, address.text);
    } catch (error) {
      throw connectError(address.text, error);
    }
  },
  listen(address, _options: ListenOptions) {
    return Promise.resolve(
      listenTcp(address, () => Deno.listen({ hostname: address.host, port: address.port })),
    );
  },
};

/** Run `open` (a TCP or TLS listen), turning failures into clear errors. */
export function listenTcp(
  address: TcpAddress,
  open: () => Deno.Listener<Deno.TcpConn | Deno.TlsConn, Deno.NetAddr>,
): Listener {
  try {
    return new TcpListener(open(), address.scheme);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UnavailableError(`Cannot listen on ${address.text}: address in use`);
    }
    throw new Error(`Cannot listen on ${address.text}: ${(error as Error).message}`);
  }
}
