/**
 * Datagram sockets (`udp:`, `unixgram:`) as message connections, for `udp.ts` and `unixgram.ts`.
 *
 * A datagram server has one socket and no connections, yet every serve mode works on
 * connections. So {@linkcode DatagramListener} models each distinct sender address as one
 * session, as socat's `UDP-RECVFROM,fork` does: the first datagram from a new sender is
 * "accepted" as a new {@linkcode MessageStream}, later ones from the same sender are that
 * session's next messages, and its replies go back to that sender. A sender never says it is
 * done, so a session ends after {@linkcode SESSION_IDLE_MS} without a datagram either way,
 * or when a reply cannot reach the sender (a `unixgram` client that removed its socket).
 *
 * The socket outlives `close()` of the listener while sessions remain: a stopping server
 * stops taking new senders, but a session still answering its last batch can still send.
 *
 * @example One sender's first datagram, accepted as a session
 * ```ts
 * import { DatagramListener } from "./_datagram.ts";
 *
 * // Deno's datagram sockets need --unstable-net (ipcat runs with it; make test's doc tests
 * // do not): without it this is type-checked only.
 * if (typeof Deno.listenDatagram === "function") {
 *   const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 *   const { port } = socket.addr as Deno.NetAddr;
 *   const listener = new DatagramListener(socket, `udp:127.0.0.1:${port}`, {
 *     maxMessage: 65507,
 *     peerName: (from) => `udp:127.0.0.1:${(from as Deno.NetAddr).port}`,
 *   });
 *   const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
 *   await sender.send(new TextEncoder().encode("hi"), socket.addr);
 *   const session = await listener.accept(); // the first datagram from a new sender
 *   const bytes = new Uint8Array(16);
 *   const n = await session.read(bytes); // 6: the 4-byte length, then "hi"
 *   console.log(session.peer, n);
 *   session.close();
 *   listener.close(); // the last session is gone: the socket closes too
 *   sender.close();
 * }
 * ```
 * @module
 */
import { IpcatError } from "../errors.ts";
import { MessageStream } from "./_message_stream.ts";
import type { Connection, Listener } from "./types.ts";

/**
 * How long a server session lives with no datagram either way. A datagram sender never
 * says it is done; this bounds what an idle sender holds (a `--max-connections` slot, a
 * `--handle` process) while leaving a slow request/reply client its session.
 */
export const SESSION_IDLE_MS = 30_000;

/** What the two datagram transports tell the shared code. */
export interface DatagramOptions {
  /** Largest datagram this transport carries. */
  maxMessage: number;
  /** The address text of a sender, for logs and `IPCAT_PEER`. */
  peerName(from: Deno.Addr): string;
}

/** A buffer that takes any datagram whole: a shorter one would cut it silently. */
function receiveBuffer(maxMessage: number): Uint8Array {
  return new Uint8Array(maxMessage + 1);
}

/** Sender identity: one session per distinct address. */
function senderKey(from: Deno.Addr): string {
  if (from.transport === "udp") return `${from.hostname}|${from.port}`;
  return (from as Deno.UnixAddr).path ?? "";
}

/** One sender's datagrams, as a connection. */
class DatagramSession extends MessageStream {
  #listener: DatagramListener;
  #from: Deno.Addr;
  #queue: Uint8Array[] = [];
  #wake: (() => void) | null = null;
  #closed = false;
  #ended = false;
  #lastActivity = Date.now();

  constructor(listener: DatagramListener, from: Deno.Addr, peer: string, maxMessage: number) {
    super(peer, maxMessage);
    this.#listener = listener;
    this.#from = from;
  }

  deliver(message: Uint8Array): void {
    this.#queue.push(message);
    this.#lastActivity = Date.now();
    this.#wake?.();
  }

  /** No more datagrams come: the socket failed. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async receive(): Promise<Uint8Array | null> {
    while (this.#queue.length === 0) {
      if (this.#closed || this.#ended) return null;
      const left = this.#lastActivity + SESSION_IDLE_MS - Date.now();
      if (left <= 0) return null;
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#wake = resolve;
      const timer = setTimeout(resolve, left);
      await promise;
      clearTimeout(timer);
      this.#wake = null;
    }
    return this.#queue.shift()!;
  }

  async send(message: Uint8Array): Promise<void> {
    if (this.#closed) throw new Deno.errors.BadResource(`${this.peer}: session closed`);
    this.#lastActivity = Date.now();
    if (this.#from.transport !== "udp" && !(this.#from as Deno.UnixAddr).path) {
      // The kernel would say "Invalid argument": an unbound sender has no address to answer.
      throw new IpcatError(
        "cannot answer a sender whose socket has no address (an unbound unixgram socket)",
        "bind the sender to a path, e.g. socat - UNIX-SENDTO:SERVER,bind=/tmp/me.sock",
      );
    }
    try {
      await this.#listener.replies.send(message, this.#from);
    } catch (error) {
      // The sender's socket is gone (a unixgram client that exited): it left, as a stream
      // client that resets does.
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.ConnectionRefused) {
        throw new Deno.errors.ConnectionReset(`${this.peer} is gone`);
      }
      throw error;
    }
  }

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#listener.ended(senderKey(this.#from), this);
  }
}

/** A datagram socket as a {@linkcode Listener} of per-sender sessions. */
export class DatagramListener implements Listener {
  /** The bound socket datagrams arrive on. */
  readonly socket: Deno.DatagramConn;
  /** The socket replies go out on: `socket` itself, or a second one where it cannot send while receiving. */
  readonly replies: Deno.DatagramConn;
  /** The bound address, as ipcat writes it (`udp:127.0.0.1:5353`). */
  readonly address: string;
  #options: DatagramOptions;
  #sessions = new Map<string, DatagramSession>();
  #pending: DatagramSession[] = [];
  #accepting: PromiseWithResolvers<Connection> | null = null;
  #closed = false;
  #socketClosed = false;
  #onSocketClosed: () => void;

  /**
   * Start taking datagrams from `socket`, bound at `address`.
   *
   * @param options The transport's limits; `replies` is a second socket to answer from.
   * @param onSocketClosed Runs once the socket is closed (a `unixgram` server removes its file).
   */
  constructor(
    socket: Deno.DatagramConn,
    address: string,
    options: DatagramOptions & { replies?: Deno.DatagramConn },
    onSocketClosed = () => {},
  ) {
    this.socket = socket;
    this.replies = options.replies ?? socket;
    this.address = address;
    this.#options = options;
    this.#onSocketClosed = onSocketClosed;
    this.#pump();
  }

  async #pump(): Promise<void> {
    const buffer = receiveBuffer(this.#options.maxMessage);
    for (;;) {
      let datagram: [Uint8Array, Deno.Addr];
      try {
        datagram = await this.socket.receive(buffer);
      } catch {
        // Closed once every session had ended; any other failure ends them all, as a
        // listener that fails ends its connections.
        for (const session of this.#sessions.values()) session.end();
        return;
      }
      const [data, from] = datagram;
      // Over the limit means cut by the buffer: dropped, as the OS drops what does not fit.
      if (data.length > this.#options.maxMessage) continue;
      const key = senderKey(from);
      let session = this.#sessions.get(key);
      if (session === undefined) {
        if (this.#closed) continue;
        session = new DatagramSession(this, from, this.#options.peerName(from), this.#options.maxMessage);
        this.#sessions.set(key, session);
        if (this.#accepting) {
          this.#accepting.resolve(session);
          this.#accepting = null;
        } else {
          this.#pending.push(session);
        }
      }
      session.deliver(data.slice());
    }
  }

  /** The session of the next new sender, once its first datagram arrives. */
  accept(): Promise<Connection> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("listener closed"));
    const next = this.#pending.shift();
    if (next) return Promise.resolve(next);
    this.#accepting = Promise.withResolvers<Connection>();
    return this.#accepting.promise;
  }

  /** A session closed: forget its sender, and close the socket once the last one is gone. */
  ended(key: string, session: Connection): void {
    if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    this.#closeSocketIfDone();
  }

  /** Stop taking new senders; the socket closes once the last session has. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#accepting?.reject(new Deno.errors.BadResource("listener closed"));
    this.#accepting = null;
    // Sessions never handed to the server have no one to close them.
    for (const session of this.#pending) session.close();
    this.#pending = [];
    this.#closeSocketIfDone();
  }

  #closeSocketIfDone(): void {
    if (!this.#closed || this.#socketClosed || this.#sessions.size > 0) return;
    this.#socketClosed = true;
    try {
      this.socket.close();
      if (this.replies !== this.socket) this.replies.close();
    } finally {
      this.#onSocketClosed();
    }
  }
}

/**
 * A client's datagram socket talking to one server address. Replies from other senders are
 * dropped, as a connected socket (`nc -u`) would. After `closeWrite` (the input is done), the
 * replies end once {@linkcode REPLY_GRACE_MS} pass without one: nothing else would ever end
 * them.
 */
export class DatagramClient extends MessageStream {
  #socket: Deno.DatagramConn;
  #to: Deno.Addr;
  #fromServer: (from: Deno.Addr) => boolean;
  #buffer: Uint8Array;
  #maxMessage: number;
  #closed = false;
  #writeClosed = false;
  #next: Promise<[Uint8Array, Deno.Addr]> | null = null;
  #exclusive: boolean;
  #sending = 0;
  #lastSend = 0;
  #onClose: () => void;
  #sendFailed: (error: unknown) => unknown;

  /**
   * Talk from `socket` to the server at `to`.
   *
   * @param peer The server's address text, for logs and errors.
   */
  constructor(
    socket: Deno.DatagramConn,
    to: Deno.Addr,
    peer: string,
    options: {
      maxMessage: number;
      /** Is a datagram from the server (the others are dropped)? */
      fromServer(from: Deno.Addr): boolean;
      /** Runs once the socket is closed: a `unixgram` client removes its socket file. */
      onClose?: () => void;
      /** The error to throw when a send fails. */
      sendFailed?: (error: unknown) => unknown;
      /**
       * The socket cannot send while a receive is outstanding (Deno's Unix datagram sockets
       * refuse with "Socket already in use"): receiving starts only once the input ended or
       * sending paused for {@linkcode SEND_PAUSE_MS}.
       */
      exclusive?: boolean;
    },
  ) {
    super(peer, options.maxMessage);
    this.#socket = socket;
    this.#to = to;
    this.#fromServer = options.fromServer;
    this.#maxMessage = options.maxMessage;
    this.#buffer = receiveBuffer(options.maxMessage);
    this.#onClose = options.onClose ?? (() => {});
    this.#sendFailed = options.sendFailed ?? ((error) => error);
    this.#exclusive = options.exclusive ?? false;
  }

  /** Exclusive sockets: resolves once sending is over or has paused. */
  async #sendingPaused(): Promise<void> {
    while (!this.#writeClosed && !this.#closed) {
      const left = this.#lastSend + SEND_PAUSE_MS - Date.now();
      if (this.#sending === 0 && this.#lastSend > 0 && left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(left, 5)));
    }
  }

  /** The server's next datagram; null once closed, or {@linkcode REPLY_GRACE_MS} after `closeWrite`. */
  async receive(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#closed) return null;
      if (this.#next === null) {
        if (this.#exclusive) await this.#sendingPaused();
        if (this.#closed) return null;
        this.#next = this.#socket.receive(this.#buffer);
        // Outstanding when close() comes, it rejects with nobody waiting: that is the end.
        this.#next.catch(() => {});
      }
      let datagram: [Uint8Array, Deno.Addr] | null;
      try {
        datagram = await (this.#writeClosed ? within(this.#next, REPLY_GRACE_MS) : this.#next);
      } catch (error) {
        if (this.#closed) return null;
        throw error;
      }
      // Out of time: the receive stays outstanding for a later call.
      if (datagram === null) return null;
      this.#next = null;
      const [data, from] = datagram;
      if (data.length <= this.#maxMessage && this.#fromServer(from)) return data.slice();
    }
  }

  /** Send `message` to the server as one datagram. */
  async send(message: Uint8Array): Promise<void> {
    if (this.#exclusive && this.#next !== null) {
      throw new Error(
        `${this.peer}: cannot send while waiting for a reply: Deno's Unix datagram sockets do not do both at once`,
      );
    }
    this.#sending++;
    try {
      await this.#socket.send(message, this.#to);
    } catch (error) {
      throw this.#sendFailed(error);
    } finally {
      this.#sending--;
      this.#lastSend = Date.now();
    }
  }

  /** The input is done: replies from now on end after {@linkcode REPLY_GRACE_MS} without one. */
  closeWrite(): Promise<void> {
    this.#writeClosed = true;
    return Promise.resolve();
  }

  /** Close the socket (and, for `unixgram`, remove its file). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#socket.close();
    } catch {
      // Already closed.
    } finally {
      this.#onClose();
    }
  }
}

/** How long an exclusive client's sending must pause before it starts waiting for replies. */
const SEND_PAUSE_MS = 50;

/**
 * How long a client waits for more replies after its input ended (`pipe`): a datagram
 * service never says it is done, as `nc -u -q 2` would not know either.
 */
export const REPLY_GRACE_MS = 2_000;

/** `promise`'s value, or null when `ms` pass first. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
