/**
 * Durations as flags take them (`--timeout 5s`, `--wait 250ms`).
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 *
 * parseDuration("1.5h"); // 5400000
 * ```
 * @module
 */
import { UsageError } from "./errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a duration such as `250ms`, `5s`, `2m`, `1.5h` into milliseconds.
 * A bare number means seconds, as in `timeout(1)`.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 *
 * parseDuration("250ms"); // 250
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `Cannot parse duration "${text}"`,
      "write a number with a unit: 250ms, 5s, 2m, 1h",
    );
  }
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "s"]);
}
