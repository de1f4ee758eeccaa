/**
 * `ws://HOST:PORT/PATH` and `wss://…`: WebSocket, client and server, on Deno's own `WebSocket`
 * and `Deno.serve` + `Deno.upgradeWebSocket`. Each WebSocket message is one message: the
 * connections are {@linkcode MessageStream}s.
 *
 * @example
 * ```ts
 * import { webSocketTransports } from "./ws.ts";
 * import { MESSAGE_FRAMING } from "./_message_stream.ts";
 * const [ws] = webSocketTransports;
 * // An echo server on a free port, and a client: one message each way.
 * const listener = await ws.listen!(ws.parse("0/chat"), {});
 * const url = listener.address; // ws://127.0.0.1:PORT/chat
 * const serving = (async () => {
 *   const conn = await listener.accept();
 *   const buffer = new Uint8Array(64);
 *   const n = await conn.read(buffer);
 *   await conn.write(buffer.subarray(0, n ?? 0));
 *   await conn.closeWrite();
 * })();
 * const client = await ws.connect!(ws.parse(url.slice("ws:".length)), {});
 * await client.write(MESSAGE_FRAMING.encode([new TextEncoder().encode("hi")]));
 * const reply = new Uint8Array(64);
 * const n = await client.read(reply); // the message, in MESSAGE_FRAMING: 4-byte length, "hi"
 * console.log(new TextDecoder().decode(reply.subarray(4, n ?? 4))); // hi
 * await serving;
 * await client.close();
 * await listener.close();
 * ```
 * @module
 */
import { FrameError, IpcatError, UnavailableError, UsageError } from "../errors.ts";
import type { Log } from "../log.ts";
import { MessageStream } from "./_message_stream.ts";
import { hostPort } from "./tcp.ts";
import type {
  Address,
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  Transport,
  WireDetails,
  WireEvent,
} from "./types.ts";

/** A WebSocket endpoint: where to connect, or where to listen and on which path. */
export interface WebSocketAddress extends Address {
  /** `ws` (plain) or `wss` (over TLS). */
  readonly scheme: "ws" | "wss";
  /** Host to connect to or listen on. */
  readonly host: string;
  /** TCP port (0 to listen on a free one). */
  readonly port: number;
  /** Path and query, starting with `/`. */
  readonly path: string;
}

/** Which frame carries a message sent. */
export type FrameKind = "auto" | "text" | "binary";

/** WebSocket options, in `ConnectOptions.ws` and `ListenOptions.ws`. */
export interface WebSocketOptions {
  /**
   * `auto`: a text frame when the message is valid UTF-8, unless the peer's last message was
   * binary (so an echo answers in kind); `text` (bad UTF-8 is a `FrameError`) or `binary`.
   * @default {"auto"}
   */
  frames?: FrameKind;
  /** Largest message received; a bigger one closes the connection with 1009. */
  maxMessage?: number;
  /** Listen: accept only upgrades whose `Origin` is one of these (none given: any). */
  origins?: readonly string[];
  /** Connect: extra handshake headers, as `[name, value]`. */
  headers?: readonly [string, string][];
  /** Connect: the subprotocol offered; listen: the one accepted when a client offers it. */
  protocol?: string;
  /** Listen: ping an idle client this often (ms) and close it when no pong comes in as long. */
  pingInterval?: number;
}

/** Received messages bigger than this need `--max-frame` raised anyway. */
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;
/** Sending waits while more than this is queued in the socket: backpressure for `send`. */
const HIGH_WATER = 1024 * 1024;

const te = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

const CLOSE_NAMES: Record<number, string> = {
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1006: "connection lost without a close frame",
  1007: "invalid message data",
  1008: "policy violation",
  1009: "message too big",
  1011: "server error",
  1012: "service restart",
  1013: "try again later",
};

/**
 * How a close ends a read: null for an ordinary end (1000, 1001 going away, 1005 no code),
 * else the error whose class gives the exit code (see README's WebSocket section).
 */
export function closeError(peer: string, code: number, reason: string): Error | null {
  if (code === 1000 || code === 1001 || code === 1005) return null;
  // Deno reports a connection that ended without a close frame as 0 or 1006.
  if (code === 0) code = 1006;
  const name = CLOSE_NAMES[code];
  const why = `closed with ${code}${name ? ` ${name}` : ""}${reason ? `: ${reason}` : ""}`;
  if (code === 1003 || code === 1007 || code === 1009) return new FrameError(why);
  if (code === 1012 || code === 1013) return new UnavailableError(`${peer}: ${why}`);
  return new IpcatError(`${peer}: ${why}`);
}

/** One WebSocket, client or server side, as a message connection. */
/** How long a silent peer gets to answer before our close frame goes (see `closeWrite`). */
export const CLOSE_LINGER_MS = 1000;

class WebSocketConnection extends MessageStream {
  #socket: WebSocket;
  #frames: FrameKind;
  #maxMessage: number;
  #log?: Log;
  #queue: Uint8Array[] = [];
  /** The opcode of each message in the queue. */
  #types: ("text" | "binary")[] = [];
  /** The peer's close, reported once the messages before it have been received. */
  #closeFrame: { code: number; reason: string } | null = null;
  #wake: (() => void) | null = null;
  #ended = false;
  #failure: Error | null = null;
  #peerSentBinary = false;
  /** Messages sent and received, for the linger before our close frame. */
  #sent = 0;
  #receivedCount = 0;
  #lastReceived = 0;
  #watcher?: (event: WireEvent) => void;

  /** Opcodes and close codes, for `inspect`'s log; a proxy passes a close on with them. */
  readonly wire: WireDetails = {
    watch: (listener) => this.#watcher = listener,
    close: (code, reason) => this.#closeWith(code, reason),
    sendAs: (type) => this.#sendAs.push(type),
  };
  /** The opcode each next message goes as, when a proxy says (see `WireDetails.sendAs`). */
  #sendAs: string[] = [];

  constructor(socket: WebSocket, peer: string, options: WebSocketOptions, log?: Log) {
    super(peer, options.maxMessage ?? DEFAULT_MAX_MESSAGE);
    this.#socket = socket;
    this.#frames = options.frames ?? "auto";
    this.#maxMessage = options.maxMessage ?? DEFAULT_MAX_MESSAGE;
    this.#log = log;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => this.#received(event.data));
    socket.addEventListener("close", (event) => {
      if (event.code !== 1000) {
        this.#log?.(
          "verbose",
          `${peer}: closed with ${event.code}${event.reason ? `: ${event.reason}` : ""}`,
        );
      }
      this.#closeFrame = { code: event.code, reason: event.reason };
      this.#failure ??= closeError(peer, event.code, event.reason);
      this.#ended = true;
      this.#notify();
    });
  }

  #received(data: string | ArrayBuffer): void {
    if (this.#failure) return;
    const message = typeof data === "string" ? te.encode(data) : new Uint8Array(data);
    this.#peerSentBinary = typeof data !== "string";
    if (message.length > this.#maxMessage) {
      // The messages before it are still delivered; this one ends the connection.
      this.#failure = new FrameError(
        `a message of ${message.length} bytes is over --max-frame ${this.#maxMessage}`,
        undefined,
        "raise --max-frame",
      );
      try {
        this.#socket.close(1009, "message too big");
      } catch {
        // A client may only send 1000 or 3000-4999 (the WebSocket API's rule): say it in the reason.
        this.#socket.close(1000, "message too big (1009)");
      }
      this.#notify();
      return;
    }
    this.#queue.push(message);
    this.#types.push(typeof data === "string" ? "text" : "binary");
    this.#receivedCount++;
    this.#lastReceived = Date.now();
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async receive(): Promise<Uint8Array | null> {
    while (true) {
      // Reported as each message is handed on, so a watcher sees them in the order it relays them.
      const message = this.#queue.shift();
      const type = this.#types.shift();
      if (message) {
        this.#watcher?.({ kind: "message", type: type! });
        return message;
      }
      if (this.#failure || this.#ended) {
        const close = this.#closeFrame;
        this.#closeFrame = null;
        if (close) this.#watcher?.({ kind: "close", ...close });
      }
      if (this.#failure) throw this.#failure;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** The next message already received, if any (see `MessageStream.takeReady`). */
  protected override takeReady(): Uint8Array | null {
    const message = this.#queue.shift();
    if (!message) return null;
    const type = this.#types.shift();
    this.#watcher?.({ kind: "message", type: type! });
    return message;
  }

  async send(message: Uint8Array): Promise<void> {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      throw new Deno.errors.BrokenPipe(`${this.peer}: the WebSocket is closed`);
    }
    const given = this.#sendAs.shift();
    const frames = given === "binary" || given === "text"
      ? given
      : this.#frames === "auto" && this.#peerSentBinary
      ? "binary"
      : this.#frames;
    if (frames === "binary") {
      this.#socket.send(message.slice());
    } else {
      let text: string | undefined;
      try {
        text = strictUtf8.decode(message);
      } catch {
        if (frames === "text") {
          throw new FrameError(
            "a message is not valid UTF-8 and --text sends text frames",
            undefined,
            "drop --text",
          );
        }
      }
      this.#socket.send(text ?? message.slice());
    }
    this.#sent++;
    while (this.#socket.bufferedAmount > HIGH_WATER && this.#socket.readyState === WebSocket.OPEN) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /**
   * Our end of the conversation. WebSocket has no half-close: a peer that gets our close frame
   * answers with its own and sends nothing more, so replies still on their way would be lost.
   * So the close frame waits until the peer has sent at least as many messages as we did, or
   * has been silent for {@linkcode CLOSE_LINGER_MS} (a server that does not answer every
   * message), or has closed.
   */
  async closeWrite(): Promise<void> {
    const since = Date.now();
    while (this.#socket.readyState === WebSocket.OPEN && this.#receivedCount < this.#sent) {
      const quiet = Date.now() - Math.max(since, this.#lastReceived);
      if (quiet >= CLOSE_LINGER_MS) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, CLOSE_LINGER_MS - quiet)));
    }
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.close(1000);
  }

  #closeWith(code: number, reason: string): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    // 1005 (no code) and 1006 (no close frame) are never sent; Deno's client sends only
    // 1000 and 3000-4999, so toward a server any other code becomes a plain close.
    if (code === 1005 || code === 0 || code === 1006) return this.#socket.close();
    try {
      this.#socket.close(code, reason);
    } catch {
      this.#socket.close();
    }
  }

  close(): void {
    const state = this.#socket.readyState;
    if (state === WebSocket.OPEN || state === WebSocket.CONNECTING) this.#socket.close(1000);
    this.#ended = true;
    this.#notify();
  }
}

/** Parse what follows `ws:`/`wss:`: `//HOST:PORT/PATH`, `//HOST/PATH`, `HOST:PORT`, `PORT`. */
function parseWebSocket(scheme: "ws" | "wss", rest: string): WebSocketAddress {
  const bad = () =>
    new UsageError(
      `Cannot parse address "${scheme}:${rest}": expected ${scheme}://HOST:PORT/PATH or ${scheme}:PORT`,
      `for example ${scheme}://127.0.0.1:8080/chat`,
    );
  const spelled = rest.startsWith("//") ? rest.slice(2) : rest;
  const portOnly = /^(\d+)(\/.*)?$/.exec(spelled);
  let host = "127.0.0.1";
  let port: number;
  let path: string;
  if (portOnly) {
    port = Number(portOnly[1]);
    path = portOnly[2] ?? "/";
  } else {
    let url: URL;
    try {
      url = new URL(`${scheme}://${spelled}`);
    } catch {
      throw bad();
    }
    if (url.username || url.password || url.hash || !url.hostname) throw bad();
    host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    port = url.port === "" ? (scheme === "ws" ? 80 : 443) : Number(url.port);
    path = `${url.pathname}${url.search}`;
  }
  if (!Number.isInteger(port) || port > 65535) throw bad();
  return { scheme, text: `${scheme}://${hostPort(host, port)}${path}`, host, port, path };
}

/** Why a client handshake failed, from Deno's error text. */
function connectFailure(address: WebSocketAddress, message: string): Error {
  const text = `Cannot connect to ${address.text}`;
  if (/refused|tcp connect error/i.test(message)) {
    return new UnavailableError(`${text}: connection refused`, "is the server running?");
  }
  const status = /status code:? (\d+)/i.exec(message)?.[1];
  if (status) {
    return new UnavailableError(
      `${text}: the server answered HTTP ${status}, not a WebSocket upgrade`,
      "check the path",
    );
  }
  if (/UnknownIssuer/.test(message)) {
    return new IpcatError(
      `${text}: TLS handshake failed: the server's certificate is not from a trusted CA`,
      "--ca FILE trusts a private CA",
    );
  }
  if (/certificate|tls|invalid ?data/i.test(message)) {
    return new IpcatError(
      `${text}: TLS handshake failed: ${message.replace(/^.*?: /, "")}`,
      "--ca FILE trusts a private CA",
    );
  }
  return new IpcatError(`${text}: ${message.replace(/^NetworkError: /, "")}`);
}

async function connectWebSocket(address: WebSocketAddress, options: ConnectOptions): Promise<Connection> {
  const ws = options.ws ?? {};
  // `--ca`: Deno's WebSocket takes an HttpClient carrying the extra CAs (its `client` option,
  // not yet in the typings); without one it trusts the system's CAs and DENO_CERT.
  const client = address.scheme === "wss" && options.caCerts?.length
    ? Deno.createHttpClient({ caCerts: options.caCerts })
    : undefined;
  const socket = new WebSocket(
    address.text,
    {
      protocols: ws.protocol === undefined ? [] : [ws.protocol],
      headers: ws.headers === undefined ? undefined : [...ws.headers],
      ...(client && { client }),
    } as ConstructorParameters<typeof WebSocket>[1],
  );
  if (client) socket.addEventListener("close", () => client.close(), { once: true });
  // Listening before open: a message sent right after the handshake is not missed.
  const conn = new WebSocketConnection(socket, address.text, ws, options.log);
  await new Promise<void>((resolve, reject) => {
    const failed = (event: Event) => {
      reject(connectFailure(address, (event as ErrorEvent).message ?? "failed"));
    };
    socket.addEventListener("open", () => {
      socket.removeEventListener("error", failed);
      resolve();
    }, { once: true });
    socket.addEventListener("error", failed, { once: true });
  });
  return conn;
}

/** A `Deno.serve` that upgrades requests on one path and hands out each WebSocket. */
class WebSocketListener implements Listener {
  readonly address: string;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #accepted: Connection[] = [];
  #waiting: { resolve(conn: Connection): void; reject(error: Error): void }[] = [];
  #closed = false;
  /** Connections handed out and still open: the HTTP server outlives them (see `close`). */
  #live = new Set<WebSocket>();

  constructor(address: WebSocketAddress, options: ListenOptions) {
    const ws = options.ws ?? {};
    const handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response => {
      // Read before the upgrade, which takes the request over.
      const remote = info.remoteAddr;
      const url = new URL(request.url);
      if (this.#closed) return new Response("Service Unavailable: not accepting\n", { status: 503 });
      if (`${url.pathname}${url.search}` !== address.path && url.pathname !== address.path) {
        return new Response("Not Found: no WebSocket here\n", { status: 404 });
      }
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("Upgrade Required: this is a WebSocket endpoint\n", {
          status: 426,
          headers: { upgrade: "websocket", connection: "Upgrade" },
        });
      }
      const origin = request.headers.get("origin");
      if (ws.origins?.length && !ws.origins.includes(origin ?? "")) {
        options.log?.("info", `refused a WebSocket from ${origin ?? "no origin"}: not an --origin`);
        return new Response("Forbidden: origin not allowed\n", { status: 403 });
      }
      const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
      const protocol = ws.protocol !== undefined && offered.includes(ws.protocol) ? ws.protocol : undefined;
      const { socket, response } = Deno.upgradeWebSocket(request, {
        protocol,
        idleTimeout: ws.pingInterval === undefined
          ? undefined
          : Math.max(1, Math.round(ws.pingInterval / 1000)),
      });
      const peer = `${address.scheme}:${hostPort(remote.hostname, remote.port)}`;
      const conn = new WebSocketConnection(socket, peer, ws, options.log);
      socket.addEventListener("open", () => {
        this.#live.add(socket);
        this.#hand(conn);
      }, { once: true });
      socket.addEventListener("close", () => {
        this.#live.delete(socket);
        this.#shutDownWhenIdle();
      }, { once: true });
      return response;
    };
    const tls = address.scheme === "wss" ? options.tls : undefined;
    if (address.scheme === "wss" && !tls) {
      throw new UsageError(
        `Cannot listen on ${address.text}: wss needs a certificate`,
        "give --cert FILE --key FILE",
      );
    }
    try {
      this.#server = Deno.serve({
        hostname: address.host,
        port: address.port,
        ...tls,
        onListen: () => {},
        onError: () => new Response("Internal Server Error\n", { status: 500 }),
      }, handler);
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        throw new UnavailableError(`Cannot listen on ${address.text}: address in use`);
      }
      throw new Error(`Cannot listen on ${address.text}: ${(error as Error).message}`);
    }
    const bound = this.#server.addr;
    this.address = `${address.scheme}://${hostPort(bound.hostname, bound.port)}${address.path}`;
  }

  #hand(conn: Connection): void {
    if (this.#closed) return void conn.close();
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve(conn);
    else this.#accepted.push(conn);
  }

  accept(): Promise<Connection> {
    const conn = this.#accepted.shift();
    if (conn) return Promise.resolve(conn);
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("Listener has been closed"));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new Deno.errors.BadResource("Listener has been closed"));
    }
    for (const conn of this.#accepted.splice(0)) conn.close();
    this.#shutDownWhenIdle();
  }

  /**
   * Stopping listening must not cut the connections already handed out (`--once`, `--count`,
   * a proxy finishing its last clients): `Deno.serve`'s shutdown closes every WebSocket it
   * upgraded, so it waits until they have all ended. New requests meanwhile get 503.
   */
  #shutDownWhenIdle(): void {
    if (this.#closed && this.#live.size === 0) this.#server.shutdown().catch(() => {});
  }
}

function webSocketTransport(scheme: "ws" | "wss"): Transport<WebSocketAddress> {
  const secure = scheme === "wss";
  return {
    scheme,
    syntax: [`${scheme}://HOST:PORT/PATH`, `${scheme}:PORT`],
    help: secure
      ? "WebSocket over TLS, one message per WebSocket message (serve: --cert/--key)"
      : "WebSocket, one message per WebSocket message (serve: 404 off PATH, 426 without upgrade)",
    messages: true,
    parse: (rest) => parseWebSocket(scheme, rest),
    connect: connectWebSocket,
    listen: (address, options) => Promise.resolve(new WebSocketListener(address, options)),
  };
}

/** `ws:` and `wss:`, registered together. */
export const webSocketTransports: readonly Transport<WebSocketAddress>[] = [
  webSocketTransport("ws"),
  webSocketTransport("wss"),
];
