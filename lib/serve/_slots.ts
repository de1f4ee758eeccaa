/**
 * A counting semaphore: `--jobs` across connections, and the per-connection window of
 * messages in flight. Waiters are served first come, first served.
 *
 * @example
 * ```ts
 * import { Slots } from "./_slots.ts";
 *
 * const jobs = new Slots(2);
 * await jobs.acquire();
 * try {
 *   // at most two of these run at once
 * } finally {
 *   jobs.release();
 * }
 * ```
 * @module
 */

/** N slots; `acquire` waits for a free one. */
export class Slots {
  #free: number;
  #waiters: (() => void)[] = [];
  #open = true;

  /** `size` slots, all free. */
  constructor(size: number) {
    this.#free = size;
  }

  /** Resolves once a slot is ours (at once after {@linkcode Slots.close}). */
  acquire(): Promise<void> {
    if (!this.#open) return Promise.resolve();
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Give back `n` slots. */
  release(n = 1): void {
    for (let i = 0; i < n; i++) {
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    }
  }

  /** Let every waiter through, now and later: the work they wait for is cancelled. */
  close(): void {
    this.#open = false;
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
