/**
 * `tls:HOST:PORT`: TLS over TCP, on Deno's TLS with the system's CAs.
 *
 * @module
 */
import { IpcatError, UnavailableError, UsageError } from "../errors.ts";
import { SocketConnection } from "./_socket.ts";
import { hostPort, listenTcp, parseHostPort, type TcpAddress } from "./tcp.ts";
import type { Connection, ConnectOptions, Transport } from "./types.ts";
import { connectError } from "./unix.ts";

/**
 * `tls:HOST:PORT`: TLS over TCP. Serving needs `--cert` and `--key` (and `--client-ca` to
 * require client certificates); connecting trusts the system's CAs plus any given with `--ca`,
 * or exactly one certificate with `--pin`, or anything with `--insecure`.
 *
 * Deno's own TLS (rustls) serves the default path. It cannot trust a self-signed certificate
 * marked CA:TRUE (what `openssl req -x509` makes), skip or replace verification, or ask a
 * client for a certificate, so `--ca`, `--pin`, `--insecure`, `--servername` and
 * `--client-ca` go through `node:tls`, loaded only then (`_node_tls.ts`).
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
  help: "TLS over TCP (serve: --cert/--key, --client-ca; connect: --ca, --pin, -k, --cert/--key)",
  parse: (rest) => parseHostPort("tls", rest),
  async connect(address, options) {
    const verifiesItself = options.caCerts !== undefined || options.pin !== undefined || options.insecure ||
      options.servername !== undefined;
    try {
      if (verifiesItself) {
        const { connectNodeTls } = await import("./_node_tls.ts");
        const conn = await connectNodeTls(address.host, address.port, address.text, options);
        if (options.insecure) {
          options.log?.("info", `warning: ${address.text}: its certificate was not verified (--insecure)`);
        }
        return new PlainTlsErrors(conn, "client");
      }
      return await connectDenoTls(address, options);
    } catch (error) {
      throw handshakeError(address, options, error);
    }
  },
  async listen(address, options) {
    if (!options.tls) {
      throw new UsageError(
        `Cannot listen on ${address.text}: TLS needs a certificate`,
        "give --cert FILE --key FILE",
      );
    }
    const { cert, key, clientCa } = options.tls;
    if (clientCa === undefined) {
      const listener = listenTcp(
        address,
        () => Deno.listenTls({ hostname: address.host, port: address.port, cert, key }),
      );
      return {
        address: listener.address,
        accept: async () => new PlainTlsErrors(await listener.accept(), "server"),
        close: () => listener.close(),
      };
    }
    const { NodeTlsListener } = await import("./_node_tls.ts");
    try {
      return await NodeTlsListener.open(
        address.host,
        address.port,
        { cert, key, clientCa },
        (host, port) => `tls:${hostPort(host, port)}`,
        (peer, error) => options.log?.("error", `${peer}: refused: ${tlsFailure(error, "server").why}`),
      );
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        throw new UnavailableError(`Cannot listen on ${address.text}: address in use`);
      }
      throw new Error(`Cannot listen on ${address.text}: ${tlsFailure(error, "server").why}`);
    }
  },
};

async function connectDenoTls(address: TcpAddress, options: ConnectOptions): Promise<Connection> {
  const conn = await Deno.connectTls({
    hostname: address.host,
    port: address.port,
    cert: options.clientCert?.cert,
    key: options.clientCert?.key,
  });
  try {
    await conn.handshake();
  } catch (error) {
    conn.close();
    throw error;
  }
  return new PlainTlsErrors(new SocketConnection(conn, address.text), "client");
}

/**
 * A Deno TLS connection whose failures (a server's handshake runs on its first read) read as
 * plain words. An end without close_notify (node:tls peers, killed clients) is a client gone
 * for a server, as a TCP reset is, and the end of the data for a client, as for socat: a
 * message cut short is still caught by the framing.
 */
class PlainTlsErrors implements Connection {
  #conn: Connection;
  #side: "client" | "server";
  readonly peer: string;
  constructor(conn: Connection, side: "client" | "server") {
    this.#conn = conn;
    this.#side = side;
    this.peer = conn.peer;
  }
  read(buffer: Uint8Array): Promise<number | null> {
    return this.#conn.read(buffer).catch((error) => {
      if (error instanceof Deno.errors.UnexpectedEof && this.#side === "client") return null;
      return this.#translated(error);
    });
  }
  write(data: Uint8Array): Promise<number> {
    return this.#conn.write(data).catch((error) => this.#translated(error));
  }
  closeWrite(): Promise<void> {
    return this.#conn.closeWrite().catch((error) => this.#translated(error));
  }
  close(): void | Promise<void> {
    return this.#conn.close();
  }
  #translated(error: unknown): never {
    if (error instanceof Deno.errors.UnexpectedEof) {
      throw new Deno.errors.ConnectionReset("closed without TLS close_notify", { cause: error });
    }
    if (!isTlsError(error)) throw error;
    const failure = tlsFailure(error, this.#side);
    throw new IpcatError(`TLS failed: ${failure.why}`, failure.hint, { cause: error });
  }
}

/** A TLS failure in plain words, and the option that fixes it. */
export interface TlsFailure {
  /** What went wrong, to follow `TLS handshake failed: `. */
  why: string;
  /** The option or step that fixes it, when there is one. */
  hint?: string;
}

const TRUST_HINT = "--ca FILE trusts its CA or the certificate itself; --pin sha256:HEX trusts exactly it";

/**
 * What went wrong in a handshake, from rustls's debug names (Deno's TLS), node's
 * verification codes and OpenSSL alert texts; anything else is the error's own message
 * without its debug wrapping.
 *
 * @example
 * ```ts
 * import { tlsFailure } from "./tls.ts";
 *
 * tlsFailure(new Error("invalid peer certificate: UnknownIssuer"), "client");
 * // { why: "its certificate is not signed by a trusted CA", hint: "--ca FILE trusts ..." }
 * ```
 */
export function tlsFailure(error: unknown, side: "client" | "server", name = "the server"): TlsFailure {
  const code = (error as { code?: string }).code ?? "";
  const text = `${code} ${error instanceof Error ? error.message : String(error)}`;
  const table: [RegExp, TlsFailure][] = [
    [/^pin /, { why: "its certificate is not the pinned one", hint: "check --pin against its fingerprint" }],
    [/CaUsedAsEndEntity|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN/, {
      why: "its certificate is self-signed and not trusted",
      hint: TRUST_HINT,
    }],
    [/UnknownIssuer|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|UNTRUSTED/, {
      why: "its certificate is not signed by a trusted CA",
      hint: TRUST_HINT,
    }],
    [/NotValidForName|ERR_TLS_CERT_ALTNAME_INVALID|^name /, {
      why: `its certificate is not for ${name}`,
      hint: "connect by a name the certificate lists, or give --servername NAME",
    }],
    [/Expired|CERT_HAS_EXPIRED/, { why: "its certificate has expired" }],
    [/NotValidYet|CERT_NOT_YET_VALID/, { why: "its certificate is not valid yet (check the clock)" }],
    [/UnsupportedCertVersion/, {
      why: "a certificate is X.509 version 1 (made without extensions)",
      hint: "reissue it with -extfile or -addext, as README's recipe does",
    }],
    [
      /NO_CERTIFICATE|CertificateRequired|certificate required|PEER_DID_NOT_RETURN_A_CERTIFICATE|no certificates/i,
      {
        why: side === "client" ? "the server requires a client certificate" : "it sent no client certificate",
        hint: "give --cert FILE --key FILE",
      },
    ],
    [
      /BadCertificate|UnknownCA|unknown ca|bad certificate|DecryptError|certificate ?unknown/i,
      side === "client"
        ? {
          why: "the server refused the client certificate",
          hint: "--cert must be issued by a CA the server trusts",
        }
        : {
          why: "the client refused this server's certificate",
          hint: "the client must trust it (--ca, --pin)",
        },
    ],
    [/InvalidContentType|CorruptMessage|wrong version number|WRONG_VERSION_NUMBER|packet length too long/i, {
      why: "the other side does not speak TLS",
      hint: "is it a plain tcp: service?",
    }],
    [/InvalidCertificate|invalid peer certificate|certificate verify failed/i, {
      why: "its certificate is not valid",
      hint: TRUST_HINT,
    }],
  ];
  const found = table.find(([pattern]) => pattern.test(text));
  if (found) return found[1];
  const words = (error instanceof Error ? error.message : String(error))
    .replace(/\s*\(os error \d+\)/, "")
    .replace(/\b[A-Z]\w*\((\w*\()*(\w+)\)*/g, "$2");
  return { why: words };
}

/** A failed connect as one line: a TLS failure in plain words, anything else as a TCP connect. */
function handshakeError(address: TcpAddress, options: ConnectOptions, error: unknown): Error {
  if (error instanceof IpcatError) return error;
  if (!(error instanceof Deno.errors.UnexpectedEof || isTlsError(error))) {
    return connectError(address.text, error);
  }
  const name = options.servername ?? address.host;
  const failure = tlsFailure(error, "client", name);
  const why =
    error instanceof Error && error.name === "PeerRejected" && (error as { code?: string }).code === "pin"
      ? `${failure.why} (it is sha256:${error.message})`
      : failure.why;
  return new IpcatError(
    `Cannot connect to ${address.text}: TLS handshake failed: ${why}`,
    failure.hint,
    { cause: error },
  );
}

/** Did TLS itself fail (a certificate, an alert, not TLS at all), rather than the TCP under it? */
function isTlsError(error: unknown): boolean {
  if (error instanceof Deno.errors.InvalidData) return true;
  if (!(error instanceof Error) || error instanceof Deno.errors.ConnectionRefused) return false;
  const code = (error as { code?: string }).code ?? "";
  return error.name === "PeerRejected" ||
    /alert|certificate|tls|ssl|handshake/i.test(`${code} ${error.message}`);
}
