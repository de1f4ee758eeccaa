/**
 * The address registry: every transport ipcat speaks, its syntax, and how to open it.
 * Adding a transport is adding a file and one row to {@linkcode TRANSPORTS}.
 *
 * @example
 * ```ts
 * const address = parseAddress("tcp:8080"); // { scheme: "tcp", host: "127.0.0.1", port: 8080 }
 * const conn = await connect(address);
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";
import { execTransport } from "./exec.ts";
import { stdioTransport } from "./stdio.ts";
import { tcpTransport } from "./tcp.ts";
import { tlsTransport } from "./tls.ts";
import type { Address, Connection, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";
import { unixTransport } from "./unix.ts";

export type { Address, Connection, ConnectOptions, Listener, ListenOptions, Transport } from "./types.ts";

/** Every transport, in the order help text lists them. */
export const TRANSPORTS: readonly Transport[] = [
  unixTransport as Transport,
  tcpTransport as Transport,
  tlsTransport as Transport,
  stdioTransport as Transport,
  execTransport as Transport,
];

/** The accepted address forms, one per line, for help text and error hints. */
export function addressForms(filter: (t: Transport) => boolean = () => true): string[] {
  return TRANSPORTS.filter(filter).flatMap((t) => t.syntax.map((s) => `${s.padEnd(40)} ${t.help}`));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return row[b.length];
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
  if (!scheme && (text.includes("/") || text.endsWith(".sock"))) return unixTransport.parse(text);
  const schemes = TRANSPORTS.map((t) => t.scheme);
  const close = scheme ? schemes.find((s) => editDistance(s, scheme) <= 2) : undefined;
  const why = scheme ? `unknown scheme "${scheme}"` : "not an address";
  throw new UsageError(
    `Cannot parse address "${text}": ${why}`,
    close
      ? `there is no ${scheme}: address; did you mean ${close}:?`
      : `use one of: ${TRANSPORTS.flatMap((t) => t.syntax).join(", ")}`,
  );
}

function transportOf(address: Address): Transport {
  const transport = TRANSPORTS.find((t) => t.scheme === address.scheme);
  if (!transport) throw new TypeError(`No transport for "${address.scheme}"`);
  return transport;
}

/** Open a connection to `address`. */
export function connect(address: Address, options: ConnectOptions = {}): Promise<Connection> {
  const transport = transportOf(address);
  if (!transport.connect) {
    throw new UsageError(`Cannot connect to ${address.text}: ${address.scheme}: is not a connect address`);
  }
  return transport.connect(address, options);
}

/** Listen on `address`. */
export function listen(address: Address, options: ListenOptions = {}): Promise<Listener> {
  const transport = transportOf(address);
  if (!transport.listen) {
    throw new UsageError(`Cannot listen on ${address.text}: ${address.scheme}: cannot listen`);
  }
  return transport.listen(address, options);
}
