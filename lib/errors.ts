/**
 * The few error classes ipcat distinguishes. {@linkcode exitCodeOf} maps each to its exit
 * code; everything else is a plain failure (exit 1).
 *
 * @example
 * ```ts
 * import { UsageError } from "./errors.ts";
 *
 * const error = new UsageError('Cannot parse address "uix:/tmp/a.sock"', "did you mean unix:?");
 * console.log(`ipcat: ${error.message} (${error.hint})`); // and cli.ts exits 2
 * ```
 * @module
 */

/** Base for ipcat's own errors: a `what` (the message) and an optional hint. */
export class IpcatError extends Error {
  /** A suggestion printed after the message, e.g. the flag that fixes it. */
  readonly hint?: string;
  /** `message` says what failed and why; `hint` how to fix it. */
  constructor(message: string, hint?: string, options?: ErrorOptions) {
    super(message, options);
    this.hint = hint;
  }
}

/** Bad command line: unknown address form, bad flag value (exit 2). */
export class UsageError extends IpcatError {
  /** Class name, as in stack traces. */
  override name = "UsageError";
}

/** Malformed, truncated or oversize framing, or bad encoded input (exit 65). */
export class FrameError extends IpcatError {
  /** Class name, as in stack traces. */
  override name = "FrameError";
  /** What is wrong, without the offset: the message is this plus " (at byte N)". */
  readonly reason: string;
  /** Byte offset in the stream where the problem was found; undefined for input given whole. */
  readonly offset?: number;
  /** A copy of the first bytes at the problem, so a hint can tell what they look like. */
  bytes?: Uint8Array;
  /** `reason` is the problem; `offset` the byte where it was found, appended to the message. */
  constructor(reason: string, offset?: number, hint?: string) {
    super(offset === undefined ? reason : `${reason} (at byte ${offset})`, hint);
    this.reason = reason;
    this.offset = offset;
  }

  /** Keep (a copy of) up to 16 bytes at the problem; returns this, for `throw`. */
  near(bytes: Uint8Array | undefined): this {
    if (bytes) this.bytes = bytes.slice(0, 16);
    return this;
  }
}

/**
 * A peer stopped taking data while ipcat still held some for it: a write failed because it
 * went away. Exit 1; the message says how much was delivered.
 */
export class DeliveryError extends IpcatError {
  /** Class name, as in stack traces. */
  override name = "DeliveryError";
  /** Bytes (or messages) accepted by write calls before the failure. */
  readonly delivered: number;
  /** `delivered` of at least `taken` `unit`s (bytes or messages) reached `peer` before it went away. */
  constructor(peer: string, delivered: number, taken: number, unit: string, cause?: unknown) {
    super(
      `Cannot send to ${peer}: it closed the connection after ${delivered} of at least ${taken} ${unit} were delivered`,
      "the rest was not sent",
      { cause },
    );
    this.delivered = delivered;
  }
}

/** Socket missing, connection refused, address in use (exit 69). */
export class UnavailableError extends IpcatError {
  /** Class name, as in stack traces. */
  override name = "UnavailableError";
}

/** `--timeout` or `--wait` ran out (exit 124). */
export class TimeoutError extends IpcatError {
  /** Class name, as in stack traces. */
  override name = "TimeoutError";
}

/** A stop signal while sending, piping or inspecting: exit 130 on SIGINT, 128 + N for others. */
export class InterruptedError extends IpcatError {
  /** Class name, as in stack traces. */
  override name = "InterruptedError";
  /** The exit code: 130 for SIGINT, 128 + the signal number for others. */
  readonly exitCode: number;
  /** `exitCode` defaults to SIGINT's 130. */
  constructor(message: string, hint?: string, exitCode = 130) {
    super(message, hint);
    this.exitCode = exitCode;
  }
}

/** The peer went away (a read or write on its connection failed for that reason). */
export function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.NotConnected || error instanceof Deno.errors.BadResource;
}

/** One-line description of an error for logs. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const hint = (error as { hint?: string }).hint;
    return hint ? `${error.message} (${hint})` : error.message;
  }
  return String(error);
}

/** The one table from error to exit code, as README.md "Exit codes" documents them. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return 2;
  if (error instanceof FrameError) return 65;
  if (error instanceof UnavailableError) return 69;
  if (error instanceof TimeoutError) return 124;
  if (error instanceof InterruptedError) return error.exitCode;
  return 1;
}

/** The one line `ipcat` prints for an error that ends it (the stack too under `IPCAT_DEBUG=1`). */
export function errorLine(error: unknown): string {
  if (Deno.env.get("IPCAT_DEBUG") === "1" && error instanceof Error && error.stack) {
    return `ipcat: ${error.stack}`;
  }
  // Raw socket errors that reach here carry the OS's words; say what happened instead.
  if (error instanceof Deno.errors.ConnectionReset) return "ipcat: Connection lost: the peer reset it";
  if (error instanceof Deno.errors.BrokenPipe) {
    return "ipcat: Connection lost: the peer closed it while we wrote";
  }
  return `ipcat: ${describe(error).replace(/\s*\n\s*/g, " ")}`;
}
