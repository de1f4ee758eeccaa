/**
 * Child processes for `--handle`, `--exec` and `exec:` addresses. Terminating one also reaches what it started
 * (`sh -c 'sleep 9 & ...'`), and every child is waited for, so no zombie is left behind.
 *
 * Two ways to reach the descendants: `ownGroup` runs the child in its own process group
 * (Deno's `detached`, a setsid) and signals the group; it costs a fork of the whole runtime,
 * ~2 ms per spawn, so the per-message path instead records the child's process tree from
 * `/proc` when it terminates it and signals each process in it.
 *
 * @example
 * ```ts
 * import { Child } from "./child.ts";
 *
 * const child = new Child(["sh", "-c", "sleep 9 & sleep 9"], { stderr: "inherit" });
 * child.terminate("not needed"); // SIGTERM to sh and both sleeps; SIGKILL 1 s later if need be
 * await child.process.stdin.close();
 * await child.process.stdout.cancel();
 * console.log((await child.status).signal); // "SIGTERM"
 * ```
 * @module
 */

/** How long a terminated child gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 1000;

/** Options for {@linkcode Child}. */
export interface ChildOptions {
  /** Variables added to the inherited environment. */
  env?: Record<string, string>;
  /** Where its stderr goes: piped (the caller forwards it) or ipcat's own. @default {"piped"} */
  stderr?: "piped" | "inherit";
  /** Run in its own process group (setsid): slower to spawn, immune to the terminal's ^C. */
  ownGroup?: boolean;
}

/** A process seen once: its start time tells it from a later process with the same pid. */
interface Seen {
  pid: number;
  start: string;
}

/** A spawned child with piped stdio that can be terminated with all it started. */
export class Child {
  /** The process itself: its piped stdin, stdout and (unless inherited) stderr. */
  readonly process: Deno.ChildProcess;
  /** Resolves once the child has exited and been reaped. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Why it was terminated, if it was. */
  terminated: string | null = null;
  #ownGroup: boolean;
  #exited = false;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #tree: Seen[] = [];

  /** Spawn `argv` now (`argv[0]` as found by `parseProgram`); throws if it cannot start. */
  constructor(argv: readonly string[], options: ChildOptions) {
    this.#ownGroup = options.ownGroup ?? false;
    this.process = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: options.stderr ?? "piped",
      env: options.env,
      detached: this.#ownGroup,
    }).spawn();
    this.status = this.process.status.finally(() => {
      this.#exited = true;
      if (this.#killTimer !== undefined) clearTimeout(this.#killTimer);
      // What it started and left running gets the same end.
      if (this.terminated) this.#signal("SIGKILL");
    });
  }

  /** Its process id. */
  get pid(): number {
    return this.process.pid;
  }

  /** SIGTERM it and its descendants now, SIGKILL after {@linkcode KILL_GRACE_MS}. */
  terminate(reason: string): void {
    if (this.terminated || this.#exited) return;
    this.terminated = reason;
    this.#signal("SIGTERM");
    this.#killTimer = setTimeout(() => this.#signal("SIGKILL"), KILL_GRACE_MS);
  }

  #signal(signal: Deno.Signal): void {
    if (this.#ownGroup) {
      kill(-this.pid, signal);
      return;
    }
    // Orphans are reparented away from us once the child dies: remember the tree as seen
    // while it lived, and re-read it while it still does.
    if (!this.#exited) this.#remember(this.pid);
    for (const seen of this.#tree) {
      if (seen.pid === this.pid ? !this.#exited : startTime(seen.pid) === seen.start) kill(seen.pid, signal);
    }
  }

  #remember(pid: number): void {
    const start = startTime(pid);
    if (start === null) return;
    if (!this.#tree.some((s) => s.pid === pid && s.start === start)) this.#tree.push({ pid, start });
    for (const child of childrenOf(pid)) this.#remember(child);
  }
}

function kill(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // Gone already.
  }
}

/** Field 22 of /proc/PID/stat, or null when the process is gone (or there is no /proc). */
function startTime(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // Gone, or no /proc: the child itself is still signalled.
  }
  return pids;
}

/** "exited with status 3" or "killed by SIGKILL". */
export function describeStatus(status: Deno.CommandStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exited with status ${status.code}`;
}

/** Pass `stream` to `log` line by line. Resolves at EOF. */
export async function forwardLines(
  stream: ReadableStream<Uint8Array>,
  log: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        log(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
  } catch {
    // The pipe broke with the child: report what arrived.
  }
  buffered += decoder.decode();
  if (buffered) log(buffered);
}
