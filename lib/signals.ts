/**
 * The signals every command turns into its orderly stop: SIGINT (Ctrl-C), SIGTERM (kill,
 * service managers) and SIGHUP (the terminal went away). Without a listener the runtime
 * dies at once, leaving socket files, replies in flight and child processes behind.
 *
 * @example Work that a signal stops in order; the trap says which signal it was
 * ```ts
 * import { interruption, trapSignals } from "./signals.ts";
 *
 * const stop = new AbortController();
 * {
 *   using trap = trapSignals(() => stop.abort());
 *   await new Promise((resolve) => setTimeout(resolve, 10)); // the work; Ctrl-C aborts `stop`
 *   if (trap.caught) throw interruption(trap.caught); // exit 130, 143 or 129
 * } // listeners removed: the next Ctrl-C kills the process again
 * ```
 * @module
 */
import { InterruptedError } from "./errors.ts";

/** The signals a command stops on. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Every {@linkcode StopSignal}, in the order they are listened for. */
export const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Exit code of a process killed by each signal (128 + its number), as shells report it. */
export const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
  SIGHUP: 129,
};

/** Listeners for the stop signals; disposing removes them. */
export interface SignalTrap extends Disposable {
  /** The first signal received, if any. */
  readonly caught: StopSignal | undefined;
}

/** Call `onSignal` on each SIGINT, SIGTERM and SIGHUP until the trap is disposed. */
export function trapSignals(onSignal: (signal: StopSignal) => void): SignalTrap {
  let caught: StopSignal | undefined;
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => {
      caught ??= signal;
      onSignal(signal);
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return {
    get caught() {
      return caught;
    },
    [Symbol.dispose]() {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** The error a command that was stopped by `signal` ends with: exit 130, 143 or 129. */
export function interruption(signal: StopSignal): InterruptedError {
  return signal === "SIGINT"
    ? new InterruptedError("Interrupted")
    : new InterruptedError(`Stopped by ${signal}`, undefined, SIGNAL_EXIT_CODES[signal]);
}
