/**
 * Stricli's argument errors in ipcat's voice: `ipcat: COMMAND: WHAT (hint)`, flags in
 * kebab-case as the user types them. Matched by class, not by `constructor.name`: the
 * bundle's minifier renames classes.
 * @module
 */
import {
  AliasNotFoundError,
  ArgumentParseError,
  EnumValidationError,
  FlagNotFoundError,
  InvalidNegatedFlagSyntaxError,
  UnexpectedFlagError,
  UnexpectedPositionalError,
  UnsatisfiedFlagError,
  UnsatisfiedPositionalError,
} from "@stricli/core";

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
/** Stricli names a flag without dashes, a positional by its placeholder. */
const flagName = (name: string) => /^[a-z]/.test(name) ? `--${kebab(name)}` : name;
const oneOf = (items: readonly string[]) =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
const reason = (error: unknown) =>
  (error instanceof Error ? error.message : String(error)).replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());

/**
 * The one line for a command-line mistake in `command` (`usage` is its synopsis), without
 * the `ipcat: ` prefix. `error` is one of Stricli's `ArgumentScannerError`s; typed as
 * `Error` so this module's API does not expose Stricli's types.
 */
export function argumentErrorText(error: Error, command: string, usage: string): string {
  const help = `see ipcat ${command} --help`;
  if (error instanceof FlagNotFoundError) {
    const input = `--${error.input}`;
    if (error.corrections.length) {
      return `${command}: unknown option ${input} (did you mean ${
        oneOf(error.corrections.map((c) => `--${kebab(c)}`))
      }?)`;
    }
    return `${command}: unknown option ${input} (${help})`;
  }
  if (error instanceof AliasNotFoundError) return `${command}: unknown option -${error.input} (${help})`;
  if (error instanceof ArgumentParseError) {
    return `${command}: bad value "${error.input}" for ${flagName(error.externalFlagNameOrPlaceholder)}: ${
      reason(error.exception)
    }`;
  }
  if (error instanceof EnumValidationError) {
    return `${command}: bad value "${error.input}" for ${flagName(error.externalFlagName)}: expected ${
      oneOf(error.values)
    }`;
  }
  if (error instanceof UnsatisfiedFlagError) {
    return `${command}: ${flagName(error.externalFlagName)} needs a value (${help})`;
  }
  if (error instanceof UnsatisfiedPositionalError) {
    return `${command}: missing ${error.placeholder.split(" ")[0]} (usage: ${usage})`;
  }
  if (error instanceof UnexpectedPositionalError) {
    return `${command}: unexpected argument "${error.input}" (usage: ${usage})`;
  }
  if (error instanceof InvalidNegatedFlagSyntaxError) {
    return `${command}: ${flagName(error.externalFlagName)} takes no value`;
  }
  if (error instanceof UnexpectedFlagError) {
    return `${command}: ${flagName(error.externalFlagName)} given twice`;
  }
  return `${command}: ${reason(error)} (${help})`;
}
