/**
 * `exec:COMMAND ARGS`: a child process's stdin and stdout as one connection. The command is
 * split like a shell would (`splitArgv`) but never run through one.
 *
 * @example
 * ```ts
 * import { connect, parseAddress } from "./mod.ts";
 *
 * const conn = await connect(parseAddress("exec:tr a-z A-Z"));
 * await conn.write(new TextEncoder().encode("hi\n"));
 * await conn.closeWrite(); // tr sees EOF, answers and exits
 * const buffer = new Uint8Array(8);
 * const n = await conn.read(buffer);
 * console.log(new TextDecoder().decode(buffer.subarray(0, n ?? 0))); // "HI\n"
 * await conn.close();
 * ```
 * @module
 */
import { Child } from "../process/child.ts";
import { splitArgv } from "../process/command_line.ts";
import { UnavailableError, UsageError } from "../errors.ts";
import type { Log } from "../log.ts";
import type { Address, Connection, ConnectOptions, Transport } from "./types.ts";

/** How long a child whose stdout has ended gets to exit by itself before `close` terminates it. */
const EXIT_GRACE_MS = 500;

/** A command to run, already split into argv. */
export interface ExecAddress extends Address {
  /** Always `exec`. */
  readonly scheme: "exec";
  /** Program and arguments, never run through a shell. */
  readonly argv: readonly string[];
}

/**
 * A running child as a {@linkcode Connection}: writes go to its stdin, reads come from its
 * stdout, its stderr passes through. `closeWrite` closes its stdin; `close` terminates it
 * if it still runs (SIGTERM, then SIGKILL; see `Child`) and resolves once it is reaped,
 * having logged a failed exit (verbose). Its exit status is always collected (no zombies).
 */
export class ExecConnection implements Connection {
  readonly peer: string;
  /** Resolves when the child has exited and been reaped. */
  readonly exited: Promise<Deno.CommandStatus>;
  #child: Child;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #leftover: Uint8Array | null = null;
  #stdinClosed = false;
  #log?: Log;
  #closed?: Promise<void>;
  /** Its stdout has ended: it is exiting on its own, give it a moment before a SIGTERM. */
  #stdoutEnded = false;

  /** Wrap a spawned `child`; `peer` names it in logs, `log` hears how it exited. */
  constructor(child: Child, peer: string, log?: Log) {
    this.#child = child;
    this.peer = peer;
    this.#log = log;
    // Child awaits its status from the start, which reaps it the moment it exits.
    this.exited = child.status;
    this.#reader = child.process.stdout.getReader();
    this.#writer = child.process.stdin.getWriter();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    const chunk = this.#leftover ?? await this.readView();
    if (chunk === null) return null;
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    this.#leftover = n < chunk.length ? chunk.subarray(n) : null;
    return n;
  }

  /** The stream's own chunks: no copy. */
  async readView(): Promise<Uint8Array | null> {
    const { value, done } = await this.#reader.read();
    if (done) this.#stdoutEnded = true;
    return done ? null : value;
  }

  async write(data: Uint8Array): Promise<number> {
    try {
      // Resolves once the bytes are written, so the caller may reuse `data` afterwards.
      await this.#writer.write(data);
    } catch (error) {
      // The only way a write to a child's stdin fails is that nobody reads it any more.
      throw new Deno.errors.BrokenPipe(`${this.peer} closed its stdin`, { cause: error });
    }
    return data.length;
  }

  async closeWrite(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    await this.#writer.close().catch(() => {});
  }

  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#reader.cancel().catch(() => {});
    if (!this.#stdinClosed) {
      this.#stdinClosed = true;
      this.#writer.abort().catch(() => {});
    }
    // A child whose stdout has ended is exiting by itself (cat after its stdin closed): a
    // SIGTERM now would race its own exit and report a kill that did not happen.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exiting = this.#stdoutEnded
      ? Promise.race([
        this.exited,
        new Promise((resolve) => timer = setTimeout(resolve, EXIT_GRACE_MS)),
      ])
      : Promise.resolve();
    // Child escalates to SIGKILL for one that ignores SIGTERM, so this always settles.
    this.#closed = exiting.then(() => {
      if (timer !== undefined) clearTimeout(timer);
      this.#child.terminate("the pipe ended");
      return this.exited;
    }).then((status) => {
      if (status.code !== 0) {
        this.#log?.("verbose", `${this.peer} exited with ${status.signal ?? status.code}`);
      }
    });
    return this.#closed;
  }
}

/** Start the command; a missing program is `UnavailableError`. */
function spawn(address: ExecAddress, options: ConnectOptions): Promise<Connection> {
  const program = address.argv[0];
  let child: Child;
  try {
    child = new Child(address.argv, { stderr: "inherit" });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UnavailableError(
        `Cannot run ${address.text}: command "${program}" not found`,
        "check PATH; a shell command needs exec:sh -c '...'",
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new UnavailableError(`Cannot run ${address.text}: permission denied`);
    }
    throw error;
  }
  return Promise.resolve(new ExecConnection(child, address.text, options.log));
}

/** `exec:COMMAND ARGS` (connect only). */
export const execTransport: Transport<ExecAddress> = {
  scheme: "exec",
  syntax: ["exec:COMMAND ARGS"],
  help: "a child process's stdin/stdout (pipe; no shell unless exec:sh -c '...')",
  parse(rest) {
    if (rest.trim() === "") {
      throw new UsageError(`Cannot parse address "exec:": the command is empty`, "write exec:cat");
    }
    return { scheme: "exec", text: `exec:${rest}`, argv: splitArgv(rest) };
  },
  connect: spawn,
};
