/**
 * `tls:HOST:PORT`: TLS over TCP, on Deno's TLS with the system's CAs.
 *
 * @module
 */
import { IpcatError, UsageError } from "../errors.ts";
import { SocketConnection } from "./_socket.ts";
import { listenTcp, parseHostPort, type TcpAddress } from "./tcp.ts";
import type { Transport } from "./types.ts";
import { connectError } from "./unix.ts";

/**
 * `tls:HOST:PORT`: TLS over TCP. Serving needs `--cert` and `--key`; connecting trusts the
 * system's CAs plus any given with `--ca`.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./tcp.ts";
 * import { tlsTransport } from "./tls.ts";
 *
 * // Needs a TLS server on the network: defined (so type-checked) but not run.
 * async function _fetchHead(): Promise<void> {
 *   const conn = await tlsTransport.connect!(parseHostPort("tls", "example.org:443"), {});
 *   await conn.write(new TextEncoder().encode("HEAD / HTTP/1.0\r\n\r\n"));
 *   conn.close();
 * }
 * ```
 */
export const tlsTransport: Transport<TcpAddress> = {
  scheme: "tls",
  syntax: ["tls:HOST:PORT", "tls:PORT"],
  help: "TLS over TCP (serve: --cert/--key; --ca to trust a private CA)",
  parse: (rest) => parseHostPort("tls", rest),
  async connect(address, options) {
    let conn: Deno.TlsConn;
    try {
      conn = await Deno.connectTls({ hostname: address.host, port: address.port, caCerts: options.caCerts });
      await conn.handshake();
    } catch (error) {
      if (error instanceof Deno.errors.InvalidData || /certificate/i.test((error as Error).message)) {
        throw new IpcatError(
          `Cannot connect to ${address.text}: TLS handshake failed: ${(error as Error).message}`,
          "--ca FILE trusts a private CA",
          { cause: error },
        );
      }
      throw connectError(address.text, error);
    }
    return new SocketConnection(conn, address.text);
  },
  listen(address, options) {
    if (!options.tls) {
      throw new UsageError(
        `Cannot listen on ${address.text}: TLS needs a certificate`,
        "give --cert FILE --key FILE",
      );
    }
    const { cert, key } = options.tls;
    return Promise.resolve(
      listenTcp(address, () => Deno.listenTls({ hostname: address.host, port: address.port, cert, key })),
    );
  },
};
