/**
 * Split a command line into argv the way a POSIX shell would, without running a shell:
 * quotes, backslash escapes and whitespace only. No globbing, variables or redirection.
 *
 * @example
 * ```ts
 * splitArgv(`sh -c 'echo "$1"' x`); // ["sh", "-c", 'echo "$1"', "x"]
 * ```
 * @module
 */
import { UsageError } from "./errors.ts";

/** Split `text` into argv; throws `UsageError` on an unterminated quote or empty command. */
export function splitArgv(text: string): string[] {
  const argv: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1])) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`Cannot parse command "${text}": unterminated ${quote} quote`);
  if (inWord) argv.push(word);
  if (argv.length === 0) throw new UsageError(`Cannot parse command "${text}": it is empty`);
  return argv;
}
