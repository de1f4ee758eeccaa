/**
 * The log every part of ipcat reports through. `lib/` never prints: it is handed a
 * {@linkcode Log} and the command line decides where the lines go (stderr, honouring -q/-v).
 *
 * @example
 * ```ts
 * import type { Log } from "./log.ts";
 * const log: Log = (level, line) => level === "error" && console.error(line);
 * log("error", "conn 1: bad frame");
 * ```
 * @module
 */

/** How much a line matters: `error` always shows, `info` unless -q, `verbose` only with -v. */
export type LogLevel = "error" | "info" | "verbose";

/** Receives one log line (no trailing newline, no `ipcat: ` prefix). */
export type Log = (level: LogLevel, line: string) => void;
