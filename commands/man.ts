/**
 * ipcat.1 from the help model: the same commands, flags, defaults and registries as --help.
 * `make man` writes it with `ipcat help --man`.
 * @module
 */
import { BUILTIN_COMMANDS, flagLabel, flagText, groupFlags, type HelpCommand } from "./help.ts";
import { addressForms } from "../lib/address/mod.ts";
import { FRAMINGS } from "../lib/framing/mod.ts";

/** Escape text for roff: backslashes, hyphens as minus signs, a leading dot or quote. */
function roff(text: string): string {
  return text.replaceAll("\\", "\\e").replaceAll("-", "\\-").replace(/^([.'])/gm, "\\&$1");
}

/** Verbatim lines (examples, address tables) in a no-fill block. */
function verbatim(lines: readonly string[]): string[] {
  return [".RS 2", ".nf", ...lines.map((line) => roff(line.replace(/^ {2}/, ""))), ".fi", ".RE"];
}

/** The man page, section 1. */
export function manPage(version: string, commands: readonly HelpCommand[]): string {
  const out = [
    `.TH IPCAT 1 "" "ipcat ${version}" "User Commands"`,
    // Ragged right: help text carries long unbreakable tokens (JSON keys, address forms).
    ".ad l",
    ".SH NAME",
    "ipcat \\- socat for messages: serve, send, pipe and inspect messages over sockets",
    ".SH SYNOPSIS",
    ...commands.flatMap((c) => [
      ".PP",
      `.B ipcat ${c.name}`,
      `[\\fIOPTIONS\\fR] ${roff(c.operands).replace(/([A-Z][A-Z0-9]+)/g, "\\fI$1\\fR")}`,
    ]),
    ...BUILTIN_COMMANDS.flatMap((c) => [".PP", `.B ipcat ${c.name}`, roff(c.operands)]),
    ".PP",
    ".B ipcat",
    "\\-\\-help | \\-\\-version",
    ".SH DESCRIPTION",
    "ipcat serves, sends, bridges and watches messages over Unix sockets, TCP, TLS, UDP, WebSocket,",
    "NATS, stdin/stdout and",
    "child processes, in the framing the other side speaks.",
    "Errors are one line on standard error.",
  ];
  for (const command of commands) {
    out.push(".SH COMMAND: " + command.name.toUpperCase(), roff(command.brief) + ".");
    for (const block of command.description) {
      out.push(...(/^\s/.test(block) ? verbatim(block.split("\n")) : [".PP", roff(block)]));
    }
    for (const [group, flags] of groupFlags(command.flags)) {
      out.push(".SS " + roff(group));
      for (const flag of flags) out.push(".TP", `.B ${roff(flagLabel(flag).trim())}`, roff(flagText(flag)));
    }
    for (const section of command.sections) {
      out.push(".SS " + roff(section.heading), ...verbatim(section.lines));
    }
  }
  out.push(
    ".SH ADDRESSES",
    ...verbatim(addressForms()),
    ".SH FRAMINGS",
    ...FRAMINGS.flatMap((f) => [".TP", `.B ${roff(f.syntax.join(", "))}`, roff(f.help)]),
    ".SH ENVIRONMENT",
    ".TP",
    ".B NO_COLOR",
    "When set, no colour (as \\-\\-no\\-color); \\-\\-color still forces it.",
    ".SH EXIT STATUS",
    ".TP",
    ".B 0",
    "Success.",
    ".TP",
    ".B 1",
    "Other failure (a peer gone before delivery, a file that cannot be read).",
    ".TP",
    ".B 2",
    "Usage error: a bad option, argument or address.",
    ".TP",
    ".B 65",
    "Bad data: malformed, truncated or oversize framing, bad hex or base64.",
    ".TP",
    ".B 69",
    "Unavailable: nothing listening, no such socket, address in use.",
    ".TP",
    ".B 124",
    "Timeout (\\-\\-timeout).",
    ".TP",
    ".B 130",
    "Interrupted by SIGINT.",
    ".SH SEE ALSO",
    ".BR socat (1),",
    ".BR nc (1)",
  );
  return out.join("\n") + "\n";
}
