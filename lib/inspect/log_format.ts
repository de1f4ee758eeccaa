/**
 * The events `inspect` logs, and how one event becomes lines of text: time, connection id,
 * direction, size, then the message as text, JSON (msgpack) or a `hexdump -C` dump.
 *
 * @example
 * ```ts
 * import { eventFormatter } from "./log_format.ts";
 *
 * const format = eventFormatter({ format: "auto", color: false });
 * format({ kind: "data", t: Date.now(), conn: 1, dir: "c2s", size: 2, bytes: new TextEncoder().encode("hi") });
 * // "12:00:00.000 #1 > 2B hi\n"
 * ```
 * @module
 */
import { escapeText, isPrintable } from "./escapes.ts";
import { hexdumpBytes } from "./hexdump.ts";
import { concatBytes } from "../bytes.ts";
import type { Direction } from "../pipe/relay.ts";

/**
 * How the log and recordings name each {@linkcode Direction}: the client is the relay's
 * side a, so `forward` is `c2s` (client to server, `>`) and `backward` is `s2c` (`<`).
 * The names are part of the `--record` format, so they stay what they were.
 */
export const DIRECTION_LABEL = { forward: "c2s", backward: "s2c" } as const satisfies Record<
  Direction,
  string
>;

/** A {@linkcode Direction} as the log and recordings write it. */
export type DirectionLabel = (typeof DIRECTION_LABEL)[Direction];

/** The arrow the log draws for each direction. */
export const ARROW: Readonly<Record<DirectionLabel, string>> = { c2s: ">", s2c: "<" };

/** How messages are shown: `auto` picks text when printable, else a hexdump. */
export type ViewFormat = "auto" | "text" | "hex";

/** The values `--format` accepts. */
export const VIEW_FORMATS: readonly ViewFormat[] = ["auto", "text", "hex"];

/** One thing that happened, as the log shows it. `conn` is absent in a session. */
export type InspectEvent =
  | {
    kind: "data";
    /** Epoch milliseconds. */
    t: number;
    conn?: number;
    dir: DirectionLabel;
    /** Size of the whole message. */
    size: number;
    /** The message, or its first bytes when it is larger than the log shows. */
    bytes: Uint8Array;
    /** How a message transport carried it (a WebSocket opcode: `text`, `binary`). */
    frame?: string;
  }
  /** `wire`: what a message transport did besides messages (a WebSocket close frame). */
  | { kind: "open" | "close" | "note" | "wire"; t: number; conn?: number; text: string }
  | { kind: "skipped"; t: number; count: number };

/** Options for {@linkcode eventFormatter}. */
export interface EventFormatOptions {
  /** How a message is shown: as text, as a hex dump, or whichever fits it. */
  format: ViewFormat;
  /** ANSI colours by direction. */
  color: boolean;
  /** A message as JSON (msgpack framing); throws if it is not a valid value. */
  json?: (message: Uint8Array) => string;
}

const COLOR: Record<string, string> = {
  c2s: "\x1b[32m",
  s2c: "\x1b[36m",
  open: "\x1b[2m",
  close: "\x1b[2m",
  wire: "\x1b[2m",
  note: "\x1b[33m",
  skipped: "\x1b[31m",
};
const RESET = "\x1b[0m";

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const MILLIS = Array.from({ length: 1000 }, (_, ms) => pad(ms, 3));
/** `HH:MM:SS.` of the last second shown: a busy log has many events per second. */
let clockSecond = NaN;
let clockPrefix = "";

/** Local wall-clock time with milliseconds: `14:03:07.123`. */
export function clock(t: number): string {
  const second = Math.floor(t / 1000);
  if (second !== clockSecond) {
    // UTC offsets are whole minutes, so local seconds change exactly on UTC ones.
    const d = new Date(second * 1000);
    clockPrefix = `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.`;
    clockSecond = second;
  }
  return clockPrefix + MILLIS[Math.floor(t) - second * 1000];
}

/** Text of a message that may have been cut short for the log, without a torn character. */
function textOf(bytes: Uint8Array, truncated: boolean): string {
  if (!truncated) return escapeText(bytes);
  // A cut in the middle of a UTF-8 sequence: leave the torn character out.
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back];
    if (b < 0x80) break;
    if (b >= 0xc0) {
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      if (need > back) return escapeText(bytes.subarray(0, bytes.length - back));
      break;
    }
  }
  return escapeText(bytes);
}

const te = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Formatted event: text, or (for hexdumps) the same text as UTF-8 bytes. */
export type Formatted = string | Uint8Array;

/** Formatted event as text. */
export function asText(formatted: Formatted): string {
  return typeof formatted === "string" ? formatted : new TextDecoder().decode(formatted);
}

/** Build the formatter: one event in, its lines out (each ending in `\n`). */
export function eventFormatter(options: EventFormatOptions): (event: InspectEvent) => Formatted {
  const { format, color, json } = options;
  const paint = (key: string, lines: string[]) =>
    color
      ? lines.map((line) => `${COLOR[key]}${line}${RESET}\n`).join("")
      : lines.length === 1
      ? lines[0] + "\n"
      : lines.map((l) => l + "\n").join("");
  return (event) => {
    const head = `${clock(event.t)}${"conn" in event && event.conn !== undefined ? ` #${event.conn}` : ""}`;
    if (event.kind === "skipped") {
      return paint("skipped", [
        `${head} log fell behind: ${event.count} events skipped (the traffic was not)`,
      ]);
    }
    if (event.kind !== "data") {
      const tag = event.kind === "note" ? " !" : event.kind === "wire" ? "" : ` ${event.kind}`;
      return paint(event.kind, [`${head}${tag} ${event.text}`]);
    }
    const { bytes, size, dir, frame } = event;
    const truncated = bytes.length < size;
    const more = size - bytes.length;
    const title = `${head} ${ARROW[dir]} ${size}B${frame ? ` ${frame}` : ""}`;
    if (format !== "hex" && json && !truncated) {
      try {
        return paint(dir, [`${title} ${json(bytes)}`]);
      } catch {
        // Not a valid value: fall through to the bytes.
      }
    }
    if (format === "text" || (format === "auto" && isPrintable(bytes))) {
      return paint(dir, [
        `${title} ${textOf(bytes, truncated)}${truncated ? ` … (${more} more bytes)` : ""}`,
      ]);
    }
    const dump = hexdumpBytes(bytes, { indent: 2 });
    const tail = truncated ? `  … (${more} more bytes)\n` : "";
    if (color) return paint(dir, `${title}\n${latin1.decode(dump)}${tail}`.slice(0, -1).split("\n"));
    // Bytes, not a string: hexdumps are most of a busy log, and this skips two conversions.
    return concatBytes([te.encode(`${title}\n`), dump, te.encode(tail)]);
  };
}
