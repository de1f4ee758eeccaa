/**
 * Child processes for `--handle` and `--exec`: each runs in its own process group, so
 * terminating it also reaches what it started (`sh -c 'sleep 9 & ...'`), and is always
 * waited for, so no zombie is left behind.
 * @module
 */

/** How long a terminated child gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 1000;

/** A spawned child in its own process group. */
export class GroupChild {
  readonly process: Deno.ChildProcess;
  /** Resolves once the child has exited and been reaped. */
  readonly status: Promise<Deno.CommandStatus>;
  #exited = false;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why it was terminated, if it was. */
  terminated: string | null = null;

  constructor(argv: readonly string[], env: Record<string, string>) {
    this.process = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env,
      // Its own process group (setsid), so a signal reaches the whole group.
      detached: true,
    }).spawn();
    this.status = this.process.status.finally(() => {
      this.#exited = true;
      clearTimeout(this.#killTimer);
      // Whatever the group leader left running gets the same end.
      if (this.terminated) this.#signalGroup("SIGKILL");
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** SIGTERM the group now, SIGKILL after {@linkcode KILL_GRACE_MS} if it still runs. */
  terminate(reason: string): void {
    if (this.terminated || this.#exited) return;
    this.terminated = reason;
    this.#signalGroup("SIGTERM");
    this.#killTimer = setTimeout(() => this.#signalGroup("SIGKILL"), KILL_GRACE_MS);
  }

  #signalGroup(signal: Deno.Signal): void {
    try {
      Deno.kill(-this.process.pid, signal);
    } catch {
      // The group is gone already.
    }
  }
}

/** "exited with status 3" or "killed by SIGKILL". */
export function describeStatus(status: Deno.CommandStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exited with status ${status.code}`;
}

/** Pass `stream` to `log` line by line, each line prefixed. Resolves at EOF. */
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
