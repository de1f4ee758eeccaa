/**
 * ipcat's help, read from the Stricli command definitions (one source of truth for flags) and
 * the address/framing registries: `--help` text, and the model the completion scripts and
 * the man page are generated from.
 * @module
 */
import { FRAMINGS } from "../lib/framing/mod.ts";
import { ENCODINGS } from "../lib/encoding.ts";
import { addressForms } from "../lib/address/mod.ts";
import { flagGroup, shownDefault } from "./flags.ts";

/** One flag as help shows it. */
export interface HelpFlag {
  /** `--keep-open` */
  readonly long: string;
  /** `-n`, when the flag has one. */
  readonly short?: string;
  /** `NAME` when the flag takes a value. */
  readonly placeholder?: string;
  /** Values it takes, when they are a fixed list (framings, encodings, enums). */
  readonly values?: readonly string[];
  /** The one-line description after the flag. */
  readonly brief: string;
  /** Shown as `[default: X]`; absent when it goes without saying (booleans off, optional values). */
  readonly default?: string;
  /** A boolean that also has `--no-NAME`. */
  readonly negatable: boolean;
  /** The heading it is listed under: `Common options`, `Serve options` ... */
  readonly group: string;
}

/** One command as help shows it. */
export interface HelpCommand {
  /** `serve`, `send` ... as typed after `ipcat`. */
  readonly name: string;
  /** One line: what the command does. */
  readonly brief: string;
  /** `ADDR [MSG...]` */
  readonly operands: string;
  /** Prose paragraphs and verbatim blocks, in order. */
  readonly description: readonly string[];
  /** `Examples:`, `Addresses:` ... each heading with its verbatim lines. */
  readonly sections: readonly { heading: string; lines: readonly string[] }[];
  /** Every flag it takes, `--help` included. */
  readonly flags: readonly HelpFlag[];
}

/** Commands ipcat runs itself, outside the Stricli tree. */
export const BUILTIN_COMMANDS = [
  { name: "help", brief: "Show help for ipcat or one command", operands: "[COMMAND]" },
  { name: "completions", brief: "Print a completion script for bash, zsh or fish", operands: "SHELL" },
] as const;

/** Shells `ipcat completions` writes for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** Flags every command takes that Stricli adds itself, shown with the common ones. */
const HELP_FLAG: HelpFlag = {
  long: "--help",
  short: "-h",
  brief: "Show this help",
  negatable: false,
  group: "Common options",
};

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

type FlagDefinition = {
  kind: string;
  brief: string;
  placeholder?: string;
  default?: unknown;
  optional?: boolean;
  values?: readonly string[];
  withNegated?: boolean;
  hidden?: boolean;
};

/** The values a flag accepts when they come from a registry. */
function registryValues(name: string): readonly string[] | undefined {
  if (name === "framing" || name === "from" || name === "to") return FRAMINGS.flatMap((f) => f.syntax);
  if (name === "encoding") return ENCODINGS;
  return undefined;
}

/**
 * What {@linkcode describeCommand} reads of a Stricli command (`buildCommand`'s result),
 * spelled out so this module's API does not expose Stricli's types.
 */
export interface CommandDefinition {
  /** One line: what the command does. */
  readonly brief: string;
  /** Prose, then `Heading:` sections, as written in cli.ts. */
  readonly fullDescription: string | undefined;
  /** Stricli's flags, aliases and positional operands. */
  readonly parameters: object;
}

/** The help model of a Stricli command named `name`. */
export function describeCommand(name: string, command: CommandDefinition): HelpCommand {
  const parameters = command.parameters as {
    flags?: Record<string, FlagDefinition>;
    aliases?: Record<string, string>;
    positional?:
      | { kind: "tuple"; parameters: { placeholder?: string; optional?: boolean }[] }
      | { kind: "array"; parameter: { placeholder?: string }; minimum?: number };
  };
  const shortOf = new Map(
    Object.entries(parameters.aliases ?? {}).map(([short, long]) => [long, `-${short}`]),
  );
  const flags: HelpFlag[] = Object.entries(parameters.flags ?? {})
    .filter(([, flag]) => !flag.hidden)
    .map(([internal, flag]) => {
      const given = shownDefault(name, internal) ??
        (flag.kind === "parsed" || flag.kind === "enum"
          ? (flag.default === undefined ? undefined : String(flag.default))
          : undefined);
      return {
        long: `--${kebab(internal)}`,
        short: shortOf.get(internal),
        placeholder: flag.kind === "boolean"
          ? undefined
          : flag.placeholder ?? (flag.values ? flag.values.join("|") : "VALUE"),
        values: flag.values ?? registryValues(internal),
        brief: flag.brief,
        default: given,
        negatable: flag.kind === "boolean" && flag.withNegated !== false &&
          (flag.optional === true || flag.default === true),
        group: flagGroup(internal) ?? `${name[0].toUpperCase()}${name.slice(1)} options`,
      };
    });
  flags.push(HELP_FLAG);
  const { description, sections } = splitDescription(command.fullDescription ?? "");
  return {
    name,
    brief: command.brief,
    operands: operandsOf(parameters.positional),
    description,
    sections,
    flags,
  };
}

function operandsOf(
  positional:
    | { kind: "tuple"; parameters: { placeholder?: string; optional?: boolean }[] }
    | { kind: "array"; parameter: { placeholder?: string }; minimum?: number }
    | undefined,
): string {
  if (!positional) return "";
  if (positional.kind === "tuple") {
    return positional.parameters.map((p) => p.optional ? `[${p.placeholder}]` : `${p.placeholder}`).join(" ");
  }
  // An array's placeholder may name its first, required item and the rest: "ADDR MSG".
  const words = (positional.parameter.placeholder ?? "ARG").split(" ");
  const required = Math.min(positional.minimum ?? 0, words.length - 1);
  return [...words.slice(0, required), `[${words.slice(required).join(" ")}...]`].join(" ");
}

/**
 * Stricli's fullDescription as written in cli.ts: prose paragraphs (re-wrapped to the
 * terminal), indented blocks (kept), and `Heading:` sections (kept, printed after the flags).
 */
function splitDescription(text: string) {
  const description: string[] = [];
  const sections: { heading: string; lines: string[] }[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split("\n");
    const heading = /^([A-Z][\w ]*):$/.exec(lines[0]);
    if (heading) sections.push({ heading: heading[1], lines: lines.slice(1) });
    else if (/^\s/.test(lines[0])) description.push(block);
    else description.push(lines.join(" ").replace(/\s+/g, " ").trim());
  }
  return { description, sections };
}

/** How help is laid out: width in columns, headings in bold or not. */
export interface HelpStyle {
  /** Columns to wrap prose at. */
  readonly width: number;
  /** Headings in bold (`--color`, or a terminal without `NO_COLOR`). */
  readonly color: boolean;
}

/** Wrap `text` to `width`, every line after the first indented by `indent`. */
export function wrap(text: string, width: number, indent = 0, firstIndent = indent): string {
  const lines: string[] = [];
  let line = " ".repeat(firstIndent);
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = " ".repeat(indent);
      empty = true;
    }
    line += (empty ? "" : " ") + word;
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/**
 * A verbatim line (an example, a table row) too wide for the terminal: its description,
 * after a run of two spaces, wraps under itself.
 */
function fitLine(line: string, width: number): string {
  if (line.length <= width) return line;
  const row = /^(\s*\S.*?\s{2,})(\S.*)$/.exec(line);
  if (!row) {
    // A continuation line: wrap under its own indent.
    const indent = /^\s*/.exec(line)![0].length;
    return indent < width - 20 ? wrap(line, width, indent) : line;
  }
  if (row[1].length <= width - 20) {
    return row[1] + wrap(row[2], width, row[1].length, row[1].length).trimStart();
  }
  // The command itself is wide: its description goes below it.
  return `${row[1].trimEnd()}\n${wrap(row[2], width, 6)}`;
}

const fitLines = (block: string, width: number) => block.split("\n").map((l) => fitLine(l, width)).join("\n");

const heading = (text: string, style: HelpStyle) => style.color ? `\x1b[1m${text}:\x1b[0m` : `${text}:`;

/** `-f, --framing NAME` */
export function flagLabel(flag: HelpFlag): string {
  const long = flag.negatable ? `--[no-]${flag.long.slice(2)}` : flag.long;
  const value = flag.placeholder ? ` ${flag.placeholder}` : "";
  return `${flag.short ? `${flag.short}, ` : "    "}${long}${value}`;
}

/** The flag's brief with its default, as one line before wrapping. */
export function flagText(flag: HelpFlag): string {
  return flag.default === undefined ? flag.brief : `${flag.brief} [default: ${flag.default}]`;
}

/** Flags in their groups, in the order groups first appear. */
export function groupFlags(flags: readonly HelpFlag[]): [string, HelpFlag[]][] {
  const groups = new Map<string, HelpFlag[]>();
  for (const flag of flags) groups.set(flag.group, [...groups.get(flag.group) ?? [], flag]);
  return [...groups];
}

function flagRows(flags: readonly HelpFlag[], style: HelpStyle): string[] {
  const column = Math.min(30, 2 + Math.max(...flags.map((f) => flagLabel(f).length)) + 2);
  return flags.map((flag) => {
    const label = `  ${flagLabel(flag)}`;
    const body = wrap(flagText(flag), style.width, column).trimStart();
    if (label.length + 2 <= column) return `${label.padEnd(column)}${body}`;
    return `${label}\n${wrap(flagText(flag), style.width, column)}`;
  });
}

/** One line per framing family: `length[:VARIANT]  what it is`. */
export function framingRows(): string[] {
  return FRAMINGS.map((family) =>
    `  ${`${family.name}${family.variants?.length ? "[:VARIANT]" : ""}`.padEnd(18)} ${family.help}`
  );
}

/** Help order: what the command does first, then framing and TLS, the common options last. */
const GROUP_ORDER = ["Message options", "TLS options", "Common options"];

/** Help text of one command. */
export function commandHelp(command: HelpCommand, style: HelpStyle): string {
  const out = [
    wrap(`ipcat ${command.name}: ${command.brief}`, style.width, 2),
    "",
    `${heading("Usage", style)} ipcat ${command.name} [OPTIONS]${
      command.operands ? ` ${command.operands}` : ""
    }`,
  ];
  for (const block of command.description) {
    out.push("", /^\s/.test(block) ? fitLines(block, style.width) : wrap(block, style.width));
  }
  const groups = groupFlags(command.flags).sort(([a], [b]) =>
    GROUP_ORDER.indexOf(a) - GROUP_ORDER.indexOf(b)
  );
  for (const [group, flags] of groups) {
    out.push("", heading(group, style), ...flagRows(flags, style));
  }
  for (const section of command.sections) {
    out.push("", heading(section.heading, style), ...section.lines.map((line) => fitLine(line, style.width)));
  }
  if (command.flags.some((f) => f.long === "--framing")) {
    out.push("", heading("Framings", style), ...framingRows().map((line) => fitLine(line, style.width)));
  }
  out.push("", wrap(`See also: ipcat help, man ipcat.`, style.width));
  return out.join("\n") + "\n";
}

/** Help text of ipcat itself: commands, common options, examples. */
export function appHelp(version: string, commands: readonly HelpCommand[], style: HelpStyle): string {
  const rows = [
    ...commands.map((c) => [c.name, c.brief]),
    ...BUILTIN_COMMANDS.map((c) => [c.name, c.brief]),
  ];
  const column = 2 + Math.max(...rows.map(([name]) => name.length)) + 2;
  const common = commands[0]?.flags.filter((f) => f.group === "Common options") ?? [HELP_FLAG];
  const versionFlag: HelpFlag = {
    long: "--version",
    short: "-V",
    brief: "Print the version",
    negatable: false,
    group: "",
  };
  return [
    `ipcat ${version}: socat for messages`,
    "",
    `${heading("Usage", style)} ipcat COMMAND [OPTIONS] ARGS...`,
    `       ipcat help [COMMAND]`,
    "",
    wrap(
      "Serve, send, bridge and watch messages over Unix sockets, TCP, TLS, UDP, WebSocket, NATS, " +
        "stdin/stdout and child " +
        "processes, in the framing the other side speaks (lines, length-prefixed, netstring, msgpack or " +
        "raw bytes). Errors are one line on stderr; the exit code says what happened " +
        "(0 ok, 1 failure, 2 usage, 65 bad data, 69 unavailable, 124 timeout, 130 interrupted).",
      style.width,
    ),
    "",
    heading("Commands", style),
    ...rows.map(([name, brief]) =>
      `${`  ${name}`.padEnd(column)}${wrap(brief, style.width, column).trimStart()}`
    ),
    "",
    heading("Common options", style),
    ...flagRows([...common, versionFlag], style),
    "",
    heading("Examples", style),
    "  ipcat serve --echo /tmp/app.sock &     an echo server on a Unix socket",
    "  ipcat send /tmp/app.sock hello         send one message, print the reply",
    "  ipcat pipe tcp:example.org:80          like nc: stdin/stdout to a socket",
    "  ipcat inspect /tmp/app.sock            type messages, see the replies",
    "",
    heading("Addresses", style),
    ...addressForms().map((line) => fitLine(`  ${line}`, style.width)),
    "",
    wrap(
      "Run 'ipcat help COMMAND' (or ipcat COMMAND --help) for a command's options; man ipcat for all.",
      style.width,
    ),
  ].join("\n") + "\n";
}
