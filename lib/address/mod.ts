/**
 * The address registry: every transport ipcat speaks, its syntax, and how to open it.
 * Adding a transport is adding a file and one row to {@linkcode TRANSPORTS}.
 *
 * @example
 * ```ts
 * import { connect, listen, parseAddress } from "./mod.ts";
 *
 * parseAddress("tcp:8080"); // { scheme: "tcp", text: "tcp:127.0.0.1:8080", host: "127.0.0.1", port: 8080 }
 * const listener = await listen(parseAddress("tcp:0")); // port 0: the OS picks a free one
 * const conn = await connect(parseAddress(listener.address));
 * const accepted = await listener.accept();
 * for (const c of [conn, accepted, listener]) c.close();
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";
import { closest } from "../suggest.ts";
import { execTransport } from "./exec.ts";
import { MESSAGE_FRAMING } from "./_message_stream.ts";
import { natsTransport } from "./nats.ts";
import type { Framing } from "../framing/types.ts";
import { parseFraming } from "../framing/mod.ts";
import { stdioTransport } from "./stdio.ts";
import { tcpTransport } from "./tcp.ts";
import { tlsTransport } from "./tls.ts";
import type {
  Address,
  BrokerMessage,
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  Transport,
} from "./types.ts";
import { udpTransport } from "./udp.ts";
import { unixTransport } from "./unix.ts";
import { unixgramTransport } from "./unixgram.ts";
import { webSocketTransports } from "./ws.ts";

export { MESSAGE_FRAMING, MessageStream } from "./_message_stream.ts";
export type {
  Address,
  BrokerOptions,
  Connection,
  ConnectOptions,
  Listener,
  ListenOptions,
  Transport,
} from "./types.ts";
export { unixAddress } from "./unix.ts";

/** Every transport, in the order help text lists them. */
export const TRANSPORTS: readonly Transport[] = [
  unixTransport as Transport,
  tcpTransport as Transport,
  tlsTransport as Transport,
  udpTransport as Transport,
  unixgramTransport as Transport,
  stdioTransport as Transport,
  execTransport as Transport,
  natsTransport as Transport,
  ...webSocketTransports as readonly Transport[],
];

/** Can a transport listen (`serve`, `inspect LISTEN`)? A filter for {@linkcode addressForms}. */
export const canListen = (transport: Transport): boolean => transport.listen !== undefined;

/** Can a transport connect (`send`, `pipe`, `inspect`'s targets)? A filter for {@linkcode addressForms}. */
export const canConnect = (transport: Transport): boolean => transport.connect !== undefined;

/**
 * The accepted address forms, one per line, for help text: a transport's help beside its
 * first form only, so each says it once.
 */
export function addressForms(filter: (t: Transport) => boolean = () => true): string[] {
  return TRANSPORTS.filter(filter).flatMap((t) =>
    t.syntax.map((s, i) => i === 0 ? `${s.padEnd(40)} ${t.help}` : s)
  );
}

/** The accepted spellings of the transports that pass `filter`, in registry order. */
export function addressSyntax(filter: (t: Transport) => boolean = () => true): string[] {
  return TRANSPORTS.filter(filter).flatMap((t) => t.syntax);
}

/**
 * Parse an address argument. Pure: opens nothing.
 * Throws `UsageError` naming the accepted forms, with a "did you mean" where one is close.
 */
export function parseAddress(text: string): Address {
  // A scheme is letters before the first colon; a path never starts like that unless it
  // is relative and odd (`a:b/c.sock`), which `unix:` spells out.
  const scheme = /^([a-z][a-z0-9+-]*):/i.exec(text)?.[1] ?? "";
  const transport = TRANSPORTS.find((t) => t.scheme === scheme);
  if (transport) return transport.parse(text.slice(scheme.length + 1));
  const bare = scheme ? undefined : TRANSPORTS.find((t) => t.bare?.(text));
  if (bare) return bare.parse(text);
  const close = scheme ? closest(scheme, TRANSPORTS.map((t) => t.scheme)) : undefined;
  const why = scheme ? `unknown scheme "${scheme}"` : "not an address";
  throw new UsageError(
    `Cannot parse address "${text}": ${why}`,
    close
      ? `there is no ${scheme}: address; did you mean ${close}:?`
      : `use one of: ${addressSyntax().join(", ")}`,
  );
}

/** The transport of a parsed address. */
export function transportOf(address: Address): Transport {
  const transport = TRANSPORTS.find((t) => t.scheme === address.scheme);
  if (!transport) throw new TypeError(`No transport for "${address.scheme}"`);
  return transport;
}

/** Is `address` ipcat's own stdin and stdout (`-`)? */
export function isStandardStreams(address: Address): boolean {
  return transportOf(address).standardStreams === true;
}

/**
 * The framing a recording names: a registered one, or `message` (`MESSAGE_FRAMING`), which
 * recordings of message transports are written in.
 */
export function recordedFraming(name: string): Framing {
  return name === MESSAGE_FRAMING.name ? MESSAGE_FRAMING : parseFraming(name);
}

/** Does `address` carry whole messages, with no framing of its own to choose? */
export function carriesMessages(address: Address): boolean {
  return transportOf(address).messages === true;
}

/** Is `address` connectionless (datagrams), so that no reply ever says the exchange is over? */
export function isDatagram(address: Address): boolean {
  return transportOf(address).datagrams === true;
}

/**
 * The framing to read and write `address` with: `chosen` (the `-f`/`--from`/`--to` name, parsed
 * by the caller) for byte streams; for a message transport its own `MESSAGE_FRAMING`, and a
 * usage error if the user chose one (`flag` names the option for the error).
 */
export function framingFor(
  address: Address,
  chosen: { framing: Framing; given: boolean; flag: string },
): Framing {
  if (!carriesMessages(address)) return chosen.framing;
  if (chosen.given) {
    throw new UsageError(
      `${chosen.flag} does not apply to ${address.text}: ${address.scheme}: carries whole messages`,
      `drop ${chosen.flag}; each ${address.scheme} message is one message`,
    );
  }
  return MESSAGE_FRAMING;
}

/**
 * Has a connection's `peer` (an address text) no address of its own, so that the listener's
 * address is all there is to say about it?
 */
export function isUnnamedPeer(peer: string): boolean {
  return TRANSPORTS.some((t) => t.unnamedPeers === true && peer.startsWith(`${t.scheme}:`));
}

/** Open a connection to `address`. */
export function connect(address: Address, options: ConnectOptions = {}): Promise<Connection> {
  const transport = transportOf(address);
  if (!transport.connect) {
    throw new UsageError(`Cannot connect to ${address.text}: ${address.scheme}: is not a connect address`);
  }
  return transport.connect(address, options);
}

/** Does `address` name a broker's subjects, which `inspect ADDR` watches instead of talking to? */
export function canWatch(address: Address): boolean {
  return transportOf(address).watch !== undefined;
}

/** Log every message on the subjects `address` matches until `signal` aborts (see `Transport.watch`). */
export function watch(
  address: Address,
  options: ConnectOptions,
  onMessage: (message: BrokerMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  const transport = transportOf(address);
  if (!transport.watch) {
    throw new UsageError(`Cannot watch ${address.text}: ${address.scheme}: is not a broker`);
  }
  return transport.watch(address, options, onMessage, signal);
}

/** Listen on `address`. */
export function listen(address: Address, options: ListenOptions = {}): Promise<Listener> {
  const transport = transportOf(address);
  if (!transport.listen) {
    throw new UsageError(`Cannot listen on ${address.text}: ${address.scheme}: cannot listen`);
  }
  return transport.listen(address, options);
}
