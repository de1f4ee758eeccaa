/**
 * Parse a command line for `--handle`/`--exec` and check, before serving, that its program
 * can be started: found on PATH (or at the path given), a regular file, executable.
 *
 * @example
 * ```ts
 * parseProgram("sh -c 'tr a-z A-Z'"); // ["/usr/bin/sh", "-c", "tr a-z A-Z"]
 * ```
 * @module
 */
import { splitArgv } from "./argv.ts";
import { UsageError } from "./errors.ts";

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
