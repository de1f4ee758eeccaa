/**
 * What `serve --exec` and `serve --handle-stream` share: each connection gets a CMD of its
 * own. Starting it waits out a shortage of descriptors or processes, with one backoff (one
 * "cannot start" line per episode) per server and mode; ending it says why, once.
 * @module
 */
import { Child, type ChildOptions } from "../process/child.ts";
import { describe, isPeerGone } from "../errors.ts";
import type { LogLevel } from "../log.ts";
import { ShortageBackoff } from "./_shortage.ts";
import type { Session } from "./server.ts";

/** Where a mode's log lines go. */
export type Log = (level: LogLevel, line: string) => void;

/** A connection's CMD, and how it is ended. */
export interface Coprocess {
  /** The running CMD. */
  readonly child: Child;
  /** Terminate CMD, saying why once: verbose (a client leaving is news only with -v) or error. */
  gone(why: string, level?: "verbose" | "error"): void;
  /** Terminate CMD after a read or write on the connection failed: an error unless the client left. */
  failed(what: "read" | "write", error: unknown): void;
}

/** One backoff per server (its log function) and mode. */
const spawnings = new WeakMap<Log, Map<string, ShortageBackoff>>();

function spawningFor(log: Log, mode: string): ShortageBackoff {
  const byMode = spawnings.get(log) ?? new Map<string, ShortageBackoff>();
  spawnings.set(log, byMode);
  let spawning = byMode.get(mode);
  if (!spawning) {
    spawning = new ShortageBackoff({
      log,
      failed: `cannot start ${mode} command`,
      waiting: "connections wait",
      recovered: `starting ${mode} commands again`,
    });
    byMode.set(mode, spawning);
  }
  return spawning;
}

/**
 * Start `argv` for `session` (`mode`, such as `--exec`, names it in the log), once descriptors
 * and processes allow; undefined when the server stopped first.
 */
export async function startCoprocess(
  session: Session,
  mode: string,
  argv: readonly string[],
  options: ChildOptions,
  log: Log,
): Promise<Coprocess | undefined> {
  const child = await spawningFor(log, mode).run(() => new Child(argv, options), session.stopping);
  if (child === undefined) return undefined;
  const { id } = session;
  log("verbose", `conn ${id}: started ${argv[0]} (pid ${child.pid})`);
  const gone = (why: string, level: "verbose" | "error" = "verbose") => {
    if (!child.terminated) log(level, `conn ${id}: ${why}; terminating pid ${child.pid}`);
    child.terminate(why);
  };
  const failed = (what: "read" | "write", error: unknown) =>
    isPeerGone(error) ? gone("client went away") : gone(`${what} failed: ${describe(error)}`, "error");
  return { child, gone, failed };
}
