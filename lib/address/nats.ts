/**
 * `nats://[USER:PASS@]HOST:PORT/SUBJECT` (and `nats:SUBJECT` for a server on 127.0.0.1:4222):
 * a subject on a NATS server, through the official client (`@nats-io/transport-node`).
 *
 * NATS carries whole messages, so this is a message transport (see `_message_stream.ts`):
 * - connecting for `send` makes each message a request and reads the replies in order;
 *   for `send -n` each message is a publish; for `pipe` messages are published and the
 *   subject's messages are received;
 * - listening (`serve`) subscribes in a queue group, and each request is one accepted
 *   connection whose replies go to the request's reply subject. A request nobody replied to
 *   (a sink) is answered with an empty message, its acknowledgement.
 *
 * The client costs ~60 ms to load: it is imported only here, when a `nats:` address is opened.
 *
 * @example A request to a subject `serve` answers (needs `nats-server` on PATH)
 * ```ts
 * import { MESSAGE_FRAMING } from "./_message_stream.ts";
 * import { natsTransport } from "./nats.ts";
 *
 * // A nats-server of its own, on a free loopback port.
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = probe.addr.port;
 * probe.close();
 * const server = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", String(port)],
 *   stdout: "null",
 *   stderr: "piped",
 * }).spawn();
 * const said = server.stderr.pipeThrough(new TextDecoderStream()).values();
 * for (let text = ""; !text.includes("Server is ready");) text += (await said.next()).value;
 *
 * // Its connections' bytes are whole messages in MESSAGE_FRAMING: a 4-byte length, then the message.
 * const address = natsTransport.parse(`//127.0.0.1:${port}/svc.echo`);
 * const listener = await natsTransport.listen!(address, {});
 * const answering = (async () => {
 *   const request = await listener.accept();
 *   const buffer = new Uint8Array(64);
 *   const n = await request.read(buffer);
 *   await request.write(buffer.subarray(0, n ?? 0));
 *   await request.close();
 * })();
 * const conn = await natsTransport.connect!(address, { broker: { use: "request" } });
 * await conn.write(MESSAGE_FRAMING.encode([new TextEncoder().encode("hi")]));
 * const reply = new Uint8Array(64);
 * const n = await conn.read(reply);
 * console.log(new TextDecoder().decode(reply.subarray(4, n ?? 0))); // "hi"
 * await conn.close();
 * await answering;
 * await listener.close();
 * server.kill();
 * for await (const _ of said);
 * await server.status;
 * ```
 * @module
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { IpcatError, TimeoutError, UnavailableError, UsageError } from "../errors.ts";
import type { Log } from "../log.ts";
import { MessageStream } from "./_message_stream.ts";
import type { Address, BrokerOptions, Connection, Listener, Transport } from "./types.ts";

/** A parsed `nats:` address. */
export interface NatsAddress extends Address {
  /** Always `nats`. */
  readonly scheme: "nats";
  /** `tls://HOST:PORT` or `nats://HOST:PORT`, as the client takes it. */
  readonly server: string;
  /** The server's host, 127.0.0.1 when the address names none. */
  readonly host: string;
  /** The server's port, 4222 when the address names none. */
  readonly port: number;
  /** `USER` of `USER:PASS@`. */
  readonly user?: string;
  /** `PASS` of `USER:PASS@`; never shown in the address's `text`. */
  readonly pass?: string;
  /** A user without a password is a token, as NATS URLs spell it. */
  readonly token?: string;
  /** The subject sent to, or subscribed to (`serve`, `inspect` may use `*` and `>`). */
  readonly subject: string;
}

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 4222;
/** The server's default max_payload; the server tells the real one on connect. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const DEFAULT_TIMEOUT = 5000;
/**
 * The client as pinned in deno.json (tests/nats_test.ts checks they agree). Imported by a
 * name the bundler cannot follow: bundled, its Node-compat loader alone put ~15 ms on every
 * command's start (measured: `send` to a Unix socket, 50 runs); this way only `nats:` pays.
 */
export const NATS_CLIENT = "npm:@nats-io/transport-node@3.4.0";

/** Check a subject the way the server does: dot-separated tokens, `*` and a final `>` as whole tokens. */
export function checkSubject(subject: string, text: string): void {
  const tokens = subject.split(".");
  const bad = /\s/.test(subject) ||
    tokens.some((token, i) =>
      token === "" || (token !== "*" && token.includes("*")) ||
      (token.includes(">") && (token !== ">" || i !== tokens.length - 1))
    );
  if (bad) {
    throw new UsageError(
      `Cannot parse address "${text}": bad subject "${subject}"`,
      "a subject is dot-separated tokens without spaces, like orders.new; * matches one token, a final > the rest",
    );
  }
}

function parseNats(rest: string): NatsAddress {
  const text = `nats:${rest}`;
  const url = /^(?:(tls|nats):)?\/\/(?:([^@/]*)@)?([^/]*)\/(.*)$/.exec(rest);
  if (!url) {
    if (rest.startsWith("/")) {
      throw new UsageError(
        `Cannot parse address "${text}"`,
        "write nats://HOST:PORT/SUBJECT or nats:SUBJECT",
      );
    }
    checkSubject(rest, text);
    const server = `nats://${DEFAULT_HOST}:${DEFAULT_PORT}`;
    return { scheme: "nats", text, server, host: DEFAULT_HOST, port: DEFAULT_PORT, subject: rest };
  }
  const [, tls, auth, hostPort, subject] = url;
  const hp = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
  const port = hp?.[2] === undefined ? DEFAULT_PORT : Number(hp[2]);
  if (!hp || port < 1 || port > 65535) {
    throw new UsageError(
      `Cannot parse address "${text}": bad host:port "${hostPort}"`,
      "write nats://HOST:PORT/SUBJECT",
    );
  }
  checkSubject(subject, text);
  const host = (hp[1] || DEFAULT_HOST).replace(/^\[|\]$/g, "");
  const server = `${tls ? "tls" : "nats"}://${hp[1] || DEFAULT_HOST}:${port}`;
  const [user, pass] = auth === undefined ? [] : auth.split(/:(.*)/s).map(decodeURIComponent);
  // The password never goes into logs: the canonical text names the user only.
  const who = user === undefined ? "" : pass === undefined ? "TOKEN@" : `${user}@`;
  const canonical = `${tls ? "nats:tls" : "nats"}://${who}${hp[1] || DEFAULT_HOST}:${port}/${subject}`;
  const credentials = pass === undefined ? { token: user } : { user, pass };
  return { scheme: "nats", text: canonical, server, host, port, subject, ...credentials };
}

/** Connect to the server, or fail with one line: unreachable (69), refused credentials (1). */
async function open(
  address: NatsAddress,
  broker: BrokerOptions,
  extra: { caCerts?: string[]; log?: Log; noEcho?: boolean },
): Promise<NatsConnection> {
  // Loaded here only: the client costs ~60 ms that no other address should pay.
  const client: typeof import("@nats-io/transport-node") = await import(NATS_CLIENT);
  const authenticator = broker.creds === undefined
    ? undefined
    : client.credsAuthenticator(await readCreds(broker.creds));
  const tls = extra.caCerts
    ? { ca: extra.caCerts.join("\n") }
    : address.server.startsWith("tls:")
    ? {}
    : undefined;
  let nc: NatsConnection;
  try {
    // With reconnects on, the client retries a refused first connect until its timeout:
    // one plain TCP connect says "refused" at once.
    (await Deno.connect({ hostname: address.host, port: address.port })).close();
    nc = await client.connect({
      servers: address.server,
      user: address.user,
      pass: address.pass,
      token: address.token,
      authenticator,
      tls,
      noEcho: extra.noEcho,
      name: "ipcat",
      // Once connected, a lost server is waited for: the library reconnects with backoff and
      // holds what is published meanwhile (see README, "Past one machine").
      maxReconnectAttempts: -1,
      timeout: DEFAULT_TIMEOUT,
    });
  } catch (error) {
    throw connectFailure(address, error);
  }
  if (extra.log) watchStatus(nc, address, extra.log);
  return nc;
}

async function readCreds(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    throw new IpcatError(`Cannot read --creds ${path}: ${plain(error).replace(/: \w+ '.*'$/s, "")}`);
  }
}

function connectFailure(address: NatsAddress, error: unknown): Error {
  const why = plain(error);
  if (/parse credentials/i.test(why)) {
    return new IpcatError(
      `Cannot use --creds for ${address.text}: ${why}`,
      "a .creds file holds a user JWT and its NKey seed, as nsc writes it",
      { cause: error },
    );
  }
  if (/authori[sz]ation|authentication|auth/i.test(why)) {
    // The server says "Authorization Violation": not a name, so not capitalised here.
    return new IpcatError(
      `Cannot connect to ${address.text}: the server refused the credentials (${why.toLowerCase()})`,
      "check USER:PASS in the address, the token or --creds FILE",
      { cause: error },
    );
  }
  if (/does not support .?tls/i.test(why)) {
    return new IpcatError(
      `Cannot connect to ${address.text}: the server does not offer TLS`,
      "drop nats:tls:// and --ca, or start nats-server with --tls",
      { cause: error },
    );
  }
  if (/tls|certificate/i.test(why)) {
    return new IpcatError(
      `Cannot connect to ${address.text}: TLS failed (${why})`,
      "--ca FILE trusts a private CA",
      { cause: error },
    );
  }
  return new UnavailableError(
    `Cannot connect to ${address.text}: ${why}`,
    `is nats-server running at ${address.server}?`,
    { cause: error },
  );
}

/** Log the library's reconnects, so a lost server is visible while ipcat waits for it. */
async function watchStatus(nc: NatsConnection, address: NatsAddress, log: Log): Promise<void> {
  try {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") log("error", `${address.server}: connection lost; reconnecting`);
      else if (status.type === "reconnect") log("info", `${address.server}: reconnected`);
      else if (status.type === "reconnecting") log("verbose", `${address.server}: reconnecting`);
    }
  } catch {
    // The status stream ends with the connection.
  }
}

function plain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const words = message.replace(/\s*\(os error \d+\)/, "").replace(/^'(.*)'$/s, "$1");
  return words.charAt(0).toLowerCase() + words.slice(1);
}

/** `send`: each message a request; the replies come back in the order of the requests. */
class Requests extends MessageStream {
  #nc: NatsConnection;
  #address: NatsAddress;
  #timeout: number;
  #pending: Promise<Uint8Array>[] = [];
  #ended = false;
  #wake: (() => void) | null = null;

  constructor(nc: NatsConnection, address: NatsAddress, timeout: number) {
    super(address.text, nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
    this.#nc = nc;
    this.#address = address;
    this.#timeout = timeout;
  }

  send(message: Uint8Array): Promise<void> {
    const reply = this.#nc.request(this.#address.subject, message, { timeout: this.#timeout })
      .then((msg) => msg.data, (error) => Promise.reject(this.#failure(error)));
    // Rejections surface in order, through receive(); until then they are not unhandled.
    reply.catch(() => {});
    this.#pending.push(reply);
    this.#wake?.();
    return Promise.resolve();
  }

  async receive(): Promise<Uint8Array | null> {
    while (this.#pending.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = null;
    }
    return await this.#pending.shift()!;
  }

  #failure(error: unknown): Error {
    const { subject } = this.#address;
    if (/no responders/i.test(plain(error))) {
      return new UnavailableError(
        `${this.#address.text}: no responders on subject "${subject}"`,
        `start one: ipcat serve --echo ${this.#address.text}`,
      );
    }
    if (/time ?out/i.test(plain(error))) {
      return new TimeoutError(
        `${this.#address.text}: no reply on "${subject}" within ${this.#timeout} ms`,
        "raise --timeout",
      );
    }
    return new IpcatError(`${this.#address.text}: request failed: ${plain(error)}`);
  }

  closeWrite(): Promise<void> {
    this.#ended = true;
    this.#wake?.();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#ended = true;
    this.#wake?.();
    return this.#nc.close().catch(() => {});
  }
}

/**
 * `send -n` and `pipe`: messages published; for `pipe` also the subject's messages received.
 * Half-closing waits for the server to confirm it has every message published before it.
 */
class Publisher extends MessageStream {
  #nc: NatsConnection;
  #address: NatsAddress;
  #sub: Subscription | null;
  #messages: AsyncIterator<Msg> | null;

  constructor(nc: NatsConnection, address: NatsAddress, subscribe: boolean) {
    super(address.text, nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD);
    this.#nc = nc;
    this.#address = address;
    this.#sub = subscribe ? nc.subscribe(address.subject) : null;
    this.#messages = this.#sub ? this.#sub[Symbol.asyncIterator]() : null;
  }

  /** Resolves once the subscription is registered on the server. */
  ready(): Promise<void> {
    return this.#nc.flush();
  }

  /**
   * Queued in the client's buffer, not awaited: awaiting each publish let the client write
   * every message to the socket on its own (measured: 75k/s, against 447k/s for the client
   * alone).
   */
  send(message: Uint8Array): void {
    this.#nc.publish(this.#address.subject, message);
  }

  async receive(): Promise<Uint8Array | null> {
    if (!this.#messages) return null;
    const next = await this.#messages.next();
    return next.done ? null : next.value.data;
  }

  async closeWrite(): Promise<void> {
    // A publish is buffered by the client; the flush's PONG means the server has them all.
    try {
      await this.#nc.flush();
    } catch (error) {
      throw new IpcatError(
        `${this.#address.text}: the server did not confirm the messages published (${plain(error)})`,
      );
    }
  }

  async close(): Promise<void> {
    this.#sub?.unsubscribe();
    await this.#nc.drain().catch(() => {});
  }
}

/**
 * One request received by `serve`: its message, then the end. Each reply goes to the
 * request's reply subject; one nobody replied to is acknowledged with an empty message.
 */
class Request extends MessageStream {
  readonly env: Readonly<Record<string, string>>;
  #msg: Msg | null;
  #replied = false;
  #read = false;
  #handBack: (msg: Msg) => void;

  constructor(msg: Msg, maxMessage: number, handBack: (msg: Msg) => void) {
    super(`nats:${msg.subject}`, maxMessage);
    this.#msg = msg;
    this.env = { IPCAT_SUBJECT: msg.subject };
    this.#handBack = handBack;
  }

  receive(): Promise<Uint8Array | null> {
    if (this.#read || this.#msg === null) return Promise.resolve(null);
    this.#read = true;
    return Promise.resolve(this.#msg.data);
  }

  send(message: Uint8Array): Promise<void> {
    if (this.#msg?.reply) this.#msg.respond(message);
    this.#replied = true;
    return Promise.resolve();
  }

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    const msg = this.#msg;
    if (msg === null) return;
    this.#msg = null;
    // Closed unread (the server stopping): another member of the group takes it.
    if (!this.#read) this.#handBack(msg);
    else if (!this.#replied && msg.reply) msg.respond(new Uint8Array(0));
  }
}

/** `serve`: a queue-group subscription; each request is one connection. */
class RequestListener implements Listener {
  readonly address: string;
  #nc: NatsConnection;
  #sub: Subscription;
  #messages: AsyncIterator<Msg>;
  #maxMessage: number;
  #closing: Promise<void> | null = null;

  constructor(nc: NatsConnection, address: NatsAddress, group: string) {
    this.#nc = nc;
    this.#sub = nc.subscribe(address.subject, { queue: group });
    this.#messages = this.#sub[Symbol.asyncIterator]();
    this.#maxMessage = nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    this.address = `${address.text} (queue group ${group})`;
  }

  async accept(): Promise<Connection> {
    const next = this.#closing ? { done: true as const } : await this.#messages.next();
    if (next.done) throw new Deno.errors.BadResource("the subscription is closed");
    if (this.#closing) {
      // Taken while stopping: the accept loop is gone, so it goes back to the group.
      this.#handBack(next.value);
      throw new Deno.errors.BadResource("the subscription is closed");
    }
    return new Request(next.value, this.#maxMessage, (msg) => this.#handBack(msg));
  }

  /**
   * A request this worker took but will not answer is published again, with its reply
   * subject, once our subscription is gone: the server gives it to another member of the
   * group (or tells the requester there is none).
   */
  #handBack(msg: Msg): void {
    this.#nc.publish(msg.subject, msg.data, { reply: msg.reply, headers: msg.headers });
  }

  /**
   * Drain: unsubscribe, hand back what arrived meanwhile, then flush the replies written so
   * far. The serve loop calls this when it stops and again once every request is answered,
   * so a rolling restart loses no request and no reply.
   */
  async close(): Promise<void> {
    this.#closing ??= (async () => {
      const drained = this.#sub.drain().catch(() => {});
      for (let next; !(next = await this.#messages.next()).done;) this.#handBack(next.value);
      await drained;
    })();
    await this.#closing;
    await this.#nc.flush().catch(() => {});
  }
}

/** The `nats:` transport; see the module doc. */
export const natsTransport: Transport<NatsAddress> = {
  scheme: "nats",
  syntax: ["nats://[USER:PASS@]HOST:PORT/SUBJECT", "nats:tls://HOST:PORT/SUBJECT", "nats:SUBJECT"],
  help: "a subject on a NATS server (nats:SUBJECT: 127.0.0.1:4222); send = request, serve = queue group",
  messages: true,
  parse: parseNats,
  async connect(address, options) {
    const broker = options.broker ?? {};
    const use = broker.use ?? "request";
    if (address.subject.split(".").some((token) => token === "*" || token === ">")) {
      throw new UsageError(
        `Cannot publish to ${address.text}: a wildcard subject only subscribes`,
        "give a full subject to send or pipe to; wildcards go to serve and inspect",
      );
    }
    const nc = await open(address, broker, {
      caCerts: options.caCerts,
      log: options.log,
      noEcho: use === "both",
    });
    if (use === "request") return new Requests(nc, address, broker.timeout ?? DEFAULT_TIMEOUT);
    const publisher = new Publisher(nc, address, use === "both");
    await publisher.ready();
    return publisher;
  },
  async listen(address, options) {
    const broker = options.broker ?? {};
    if (broker.serveMode === "broadcast") {
      throw new UsageError(
        `--broadcast does not apply to ${address.text}: NATS already delivers each message to every subscriber`,
        `subscribe plainly instead: ipcat pipe ${address.text} (or inspect it)`,
      );
    }
    const nc = await open(address, broker, { caCerts: broker.caCerts, log: options.log });
    const listener = new RequestListener(nc, address, broker.group ?? "ipcat");
    await nc.flush();
    return listener;
  },
  async watch(address, options, onMessage, signal) {
    const nc = await open(address, options.broker ?? {}, { caCerts: options.caCerts, log: options.log });
    // A plain subscription, not the queue group: a watcher sees every message and takes none.
    const sub = nc.subscribe(address.subject);
    await nc.flush();
    options.log?.("info", `watching ${address.text}`);
    const stop = () => sub.unsubscribe();
    signal.addEventListener("abort", stop, { once: true });
    try {
      for await (const msg of sub) {
        const headers = msg.headers
          ? [...msg.headers.keys()].flatMap((name) =>
            msg.headers!.values(name).map((v): [string, string] => [name, v])
          )
          : undefined;
        onMessage({ subject: msg.subject, reply: msg.reply || undefined, headers, data: msg.data });
      }
    } finally {
      signal.removeEventListener("abort", stop);
      await nc.close().catch(() => {});
    }
  },
};
