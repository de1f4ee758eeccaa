/**
 * Command lines for `--handle`, `--exec` and `exec:`: split into argv the way a POSIX shell
 * would, without running a shell (quotes, backslash escapes and whitespace only; no globbing,
 * variables or redirection), and, for servers, check before serving that the program can be
 * started: found on PATH (or at the path given), a regular file, executable.
 *
 * @example
 * ```ts
 * import { parseProgram, splitArgv } from "./command_line.ts";
 * splitArgv(`sh -c 'echo "$1"' x`); // ["sh", "-c", 'echo "$1"', "x"]
 * parseProgram("sh -c 'tr a-z A-Z'"); // ["/usr/bin/sh", "-c", "tr a-z A-Z"]
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";

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

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Split `text` into argv like a shell would (never running one) and resolve `argv[0]` the
 * way `execvp` does, so the program is the one found now, not on the first message.
 * Throws `UsageError` when it cannot be started.
 */
export function parseProgram(text: string, path: string = Deno.env.get("PATH") ?? ""): string[] {
  const argv = splitArgv(text);
  const name = argv[0];
  if (name.includes("/")) {
    if (!isExecutableFile(name)) {
      throw new UsageError(
        `Cannot run "${name}": ${exists(name) ? "not an executable file" : "no such file"}`,
        "check the path, or write sh -c '...' for shell syntax",
      );
    }
    return argv;
  }
  for (const dir of path.split(":")) {
    const candidate = `${dir || "."}/${name}`;
    if (isExecutableFile(candidate)) return [candidate, ...argv.slice(1)];
  }
  throw new UsageError(
    `Cannot run "${name}": not found on PATH`,
    "the command is run without a shell: write sh -c '...' for pipes, builtins or functions",
  );
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
