/**
 * The standard streams a command uses, passed in by `cli.ts` so that a test can run a whole
 * command in-process with fake ones (as Stricli's own app tests do).
 *
 * @example
 * ```ts
 * import { denoStdio } from "./stdio.ts";
 * denoStdio.stderr.writeSync(new TextEncoder().encode("hello\n"));
 * ```
 * @module
 */

/** stdin as commands read it: `Deno.stdin`, or a fake in tests. */
export interface StdinLike {
  /** Read into `buffer`; the byte count, or null at end of input. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Whether stdin is a terminal: someone typing, not a pipe or file. */
  isTerminal(): boolean;
  /** Raw mode for the line editor; only called when `isTerminal()`. */
  setRaw(raw: boolean): void;
}

/** stdout or stderr as commands write them. */
export interface OutputLike {
  /** Write some of `data`; the byte count written. */
  write(data: Uint8Array): Promise<number>;
  /** Write some of `data`, blocking; the byte count written. */
  writeSync(data: Uint8Array): number;
  /** Whether this is a terminal (live progress, colour). */
  isTerminal(): boolean;
}

/** The three standard streams. */
export interface Stdio {
  /** Where commands read messages and typed lines. */
  readonly stdin: StdinLike;
  /** Where messages and replies go. */
  readonly stdout: OutputLike;
  /** Where log lines go (`ipcat: ...`). */
  readonly stderr: OutputLike;
}

/** The process's own streams. */
export const denoStdio: Stdio = {
  stdin: Deno.stdin,
  stdout: Deno.stdout,
  stderr: Deno.stderr,
};
