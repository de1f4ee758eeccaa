/**
 * `ipcat send ADDR [MSG...]` with no option anywhere, the form shell loops run once per
 * message: cli.ts runs it without Stricli, whose command tree and parse are ~3 ms of a
 * ~25 ms start. The flags are their defaults, read from the same definitions Stricli reads,
 * so both paths give `send` the same flags (tests/startup_test.ts compares them).
 * @module
 */
import { errorLine, exitCodeOf } from "../lib/errors.ts";
import { commonFlags, framingFlags } from "./flags.ts";
import { send, type SendFlags, sendFlags } from "./send.ts";
import { denoStdio } from "./stdio.ts";

/** The part of a Stricli flag definition that says what the flag is when not given. */
interface FlagDefault {
  readonly kind: string;
  readonly default?: unknown;
  readonly optional?: boolean;
  readonly parse?: (text: string) => unknown;
}

/**
 * `send`'s flags when none is given, as Stricli would build them: a default is parsed like
 * a typed value, an optional flag is left out. Undefined when some flag has neither (Stricli
 * would then insist on it), so the caller takes the full path.
 *
 * @example
 * ```ts
 * import { plainSendFlags } from "./_plain_send.ts";
 *
 * console.log(plainSendFlags()?.keepOpen); // false
 * ```
 */
export function plainSendFlags(): Readonly<Record<string, unknown>> | undefined {
  const definitions: Record<string, FlagDefault> = { ...commonFlags, ...framingFlags, ...sendFlags };
  const flags: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(definitions)) {
    if ("default" in flag) {
      flags[name] = flag.kind === "parsed" && flag.parse ? flag.parse(String(flag.default)) : flag.default;
    } else if (!flag.optional) {
      return undefined;
    }
  }
  return flags;
}

/**
 * Run `send` on `args` (ADDR, then the messages) with {@linkcode plainSendFlags} and the
 * process's standard streams; resolves to the exit code, rejects as `send` does. Undefined,
 * having run nothing, when those flags cannot be had without Stricli.
 */
export function sendWithoutOptions(args: readonly string[]): Promise<number> | undefined {
  const flags = plainSendFlags();
  if (flags === undefined) return undefined;
  const [address, ...messages] = args;
  return send(denoStdio, flags as unknown as SendFlags, address, ...messages);
}

/**
 * {@linkcode sendWithoutOptions}, its error reported as `cli.ts` reports one: the line on
 * stderr, the exit code returned. `make` bundles this module as one file of its own, whose
 * error classes are its own copies: only its own `exitCodeOf` knows them.
 */
export async function runWithoutOptions(args: readonly string[]): Promise<number | undefined> {
  try {
    return await sendWithoutOptions(args);
  } catch (error) {
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(`${errorLine(error)}\n`));
    } catch {
      // stderr closed: the exit code still tells.
    }
    return exitCodeOf(error);
  }
}
