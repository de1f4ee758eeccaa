/**
 * Byte counts and rates per direction, for `pipe --progress`. Formats lines; printing them
 * is the command's business.
 *
 * @example
 * ```ts
 * import { Meter } from "./progress.ts";
 *
 * const meter = new Meter(["- > unix:/tmp/a.sock", "unix:/tmp/a.sock > -"]);
 * meter.add("forward", 65536);
 * meter.sample(); // "- > unix:/tmp/a.sock 65.5 kB 12.1 MB/s | unix:/tmp/a.sock > - 0 B 0 B/s"
 * ```
 * @module
 */
import type { Direction } from "./relay.ts";

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** Decimal units like `ls -h --si` and pretty-bytes: 1 MB = 10^6 bytes. */
export function formatBytes(n: number): string {
  let unit = 0;
  while (n >= 1000 && unit < UNITS.length - 1) {
    n /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(n)} B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${UNITS[unit]}`;
}

/** Counts bytes (and messages) per direction and reports totals and rates. */
export class Meter {
  #labels: Record<Direction, string>;
  #start = performance.now();
  #bytes: Record<Direction, number> = { forward: 0, backward: 0 };
  #messages: Record<Direction, number> = { forward: 0, backward: 0 };
  #last = { at: this.#start, forward: 0, backward: 0 };

  /** `labels`: how to name the forward and backward directions, e.g. `- > unix:a.sock`. */
  constructor(labels: readonly [string, string]) {
    this.#labels = { forward: labels[0], backward: labels[1] };
  }

  /** Count one write. */
  add(direction: Direction, bytes: number, messages = 0): void {
    this.#bytes[direction] += bytes;
    this.#messages[direction] += messages;
  }

  /** Totals and the rate since the previous sample, one line. */
  sample(now: number = performance.now()): string {
    const seconds = Math.max((now - this.#last.at) / 1000, 1e-3);
    const line = (["forward", "backward"] as const).map((d) =>
      `${this.#labels[d]} ${formatBytes(this.#bytes[d])} ${
        formatBytes((this.#bytes[d] - this.#last[d]) / seconds)
      }/s`
    ).join(" | ");
    this.#last = { at: now, ...this.#bytes };
    return line;
  }

  /** Totals, messages where any, and the average rate over the whole run, one line. */
  summary(now: number = performance.now()): string {
    const seconds = Math.max((now - this.#start) / 1000, 1e-3);
    return (["forward", "backward"] as const).map((d) => {
      const messages = this.#messages[d] ? ` ${this.#messages[d]} messages` : "";
      return `${this.#labels[d]} ${formatBytes(this.#bytes[d])}${messages} in ${seconds.toFixed(2)}s (${
        formatBytes(this.#bytes[d] / seconds)
      }/s)`;
    }).join(" | ");
  }
}

/**
 * Redraw `meter`'s sample on one terminal line every `intervalMs` until disposed, then
 * clear the line. `write` gets the text to print; failures to print are ignored (progress
 * is optional, and stderr may be gone).
 */
export function showProgress(meter: Meter, write: (text: string) => void, intervalMs = 250): Disposable {
  const draw = (text: string) => {
    try {
      write(text);
    } catch {
      // stderr gone: progress is optional.
    }
  };
  const ticker = setInterval(() => draw(`\r\x1b[K${meter.sample()}`), intervalMs);
  return {
    [Symbol.dispose]() {
      clearInterval(ticker);
      draw("\r\x1b[K");
    },
  };
}
