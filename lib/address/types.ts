/**
 * What a transport provides: parsing its address form, and opening it.
 * @module
 */
import type { Log } from "../log.ts";
import type { WebSocketOptions } from "./ws.ts";

/**
 * A live, bidirectional byte connection, shaped like Deno's own: `read`, `write`,
 * `closeWrite`, `close`. A caller that needs Web Streams wraps it with `toStreams`.
 */
export interface Connection {
  /** Read into `buffer`; the number of bytes read, or null at EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Optional zero-copy read for bulk relays: the next chunk as a view that stays valid only
   * until the next call, or null at EOF. Use either this or `read`, not both.
   */
  readView?(): Promise<Uint8Array | null>;
  /** Write some of `data`; returns how many bytes were written. */
  write(data: Uint8Array): Promise<number>;
  /** Half-close: the peer reads EOF and can still reply. */
  closeWrite(): Promise<void>;
  /**
   * Close both directions. Safe to call twice. A connection with something to wind down
   * (an `exec:` child to reap) returns a promise that resolves once it is fully closed.
   */
  close(): void | Promise<void>;
  /** Who is on the other end, for logs and `IPCAT_PEER`. */
  readonly peer: string;
  /** More environment for a `--handle` handler of this connection (nats: `IPCAT_SUBJECT`). */
  readonly env?: Readonly<Record<string, string>>;
  /** What a message transport knows beyond the bytes (WebSocket opcodes, close codes). */
  readonly wire?: WireDetails;
}

/** What happened on the wire, in the order it happened. */
export type WireEvent =
  /** A message received, and how it travelled (a WebSocket opcode: `text` or `binary`). */
  | { kind: "message"; type: string }
  /** The peer's close, as it came (a WebSocket close code and reason). */
  | { kind: "close"; code: number; reason: string };

/** Wire details of a message connection, for `inspect`'s proxy. */
export interface WireDetails {
  /** Report each message received and the peer's close, from now on. */
  watch(listener: (event: WireEvent) => void): void;
  /** Close with this code and reason: a proxy passing on the other side's close. */
  close(code: number, reason: string): void;
  /**
   * Send the next message as `type` (a `message` event's type from the other side): a proxy
   * passing each message on as it came. Called once per message, in the order they are sent.
   */
  sendAs(type: string): void;
}

/** A listening socket. */
export interface Listener {
  /** The address actually bound (port 0 resolved), as `tcp:127.0.0.1:43121`. */
  readonly address: string;
  /** The next incoming connection. */
  accept(): Promise<Connection>;
  /**
   * Stop listening; a Unix listener removes its socket file if it is still ours. A promise
   * when there is something to wind down (a broker subscription drained, replies flushed).
   */
  close(): void | Promise<void>;
}

/** Options for listening. */
export interface ListenOptions {
  /** Socket file mode for Unix sockets. @default {0o600} */
  mode?: number;
  /**
   * Certificate chain and private key (PEM) for `tls:` listeners; with `clientCa`, clients
   * must present a certificate issued by one of those CAs (PEM).
   */
  tls?: { cert: string; key: string; clientCa?: string[] };
  /** Told when closing leaves a Unix socket path alone because it is no longer ours. */
  log?: (level: "error" | "info" | "verbose", line: string) => void;
  /** What a message broker (`nats:`) reads; other transports ignore it. */
  broker?: BrokerOptions;
  /** `ws:`/`wss:` listeners: frames, message bound, origin check, subprotocol, pings. */
  ws?: WebSocketOptions;
}

/** Options only a message broker (`nats:`) reads. */
export interface BrokerOptions {
  /** serve: the queue group whose members share the requests. @default {"ipcat"} */
  group?: string;
  /** Path of a credentials file (JWT and NKey seed). */
  creds?: string;
  /** serve: extra trusted CA certificates (PEM) for the broker's TLS (clients: `ConnectOptions.caCerts`). */
  caCerts?: string[];
  /** send: how long one request waits for its reply, in ms. @default {5000} */
  timeout?: number;
  /**
   * What a connection is for: requests with replies (`send`), publishes only (`send -n`),
   * or publishing and receiving the subject's messages (`pipe`). @default {"request"}
   */
  use?: "request" | "publish" | "both";
  /** serve: the mode, for a broker that refuses one (nats: already fans out, so no broadcast). */
  serveMode?: string;
}

/** Options for connecting. */
export interface ConnectOptions {
  /** Extra trusted CA certificates (PEM) for `tls:`, e.g. a private CA or a self-signed server's own. */
  caCerts?: string[];
  /** `tls:` trusts exactly the certificate with this SHA-256 fingerprint (64 hex digits), instead of CAs. */
  pin?: string;
  /** `tls:` accepts any server certificate (and logs a warning each time). */
  insecure?: boolean;
  /** `tls:` name for SNI and verification, when it is not the host connected to (an IP address). */
  servername?: string;
  /** `tls:` client certificate chain and private key (PEM), for servers that ask for one. */
  clientCert?: { cert: string; key: string };
  /** Told how a connection ended when that is news, e.g. an `exec:` child that failed. */
  log?: Log;
  /** What a message broker (`nats:`) reads; other transports ignore it. */
  broker?: BrokerOptions;
  /** `ws:`/`wss:` clients: frames, message bound, headers, subprotocol. */
  ws?: WebSocketOptions;
}

/** A parsed address: plain data, nothing opened yet. */
export interface Address {
  /** The registry name of its transport, e.g. `unix`. */
  readonly scheme: string;
  /** Canonical text form, e.g. `unix:/tmp/a.sock`. */
  readonly text: string;
  /** Transport-specific fields, e.g. `path` or `host` and `port`. */
  readonly [key: string]: unknown;
}

/** One transport in the registry of `lib/address/mod.ts`. */
export interface Transport<A extends Address = Address> {
  /** Scheme before the colon. */
  readonly scheme: string;
  /** Accepted spellings, for help text and hints. */
  readonly syntax: readonly string[];
  /** One-line description, for `--help`. */
  readonly help: string;
  /**
   * The address is ipcat's own stdin and stdout: `pipe` joins the other side to it, and
   * `-e hex|base64` applies to it.
   */
  readonly standardStreams?: boolean;
  /**
   * Accepted connections have no address of their own: their `peer` is the listener's
   * address (a Unix socket's clients are unnamed).
   */
  readonly unnamedPeers?: boolean;
  /**
   * It carries whole messages (datagrams, WebSocket messages), not a byte stream: its
   * connections are `MessageStream`s, read and written with their own framing
   * (`MESSAGE_FRAMING`), and `-f` does not apply to it (see `framingFor`).
   */
  readonly messages?: boolean;
  /**
   * Connectionless (datagrams): the peer never says it is done, so `send` stops after one
   * reply per message, within a default timeout, instead of at the server's EOF.
   */
  readonly datagrams?: boolean;
  /** Claims a whole argument written without a scheme, such as `-`. */
  bare?(text: string): boolean;
  /** Parse the text after `scheme:` (or the whole argument it claims as bare); throw `UsageError` when malformed. */
  parse(rest: string): A;
  /** Open a connection; absent when the transport cannot connect (`send`, `pipe`, `inspect` refuse it). */
  connect?(address: A, options: ConnectOptions): Promise<Connection>;
  /** Listen; absent when the transport cannot listen (`serve`, `inspect LISTEN` refuse it). */
  listen?(address: A, options: ListenOptions): Promise<Listener>;
  /**
   * A broker's view for `inspect ADDR`: every message on the subjects `address` matches,
   * with its metadata, until `signal` aborts. Absent: `inspect ADDR` is a session.
   */
  watch?(
    address: A,
    options: ConnectOptions,
    onMessage: (message: BrokerMessage) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

/** One message as a broker delivered it, for `inspect`. */
export interface BrokerMessage {
  /** The subject it was published on. */
  readonly subject: string;
  /** Where a reply goes (a request's inbox), if anywhere. */
  readonly reply?: string;
  /** Header names and values, in order; a name may repeat. */
  readonly headers?: [string, string][];
  /** Its payload. */
  readonly data: Uint8Array;
}
