/**
 * "Did you mean": the nearest registered name to a mistyped one, for the hints of address,
 * framing and encoding errors.
 *
 * @example
 * ```ts
 * import { closest } from "./suggest.ts";
 * closest("lenght", ["raw", "lines", "length"]); // "length"
 * ```
 * @module
 */

/** Levenshtein distance: single-character insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return row[b.length];
}

/**
 * The candidate nearest to `word`, if one is within two edits; the first listed wins a tie.
 * A word no longer than its distance is not a typo of anything (`-f ab` is not `raw`).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance && distance < word.length) [best, bestDistance] = [candidate, distance];
  }
  return best;
}
