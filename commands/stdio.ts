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
  read(buffer: Uint8Array): Promise<number | null>;
  isTerminal(): boolean;
  /** Raw mode for the line editor; only called when `isTerminal()`. */
  setRaw(raw: boolean): void;
}

/** stdout or stderr as commands write them. */
export interface OutputLike {
  write(data: Uint8Array): Promise<number>;
  writeSync(data: Uint8Array): number;
  isTerminal(): boolean;
}

/** The three standard streams. */
export interface Stdio {
  readonly stdin: StdinLike;
  readonly stdout: OutputLike;
  readonly stderr: OutputLike;
}

/** The process's own streams. */
export const denoStdio: Stdio = {
  stdin: Deno.stdin,
  stdout: Deno.stdout,
  stderr: Deno.stderr,
};
