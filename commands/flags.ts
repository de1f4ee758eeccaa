/**
 * Flags every command shares, and the stderr log they all use.
 * @module
 */
import type { ConnectOptions, ListenOptions } from "../lib/address/types.ts";
import type { FrameKind, WebSocketOptions } from "../lib/address/ws.ts";
import { parseDuration } from "../lib/duration.ts";
import { UsageError } from "../lib/errors.ts";
import { ENCODINGS } from "../lib/encoding.ts";
import {
  DEFAULT_MAX_FRAME_TEXT,
  type FramingFamily,
  FRAMINGS,
  MAX_FRAME_CEILING,
} from "../lib/framing/mod.ts";
import type { Log } from "../lib/log.ts";
import type { OutputLike } from "./stdio.ts";

/** Flags every command accepts. */
export interface CommonFlags {
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
}

/** Stricli definitions of {@linkcode CommonFlags}. */
export const commonFlags = {
  quiet: { kind: "boolean", brief: "Log errors only", default: false },
  verbose: { kind: "boolean", brief: "Log connections and more", default: false },
  color: { kind: "boolean", brief: "Colour output (--no-color to disable; NO_COLOR too)", default: true },
} as const;

/** Flags of commands that move messages. */
export interface FramingFlags {
  readonly framing?: string;
  readonly encoding: string;
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

/** A family in one word for a flag's brief: `length[:u8|u16be|...]`. */
function framingBrief(family: FramingFamily): string {
  const variants = family.syntax.filter((s) => s.startsWith(`${family.name}:`))
    .map((s) => s.slice(family.name.length + 1));
  return variants.length ? `${family.name}[:${variants.join("|")}]` : family.name;
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
  readonly ca?: string;
}

/** Stricli definition of `--ca`. */
export const connectTlsFlags = {
  ca: {
    kind: "parsed",
    parse: String,
    brief: "tls: also trust this CA certificate (PEM file)",
    placeholder: "FILE",
    optional: true,
  },
} as const;

/** TLS flags of commands that listen. */
export interface ListenTlsFlags {
  readonly cert?: string;
  readonly key?: string;
}

/** Stricli definitions of `--cert` and `--key`. */
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
} as const;

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
}

/** Connect options from `--ca` and, for commands that have them, the WebSocket flags. */
export async function connectOptions(
  flags: ConnectTlsFlags & Partial<WebSocketConnectFlags & FramingFlags>,
): Promise<ConnectOptions> {
  const ws = flags.maxFrame === undefined
    ? undefined
    : webSocketConnect(flags as WebSocketConnectFlags & FramingFlags);
  return flags.ca === undefined ? { ws } : { caCerts: [await readPem("--ca", flags.ca)], ws };
}

/** The `tls` listen option from `--cert`/`--key` (both or neither). */
export async function listenTls(flags: ListenTlsFlags): Promise<ListenOptions["tls"]> {
  if (flags.cert === undefined && flags.key === undefined) return undefined;
  if (flags.cert === undefined || flags.key === undefined) {
    throw new UsageError("--cert and --key go together", "give both PEM files");
  }
  return { cert: await readPem("--cert", flags.cert), key: await readPem("--key", flags.key) };
}

/** WebSocket flags of commands that connect. */
export interface WebSocketConnectFlags {
  readonly binary?: boolean;
  readonly text?: boolean;
  readonly header?: readonly string[];
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
  readonly binary?: boolean;
  readonly text?: boolean;
  readonly origin?: readonly string[];
  readonly protocol?: string;
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
