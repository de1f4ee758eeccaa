/**
 * TLS through `node:tls`, for what Deno's own TLS cannot do: verify the server ourselves
 * (`--pin`, `--insecure`, a self-signed `--ca` certificate marked CA:TRUE, which rustls refuses
 * as `CaUsedAsEndEntity`) and ask clients for a certificate (`serve --client-ca`).
 * `node:tls` costs 25-60 ms to load, so it is imported only when one of those options is used.
 * @module
 */
import type * as NodeTls from "node:tls";
import type { Connection, ConnectOptions, Listener } from "./types.ts";

type NodeTlsModule = typeof NodeTls;

let loading: Promise<NodeTlsModule> | undefined;

/** `node:tls`, loaded on first use. */
export function nodeTls(): Promise<typeof NodeTls> {
  return loading ??= import("node:tls");
}

/** Past this many bytes received and not yet read, stop reading the socket (backpressure). */
const HIGH_WATER = 256 * 1024;

/** Node's socket errors as the Deno errors the rest of ipcat tells apart. */
function denoError(error: Error & { code?: string }): Error {
  const Kind = {
    ECONNRESET: Deno.errors.ConnectionReset,
    EPIPE: Deno.errors.BrokenPipe,
    ECONNREFUSED: Deno.errors.ConnectionRefused,
    ECONNABORTED: Deno.errors.ConnectionAborted,
    EADDRINUSE: Deno.errors.AddrInUse,
  }[error.code ?? ""];
  return Kind ? new Kind(error.message, { cause: error }) : error;
}

/**
 * A `node:tls` socket as a {@linkcode Connection}: reads queue until `read` takes them,
 * a write resolves once node has flushed it (the caller may then reuse its buffer), and
 * `closeWrite` sends close_notify and FIN while the other direction stays open.
 */
export class NodeTlsConnection implements Connection {
  #socket: NodeTls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  #ended = false;
  #closed = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  /** Who is on the other end, for logs and `IPCAT_PEER`. */
  readonly peer: string;

  /** Wrap `socket`, listening to it at once so no data or error is missed. */
  constructor(socket: NodeTls.TLSSocket, peer: string) {
    this.#socket = socket;
    this.peer = peer;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered >= HIGH_WATER) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error ??= denoError(error);
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#closed) return null;
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      this.#socket.resume();
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks[0];
    const n = Math.min(buffer.length, chunk.length - this.#offset);
    buffer.set(chunk.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    this.#buffered -= n;
    if (this.#offset === chunk.length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
    if (this.#buffered < HIGH_WATER && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Connection closed"));
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (error?: Error | null) => {
        if (error) reject(this.#error ?? denoError(error));
        else resolve(data.length);
      });
    });
  }

  closeWrite(): Promise<void> {
    if (this.#closed || this.#socket.writableEnded) return Promise.resolve();
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#notify();
  }
}

/** What {@linkcode connectNodeTls} found wrong with the server's certificate. */
export class PeerRejected extends Error {
  /** Always `PeerRejected`: how `tls.ts` tells it apart without importing this module. */
  override name = "PeerRejected";
  /** `pin`, `name`, or what node's chain check said (`DEPTH_ZERO_SELF_SIGNED_CERT`, ...). */
  readonly code: string;
  /** A rejection with its `code` and node's (or our) `message`. */
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** The DER bytes of each certificate in PEM text. */
function pemCertificates(pem: string): Uint8Array[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)]
    .map((m) => Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0)));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Connect with `node:tls` and verify the server ourselves: against `pin` (its certificate's
 * SHA-256), or not at all with `insecure`, or else against the system CAs plus `caCerts`
 * (where a server certificate identical to one given is trusted even when it is marked as a
 * CA), then its name. Throws {@linkcode PeerRejected} when the server is not trusted.
 */
export async function connectNodeTls(
  host: string,
  port: number,
  peer: string,
  options: ConnectOptions,
): Promise<NodeTlsConnection> {
  const tls = await nodeTls();
  const name = options.servername ?? host;
  const byAddress = /^[\d.]+$|:/.test(name);
  const caCerts = options.caCerts ?? [];
  // allowHalfOpen is passed on to the socket (half-close) though node's types leave it out.
  const connectOptions: NodeTls.ConnectionOptions & { allowHalfOpen: boolean } = {
    host,
    port,
    // Node refuses an IP address as SNI: a server reached by address gets none, as with curl.
    servername: byAddress ? undefined : name,
    ca: caCerts.length ? [...tls.rootCertificates, ...caCerts] : undefined,
    cert: options.clientCert?.cert,
    key: options.clientCert?.key,
    rejectUnauthorized: false,
    allowHalfOpen: true,
  };
  const socket = tls.connect(connectOptions);
  // Listening from the start: a failure right after the handshake (a server refusing our
  // certificate under TLS 1.3) must reach the connection, not the top level.
  const conn = new NodeTlsConnection(socket, peer);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", (error: Error) => {
      socket.destroy();
      reject(denoError(error));
    });
    socket.once("secureConnect", () => resolve());
  });
  const certificate = socket.getPeerCertificate(true);
  const rejected = (code: string, message: string) => {
    socket.destroy();
    return new PeerRejected(code, message);
  };
  if (options.pin !== undefined) {
    const fingerprint = (certificate.fingerprint256 ?? "").replaceAll(":", "").toLowerCase();
    if (fingerprint !== options.pin) throw rejected("pin", fingerprint);
  } else if (!options.insecure) {
    const given = pemCertificates(caCerts.join("\n"));
    const identical = certificate.raw !== undefined && given.some((der) => sameBytes(der, certificate.raw));
    if (!socket.authorized && !identical) {
      throw rejected(String(socket.authorizationError ?? "UNTRUSTED"), String(socket.authorizationError));
    }
    const mismatch = tls.checkServerIdentity(name, certificate);
    if (mismatch) throw rejected("name", mismatch.message);
  }
  return conn;
}

/**
 * A `node:tls` server that requires a client certificate issued by one of `clientCa`: clients
 * without one, or with another, fail their handshake (told to `onRefused`) and are never accepted.
 */
export class NodeTlsListener implements Listener {
  #server: NodeTls.Server;
  #ready: NodeTlsConnection[] = [];
  #waiting: { resolve: (conn: Connection) => void; reject: (error: Error) => void }[] = [];
  #closed = false;
  readonly address: string;

  private constructor(server: NodeTls.Server, address: string) {
    this.#server = server;
    this.address = address;
  }

  /** Listen on `host:port`; `describe` names a bound address and a peer (`tls:127.0.0.1:9000`). */
  static async open(
    host: string,
    port: number,
    tls: { cert: string; key: string; clientCa: string[] },
    describe: (host: string, port: number) => string,
    onRefused: (peer: string, error: Error) => void,
  ): Promise<NodeTlsListener> {
    const { createServer } = await nodeTls();
    const server = createServer({
      cert: tls.cert,
      key: tls.key,
      ca: tls.clientCa,
      requestCert: true,
      // Checked in "secureConnection" instead, where the reason can be logged in plain words.
      rejectUnauthorized: false,
      allowHalfOpen: true,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: Error) => reject(denoError(error)));
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as { address: string; port: number };
    const listener = new NodeTlsListener(server, describe(bound.address, bound.port));
    server.on("secureConnection", (socket: NodeTls.TLSSocket) => {
      const peer = describe(socket.remoteAddress ?? "?", socket.remotePort ?? 0);
      if (!socket.authorized) {
        const sent = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
        onRefused(
          peer,
          new PeerRejected(sent ? String(socket.authorizationError) : "NO_CERTIFICATE", "refused"),
        );
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      const conn = new NodeTlsConnection(socket, peer);
      const waiter = listener.#waiting.shift();
      if (waiter) waiter.resolve(conn);
      else listener.#ready.push(conn);
    });
    server.on("tlsClientError", (error: Error) => onRefused("a client", error));
    return listener;
  }

  accept(): Promise<Connection> {
    const conn = this.#ready.shift();
    if (conn) return Promise.resolve(conn);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Listener closed"));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const conn of this.#ready.splice(0)) conn.close();
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new Deno.errors.BadResource("Listener closed"));
    }
  }
}
