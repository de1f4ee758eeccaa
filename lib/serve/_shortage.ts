/**
 * Running short of descriptors, memory or processes is the machine's state, not a peer's
 * fault: whatever needs one waits and retries, with one log line per episode, instead of
 * failing the client. Every other error is the caller's to handle.
 *
 * @example
 * ```ts
 * import { ShortageBackoff } from "./_shortage.ts";
 *
 * const opening = new ShortageBackoff({
 *   log: (level, line) => console.error(level, line),
 *   failed: "cannot open /dev/null",
 *   waiting: "work waits",
 *   recovered: "opening files again",
 * });
 * // Retried every 100 ms while EMFILE/ENFILE/ENOMEM/…; undefined once the signal aborts.
 * const file = await opening.run(() => Deno.openSync("/dev/null"), AbortSignal.timeout(5000));
 * file?.close();
 * ```
 * @module
 */
import type { LogLevel } from "../log.ts";

/** How long to wait before retrying while a resource is short. */
export const SHORTAGE_BACKOFF_MS = 100;

/** What each shortage errno means, in plain words. */
const SHORTAGES: Record<string, string> = {
  EMFILE: "too many open files (ulimit -n reached)",
  ENFILE: "the system has too many open files",
  ENOMEM: "out of memory",
  ENOBUFS: "out of socket buffer memory",
  EAGAIN: "too many processes (ulimit -u reached)",
};

/** Plain words for a resource shortage, or null when `error` is something else. */
export function shortageOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? SHORTAGES[code] ?? null : null;
}

/** Options for {@linkcode ShortageBackoff}. */
export interface ShortageBackoffOptions {
  /** Receives one line when an episode starts and one when it ends. */
  log: (level: LogLevel, line: string) => void;
  /** What failed: `accept failed`, `cannot start handler`. */
  failed: string;
  /** What waits meanwhile: `new connections wait in the backlog`. */
  waiting: string;
  /** Logged when the episode ends: `accepting connections again`. */
  recovered: string;
}

/** Retries an operation while resources are short; shared by every caller of one kind. */
export class ShortageBackoff {
  #options: ShortageBackoffOptions;
  #short = false;

  /** One backoff per kind of operation, so one episode logs once however many callers wait. */
  constructor(options: ShortageBackoffOptions) {
    this.#options = options;
  }

  /**
   * `attempt()`'s result, retried every {@linkcode SHORTAGE_BACKOFF_MS} while it fails for
   * lack of resources; undefined once `signal` aborts. Other errors are thrown.
   */
  async run<T>(attempt: () => T | Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
    const { log, failed, waiting, recovered } = this.#options;
    while (!signal?.aborted) {
      let result: T;
      try {
        result = await attempt();
      } catch (error) {
        const shortage = shortageOf(error);
        if (shortage === null) throw error;
        if (!this.#short) {
          this.#short = true;
          log("error", `${failed}: ${shortage}; ${waiting}, retrying every ${SHORTAGE_BACKOFF_MS}ms`);
        }
        await sleep(SHORTAGE_BACKOFF_MS, signal);
        continue;
      }
      if (this.#short) {
        this.#short = false;
        log("info", recovered);
      }
      return result;
    }
    return undefined;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Descriptors held back (open on /dev/null) for a mode that needs several of its own per
 * connection, as `--handle` does for each handler's pipes. Without them, the accept loop
 * hands every descriptor to waiting clients, and no handler can ever start to answer them.
 */
export class DescriptorReserve {
  #size: number;
  #files: Deno.FsFile[] = [];

  /** Hold `size` descriptors back now (as many as are free). */
  constructor(size: number) {
    this.#size = size;
    this.fill();
  }

  /** Take back what is free, up to the size; true once full. */
  fill(): boolean {
    while (this.#files.length < this.#size) {
      try {
        this.#files.push(Deno.openSync("/dev/null"));
      } catch {
        return false;
      }
    }
    return true;
  }

  /** Give the held descriptors up for immediate use; false when none were held. */
  release(): boolean {
    if (this.#files.length === 0) return false;
    for (const file of this.#files.splice(0)) file.close();
    return true;
  }

  /** Resolves once the reserve is full again: new connections wait until then. */
  async whenFull(signal?: AbortSignal): Promise<void> {
    while (!this.fill() && !signal?.aborted) await sleep(SHORTAGE_BACKOFF_MS, signal);
  }

  /** Close the held descriptors. */
  [Symbol.dispose](): void {
    this.release();
  }
}
