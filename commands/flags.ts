/**
 * Flags every command shares, and the stderr log they all use.
 * @module
 */
import type { FrameKind, WebSocketOptions } from "../lib/address/ws.ts";
import type { ConnectOptions, ListenOptions } from "../lib/address/types.ts";
import { parseDuration } from "../lib/duration.ts";
import { UsageError } from "../lib/errors.ts";
import { ENCODINGS } from "../lib/encoding.ts";
import {
  DEFAULT_FRAMING,
  DEFAULT_MAX_FRAME_TEXT,
  type FramingFamily,
  FRAMINGS,
  MAX_FRAME_CEILING,
} from "../lib/framing/mod.ts";
import type { Log } from "../lib/log.ts";
import type { OutputLike } from "./stdio.ts";

/** Flags every command accepts. */
export interface CommonFlags {
  /** `--quiet`: log errors only. */
  readonly quiet: boolean;
  /** `--verbose`: also log connections and other events. */
  readonly verbose: boolean;
  /** `--color`: colour even into a pipe; `--no-color` or `NO_COLOR`: never; unset: colour when stdout is a terminal. */
  readonly color?: boolean;
}

/** Stricli definitions of {@linkcode CommonFlags}. */
export const commonFlags = {
  quiet: { kind: "boolean", brief: "Log errors only", default: false },
  verbose: { kind: "boolean", brief: "Log connections and more", default: false },
  color: {
    kind: "boolean",
    brief: "Colour even into a pipe (| less -R); --no-color or NO_COLOR: never [default: on a terminal]",
    optional: true,
  },
} as const;

/**
 * Help headings: the group each flag is listed under in --help and the man page. A flag
 * not named here is listed under its command's own options ("Send options").
 */
const FLAG_GROUPS: Record<string, string> = {
  quiet: "Common options",
  verbose: "Common options",
  color: "Common options",
  framing: "Message options",
  encoding: "Message options",
  maxFrame: "Message options",
  ca: "TLS options",
  cert: "TLS options",
  key: "TLS options",
  pin: "TLS options",
  insecure: "TLS options",
  servername: "TLS options",
  clientCa: "TLS options",
  echo: "Modes (default: print each message)",
  handle: "Modes (default: print each message)",
  exec: "Modes (default: print each message)",
  broadcast: "Modes (default: print each message)",
  forward: "Modes (default: print each message)",
  handleStream: "Modes (default: print each message)",
  jobs: "--handle options",
  handleTimeout: "--handle options",
  queue: "--broadcast options",
  slow: "--broadcast options",
  target: "Modes (default: an interactive session with ADDR)",
  intercept: "Modes (default: an interactive session with ADDR)",
  restore: "Modes (default: an interactive session with ADDR)",
  format: "Log options",
  record: "Log options",
  showMax: "Log options",
  pcap: "Log options",
  pcapPort: "Log options",
  binary: "WebSocket options",
  text: "WebSocket options",
  header: "WebSocket options",
  protocol: "WebSocket options",
  origin: "WebSocket options",
  pingInterval: "WebSocket options",
  creds: "NATS options",
  group: "NATS options",
};

/** The help heading of flag `name` (its internal, camelCase name). */
export function flagGroup(name: string): string | undefined {
  return FLAG_GROUPS[name];
}

/** Defaults that live in the command, not in the flag definition: the framing each command uses. */
const SHOWN_DEFAULTS: Record<string, Record<string, string>> = {
  serve: { framing: DEFAULT_FRAMING },
  send: { framing: DEFAULT_FRAMING },
  inspect: { framing: DEFAULT_FRAMING },
  pipe: { framing: "raw", from: "-f", to: "-f" },
};

/** The default help shows for `flag` of `command` when its definition has none. */
export function shownDefault(command: string, flag: string): string | undefined {
  return SHOWN_DEFAULTS[command]?.[flag];
}

/** Flags of commands that move messages. */
export interface FramingFlags {
  /** `--framing`, as typed; unset means the command's default. */
  readonly framing?: string;
  /** `--encoding` of messages on the command line and stdout. */
  readonly encoding: string;
  /** `--max-frame`: largest message accepted, in bytes. */
  readonly maxFrame: number;
}

/** Parse a byte count such as `1024`, `64k`, `16M`. */
export function parseBytes(text: string): number {
  const match = /^(\d+)\s*([kKmMgG]i?[bB]?)?$/.exec(text.trim());
  if (!match) throw new SyntaxError(`expected a byte count like 65536, 64k or 16M`);
  const unit = (match[2] ?? "").charAt(0).toLowerCase();
  const scale = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Number(match[1]) * scale;
}

/** Parse `--max-frame`: a byte count no larger than {@linkcode MAX_FRAME_CEILING}. */
export function parseMaxFrame(text: string): number {
  const bytes = parseBytes(text);
  // A message is held whole in memory; past this, stream it (`pipe`, `-f raw`) instead.
  if (bytes > MAX_FRAME_CEILING) throw new SyntaxError(`at most 1G (one message is held in memory whole)`);
  return bytes;
}

/** Parse a positive whole number. */
export function parseCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new SyntaxError(`expected a whole number of at least 1`);
  return n;
}

/** A family in one word for a flag's brief: `length[:VARIANT]` (help lists the variants). */
function framingBrief(family: FramingFamily): string {
  return family.variants?.length ? `${family.name}[:VARIANT]` : family.name;
}

/** Stricli definitions of {@linkcode FramingFlags}; `framing` has no default here. */
export const framingFlags = {
  framing: {
    kind: "parsed",
    parse: String,
    brief: `Framing: ${FRAMINGS.map(framingBrief).join(", ")}`,
    placeholder: "NAME",
    optional: true,
  },
  encoding: {
    kind: "parsed",
    parse: String,
    brief: `Encoding of messages on the command line and stdout: ${ENCODINGS.join(", ")}`,
    placeholder: "ENC",
    default: "text",
  },
  maxFrame: {
    kind: "parsed",
    parse: parseMaxFrame,
    brief: "Largest message accepted, in bytes (16M, at most 1G)",
    placeholder: "BYTES",
    default: DEFAULT_MAX_FRAME_TEXT,
  },
} as const;

/** Aliases for the shared flags. */
export const commonAliases = { q: "quiet", v: "verbose", f: "framing", e: "encoding" } as const;

const te = new TextEncoder();

/** A stderr log that honours -q and -v. Lines start with `ipcat: `. */
export function stderrLog(flags: CommonFlags, stderr: Pick<OutputLike, "writeSync">): Log {
  return (level, line) => {
    if (flags.quiet && level !== "error") return;
    if (!flags.verbose && level === "verbose") return;
    try {
      stderr.writeSync(te.encode(`ipcat: ${line}\n`));
    } catch {
      // stderr gone: nothing useful left to do with a log line.
    }
  };
}

/** TLS flags of commands that connect. */
export interface ConnectTlsFlags {
  /** `--ca`: PEM file of a CA certificate to trust besides the system's. */
  readonly ca?: string;
  /** `--pin`: the server certificate's SHA-256 fingerprint, as lowercase hex ({@linkcode parsePin}). */
  readonly pin?: string;
  /** `--insecure`/`-k`: accept any server certificate. */
  readonly insecure?: boolean;
  /** `--servername`: the name to ask for (SNI) and verify instead of the address's host. */
  readonly servername?: string;
  /** `--cert`: PEM file of the client certificate chain. */
  readonly cert?: string;
  /** `--key`: PEM file of the private key for `cert`. */
  readonly key?: string;
}

/** Parse `--pin sha256:HEX` (colons optional, as `openssl x509 -fingerprint -sha256` prints it). */
export function parsePin(text: string): string {
  const hex = /^sha256:([0-9a-f:]+)$/i.exec(text.trim())?.[1].replaceAll(":", "").toLowerCase();
  if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new SyntaxError(
      "expected sha256: and the certificate's 64 hex digits (openssl x509 -fingerprint -sha256)",
    );
  }
  return hex;
}

/** Stricli definitions of the TLS flags of commands that connect. */
export const connectTlsFlags = {
  ca: {
    kind: "parsed",
    parse: String,
    brief: "tls: also trust this CA, or this self-signed server certificate (PEM file)",
    placeholder: "FILE",
    optional: true,
  },
  pin: {
    kind: "parsed",
    parse: parsePin,
    brief: "tls: trust exactly the server certificate with this SHA-256 fingerprint",
    placeholder: "sha256:HEX",
    optional: true,
  },
  insecure: {
    kind: "boolean",
    brief: "tls: accept any server certificate (warns each time; tests only)",
    optional: true,
    withNegated: false,
  },
  servername: {
    kind: "parsed",
    parse: String,
    brief: "tls: server name to ask for (SNI) and verify, when connecting by IP address",
    placeholder: "NAME",
    optional: true,
  },
  cert: {
    kind: "parsed",
    parse: String,
    brief: "tls: client certificate chain, for servers that require one (PEM file; with --key)",
    placeholder: "FILE",
    optional: true,
  },
  key: {
    kind: "parsed",
    parse: String,
    brief: "tls: private key of the client certificate (PEM file)",
    placeholder: "FILE",
    optional: true,
  },
} as const;

/** Aliases of {@linkcode connectTlsFlags}: `-k` as curl's. */
export const connectTlsAliases = { k: "insecure" } as const;

/** Flags of commands that may open a message broker (`nats:`). */
export interface BrokerFlags {
  /** `--creds`: a NATS credentials file. */
  readonly creds?: string;
}

/** Stricli definition of `--creds`. */
export const brokerFlags = {
  creds: {
    kind: "parsed",
    parse: String,
    brief: "nats: credentials file (JWT and NKey seed)",
    placeholder: "FILE",
    optional: true,
  },
} as const;

/** TLS flags of commands that listen. */
export interface ListenTlsFlags {
  /** `--cert`: PEM file of the certificate chain served. */
  readonly cert?: string;
  /** `--key`: PEM file of the private key for `cert`. */
  readonly key?: string;
  /** `--client-ca`: PEM file of the CA whose certificates clients must present. */
  readonly clientCa?: string;
}

/** Stricli definitions of `--cert`, `--key` and `--client-ca`. */
export const listenTlsFlags = {
  cert: {
    kind: "parsed",
    parse: String,
    brief: "tls: certificate chain (PEM file)",
    placeholder: "FILE",
    optional: true,
  },
  key: {
    kind: "parsed",
    parse: String,
    brief: "tls: private key (PEM file)",
    placeholder: "FILE",
    optional: true,
  },
  clientCa: {
    kind: "parsed",
    parse: String,
    brief: "tls: require a client certificate issued by this CA (PEM file)",
    placeholder: "FILE",
    optional: true,
  },
} as const;

/** A PEM file's text, or a one-line error naming the flag. */
export async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a directory"
      : (error as Error).message.replace(/ \(os error \d+\).*$/, "");
    throw new Error(`Cannot read ${flag} ${path}: ${why}`);
  }
}

/** A certificate and its key from `--cert`/`--key`: both or neither. */
async function certAndKey(
  flags: { cert?: string; key?: string },
): Promise<{ cert: string; key: string } | undefined> {
  if (flags.cert === undefined && flags.key === undefined) return undefined;
  if (flags.cert === undefined || flags.key === undefined) {
    throw new UsageError("--cert and --key go together", "give both PEM files");
  }
  return { cert: await readPem("--cert", flags.cert), key: await readPem("--key", flags.key) };
}

/**
 * Connect options from the TLS flags; `log` is told of each connection made with
 * `--insecure`. How the server is trusted is one choice: `--ca`, `--pin` or `--insecure`.
 */
export async function connectOptions(
  flags: ConnectTlsFlags & Partial<WebSocketConnectFlags & FramingFlags>,
  log?: Log,
): Promise<ConnectOptions> {
  const trust = [
    flags.ca !== undefined && "--ca",
    flags.pin !== undefined && "--pin",
    flags.insecure === true && "--insecure",
  ]
    .filter(Boolean);
  if (trust.length > 1) {
    throw new UsageError(
      `${trust.join(" and ")} do not go together`,
      "choose how to trust the server: one of them",
    );
  }
  return {
    caCerts: flags.ca === undefined ? undefined : [await readPem("--ca", flags.ca)],
    pin: flags.pin,
    insecure: flags.insecure === true || undefined,
    servername: flags.servername,
    clientCert: await certAndKey(flags),
    log,
    // The WebSocket flags, for commands that have them (ws: reads them, others ignore them).
    ws: flags.maxFrame === undefined
      ? undefined
      : webSocketConnect(flags as WebSocketConnectFlags & FramingFlags),
  };
}

/** The `tls` listen option from `--cert`/`--key` (both or neither) and `--client-ca`. */
export async function listenTls(flags: ListenTlsFlags): Promise<ListenOptions["tls"]> {
  const tls = await certAndKey(flags);
  if (flags.clientCa === undefined) return tls;
  if (tls === undefined) {
    throw new UsageError("--client-ca needs --cert and --key", "the server proves itself first");
  }
  return { ...tls, clientCa: [await readPem("--client-ca", flags.clientCa)] };
}

/** `--wait`: retry connecting while the other side is not up yet. */
export interface WaitFlags {
  /** `--wait`: how long to keep retrying a missing or refusing socket. */
  readonly wait?: string;
}

/** Stricli definition of `--wait`. */
export const waitFlags = {
  wait: {
    kind: "parsed",
    parse: String,
    brief: "Retry while the socket is missing or refuses, up to DURATION",
    placeholder: "DURATION",
    optional: true,
  },
} as const;

/** `--idle-timeout`: close after a stretch with no data in either direction. */
export interface IdleTimeoutFlags {
  /** `--idle-timeout`: how long with no data either way before closing. */
  readonly idleTimeout?: string;
}

/** Stricli definition of `--idle-timeout`; `brief` says what closes in that command. */
export function idleTimeoutFlag(brief: string): {
  readonly idleTimeout: {
    readonly kind: "parsed";
    readonly parse: StringConstructor;
    readonly brief: string;
    readonly placeholder: "DURATION";
    readonly optional: true;
  };
} {
  return {
    idleTimeout: { kind: "parsed", parse: String, brief, placeholder: "DURATION", optional: true },
  } as const;
}

/** `--idle-timeout` in milliseconds, or undefined when not given. */
export function idleTimeoutMs(flags: IdleTimeoutFlags): number | undefined {
  if (flags.idleTimeout === undefined) return undefined;
  const ms = parseDuration(flags.idleTimeout);
  if (ms <= 0) throw new UsageError("--idle-timeout must be longer than 0", "write a duration such as 30s");
  return ms;
}

/** WebSocket flags of commands that connect. */
export interface WebSocketConnectFlags {
  /** `--binary`: send binary frames. */
  readonly binary?: boolean;
  /** `--text`: send text frames (a message that is not UTF-8 is exit 65). */
  readonly text?: boolean;
  /** `--header`: extra handshake headers, `NAME:VALUE`. */
  readonly header?: readonly string[];
  /** `--protocol`: the subprotocol offered (client) or accepted (serve). */
  readonly protocol?: string;
}

const frameFlags = {
  binary: {
    kind: "boolean",
    brief: "ws: send binary frames (default: text when UTF-8 and -e text)",
    optional: true,
  },
  text: {
    kind: "boolean",
    brief: "ws: send text frames; a message that is not UTF-8 is exit 65",
    optional: true,
  },
} as const;

/** Stricli definitions of {@linkcode WebSocketConnectFlags}. */
export const webSocketConnectFlags = {
  ...frameFlags,
  header: {
    kind: "parsed",
    parse: parseHeader,
    brief: "ws: add a handshake header (repeatable), e.g. Origin:https://example.org",
    placeholder: "NAME:VALUE",
    variadic: true,
    optional: true,
  },
  protocol: {
    kind: "parsed",
    parse: String,
    brief: "ws: offer this subprotocol",
    placeholder: "NAME",
    optional: true,
  },
} as const;

/** WebSocket flags of `serve`. */
export interface WebSocketListenFlags {
  /** `--binary`: send binary frames. */
  readonly binary?: boolean;
  /** `--text`: send text frames (a message that is not UTF-8 is exit 65). */
  readonly text?: boolean;
  /** `--origin`: the only browser Origins `serve` accepts. */
  readonly origin?: readonly string[];
  /** `--protocol`: the subprotocol offered (client) or accepted (serve). */
  readonly protocol?: string;
  /** `--ping-interval`: ping an idle client this often; close it if the pong is late. */
  readonly pingInterval?: string;
}

/** Stricli definitions of {@linkcode WebSocketListenFlags}. */
export const webSocketListenFlags = {
  ...frameFlags,
  origin: {
    kind: "parsed",
    parse: String,
    brief: "ws: accept only browsers from this Origin (repeatable), e.g. http://localhost:8000",
    placeholder: "ORIGIN",
    variadic: true,
    optional: true,
  },
  protocol: {
    kind: "parsed",
    parse: String,
    brief: "ws: accept this subprotocol when a client offers it",
    placeholder: "NAME",
    optional: true,
  },
  pingInterval: {
    kind: "parsed",
    parse: String,
    brief: "ws: ping idle clients this often (whole seconds); close one whose pong is as late",
    placeholder: "DURATION",
    optional: true,
  },
} as const;

/** Parse `--header NAME:VALUE`. */
export function parseHeader(text: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(text)) {
    throw new SyntaxError(`expected NAME:VALUE, e.g. Origin:http://x`);
  }
  return text;
}

/** Frames to send: `--text`, `--binary`, or text for UTF-8 messages under `-e text`. */
function frameKind(flags: { binary?: boolean; text?: boolean; encoding: string }): FrameKind {
  if (flags.binary && flags.text) {
    throw new UsageError("Cannot combine --binary and --text", "choose one frame type");
  }
  return flags.text ? "text" : flags.binary || flags.encoding !== "text" ? "binary" : "auto";
}

/** `ws:` client options from the WebSocket flags, the encoding and `--max-frame`. */
export function webSocketConnect(flags: WebSocketConnectFlags & FramingFlags): WebSocketOptions {
  return {
    frames: frameKind(flags),
    maxMessage: flags.maxFrame,
    protocol: flags.protocol,
    headers: flags.header?.map((h) => {
      const colon = h.indexOf(":");
      return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()] as [string, string];
    }),
  };
}

/** `ws:` listen options from `serve`'s WebSocket flags. */
export function webSocketListen(flags: WebSocketListenFlags & FramingFlags): WebSocketOptions {
  return {
    frames: frameKind(flags),
    maxMessage: flags.maxFrame,
    protocol: flags.protocol,
    origins: flags.origin,
    pingInterval: flags.pingInterval === undefined ? undefined : parseDuration(flags.pingInterval),
  };
}

/**
 * The flags every command that connects somewhere has (`send`, `pipe`, `inspect`): the common
 * ones, framing, TLS, `--wait`, `--idle-timeout`, NATS and WebSocket.
 */
export interface ConnectingFlags
  extends
    CommonFlags,
    FramingFlags,
    ConnectTlsFlags,
    WaitFlags,
    IdleTimeoutFlags,
    BrokerFlags,
    WebSocketConnectFlags {}
