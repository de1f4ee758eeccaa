/**
 * ipcat's entry point: builds the command tree, reports what a command ends with (exit codes
 * from `exitCodeOf` in lib/errors.ts) and exits.
 *
 * `send` runs once per message in shell loops, so this file imports only the error classes
 * up front: what needs no code (no command, `--version`, an option before the command) is
 * answered first; `send ADDR MSG...` with no option runs without Stricli; otherwise Stricli
 * and only the command that runs are loaded (`make` bundles with code splitting, so each
 * dynamic import below is a chunk read only when reached). Help, completions and the man
 * page load only when asked for. docs/design-notes.md "Startup" has the figures.
 * @module
 */
import type { Command, CommandContext } from "@stricli/core";
import type { ServeFlags } from "./commands/serve.ts";
import type { SendFlags } from "./commands/send.ts";
import type { InspectFlags } from "./commands/inspect.ts";
import type { PipeFlags } from "./commands/pipe.ts";
import type { ReplayFlags } from "./commands/replay.ts";
import type { Transport } from "./lib/address/mod.ts";
import type { Stdio } from "./commands/stdio.ts";
import type { HelpCommand } from "./commands/help.ts";

/** ipcat's version, as `ipcat --version` prints it. */
export const VERSION = "0.1.0";

/** The commands, in help order. Each is built, and its module loaded, only when needed. */
const COMMANDS = ["serve", "send", "pipe", "inspect", "replay"];

const te = new TextEncoder();
const stream = (target: typeof Deno.stdout) => ({
  write(text: string) {
    try {
      target.writeSync(te.encode(text));
    } catch {
      // Output closed: the exit code still tells.
    }
  },
});

const named = Deno.args[0] ?? "";
// Options end at `--`: what follows is operands, even `-h` or `-ERR`.
const endOfOptions = Deno.args.indexOf("--");
const options = endOfOptions < 0 ? Deno.args : Deno.args.slice(0, endOfOptions);
const wantsHelp = options.includes("--help") || options.includes("-h") || named === "help";

/**
 * `IPCAT_DEBUG=startup`: when each startup step ended, in ms since the runtime started (the
 * runtime's own start before that is Deno's, as in an empty `deno run`).
 */
const mark = Deno.env.get("IPCAT_DEBUG") === "startup"
  ? (step: string) =>
    stream(Deno.stderr).write(`ipcat: startup: ${step} at ${performance.now().toFixed(1)} ms\n`)
  : () => {};
mark("entry");

// What needs no code is answered before anything is loaded.
if (Deno.args.length === 0) {
  // Like a usage error: stdout carries data only, so the hint goes to stderr.
  stream(Deno.stderr).write(`ipcat: no command given (commands: ${COMMANDS.join(", ")}; see ipcat --help)\n`);
  Deno.exit(2);
}
if (named === "-V" || named === "--version") {
  stream(Deno.stdout).write(`ipcat ${VERSION} (deno ${Deno.version.deno})\n`);
  Deno.exit(0);
}
if (!wantsHelp && named.startsWith("-")) {
  stream(Deno.stderr).write(
    `ipcat: ${named} before a command (usage: ipcat COMMAND [OPTIONS] ARGS...; -V prints the version)\n`,
  );
  Deno.exit(2);
}

// `send ADDR MSG...` with no option anywhere (anything starting with "-" might be one): the
// one-shot form shell loops run, without Stricli (commands/_oneshot_main.ts, which the launcher
// also runs directly for this form). It exits, unless the flags need Stricli after all.
if (named === "send" && Deno.args.length > 1 && !Deno.args.some((arg) => arg.startsWith("-"))) {
  // `make` points this import at a bundle of its own (one read, not nine): what it throws is
  // its own classes, so it reports its errors itself.
  await import("./commands/_oneshot_main.ts");
}

/** Import once, on first call. */
const once = <T>(load: () => Promise<T>) => {
  let loading: Promise<T> | undefined;
  return () => loading ??= load();
};
/** Each command's module, imported when the command is built. */
const commandModules = {
  serve: once(() => import("./commands/serve.ts")),
  send: once(() => import("./commands/send.ts")),
  pipe: once(() => import("./commands/pipe.ts")),
  inspect: once(() => import("./commands/inspect.ts")),
  replay: once(() => import("./commands/replay.ts")),
};
// The command named is loaded alongside what follows rather than after it. A failure is
// reported where its builder awaits it.
if (Object.hasOwn(commandModules, named)) {
  commandModules[named as keyof typeof commandModules]().catch(() => {});
}

// What every command's definition, help and argument errors need: Stricli, and the rest as
// one module (commands/_cli_modules.ts).
const [
  { ArgumentScannerError, buildApplication, buildCommand, buildRouteMap, run, text_en },
  { flags, addresses, stdio, help, argumentErrors },
  { errorLine, exitCodeOf },
] = await Promise.all([
  import("@stricli/core"),
  import("./commands/_cli_modules.ts"),
  import("./lib/errors.ts"),
]);
const { commonAliases, commonFlags, connectTlsAliases, framingFlags } = flags;
const { addressForms, addressSyntax, canConnect, canListen } = addresses;
const { denoStdio } = stdio;
const { appHelp, commandHelp, describeCommand } = help;
const { argumentErrorText } = argumentErrors;

let exitCode: number | undefined;

/**
 * Wrap a command so it gets the process's standard streams and its returned exit code
 * reaches the entry point.
 */
function command<F, A extends unknown[]>(impl: (io: Stdio, flags: F, ...args: A) => Promise<number>) {
  return async function (this: CommandContext, flags: F, ...args: A): Promise<void> {
    mark("parsed");
    exitCode = await impl(denoStdio, flags, ...args);
    mark("ran");
  };
}

/** The ADDR argument of a command that opens addresses the way `filter` admits. */
const addressParam = (filter: (transport: Transport) => boolean) => ({
  brief: `Address: ${addressSyntax(filter).join(", ")}`,
  parse: String,
  placeholder: "ADDR",
});

/** The "Addresses:" block closing a command's description, from the address registry. */
const addressesHelp = (filter: (transport: Transport) => boolean) =>
  `\n\nAddresses:\n${addressForms(filter).map((line) => `  ${line}`).join("\n")}`;

const serveCommand = async () => {
  const { serve, serveFlags } = await commandModules.serve();
  return buildCommand<ServeFlags, [string], CommandContext>({
    func: command(serve),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...serveFlags },
      aliases: commonAliases,
      positional: { kind: "tuple", parameters: [addressParam(canListen)] },
    },
    docs: {
      brief: "Listen; print, echo, handle or relay each message",
      fullDescription: `Listen on ADDR and print every message received to stdout (default),
or run one mode: --echo replies with each message; --handle CMD runs CMD per message (message
on stdin, stdout is the reply); --exec CMD runs CMD per connection on its raw bytes (like
nc -e); --broadcast relays each message to every other client; --forward TARGET relays
each connection to its own new connection to TARGET (like socat ...,fork). CMD is split
like a shell would, never run through one: write sh -c '...' for shell syntax.

Prints "listening on ADDR" on stderr once it accepts connections. Stops on SIGINT/SIGTERM,
after --count messages (--forward: connections) or, with --once, after its first
connection, removing the socket file it created.

Examples:
  ipcat serve /tmp/app.sock                      print each line received
  ipcat serve --echo -f length tcp:0             echo length-prefixed messages; port on stderr
  ipcat serve --count 1 -e hex /tmp/app.sock     print one message as hex, then exit
  ipcat serve --handle 'tr a-z A-Z' /tmp/up.sock     an RPC service: one process per message
  ipcat serve --handle "sh -c 'wc -c'" --jobs 4 tcp:9000
  ipcat serve --exec 'sh -i' /tmp/shell.sock     a shell per connection (inetd-style)
  ipcat serve --broadcast /tmp/chat.sock         a chat hub: ipcat pipe /tmp/chat.sock
  ipcat serve --forward tcp:127.0.0.1:8000 /tmp/http.sock   curl --unix-socket to a TCP server
  ipcat serve --once -f raw tcp:9200 > file      receive one client's bytes, like nc -l${
        addressesHelp(canListen)
      }`,
    },
  });
};

const sendCommand = async () => {
  const { send, sendFlags } = await commandModules.send();
  return buildCommand<SendFlags, [string, ...string[]], CommandContext>({
    func: command(send),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...sendFlags },
      aliases: { ...commonAliases, ...connectTlsAliases, n: "noReply" },
      positional: {
        kind: "array",
        parameter: {
          brief: "ADDR, then messages (none or - : read stdin)",
          parse: String,
          placeholder: "ADDR MSG",
        },
        minimum: 1,
      },
    },
    docs: {
      brief: "Connect, send messages, print the replies",
      fullDescription: `Connect to ADDR and send each MSG as one message; with no MSG (or -), read
messages from stdin: one per line under lines framing or hex/base64 encoding, otherwise all
of stdin as one message (raw: streamed). Then half-close and print replies until the server
closes.

Examples:
  ipcat send /tmp/app.sock hello world           two messages, print the replies
  seq 3 | ipcat send --keep-open tcp:9000        one reply per line sent
  ipcat send -f length -e hex tcp:9000 00ff      binary message, reply as hex
  ipcat send --wait 5s --timeout 10s /tmp/app.sock ping${addressesHelp(canConnect)}`,
    },
  });
};

const inspectCommand = async () => {
  const { inspect, inspectFlags } = await commandModules.inspect();
  return buildCommand<InspectFlags, [string?], CommandContext>({
    func: command(inspect),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...inspectFlags },
      aliases: { ...commonAliases, ...connectTlsAliases },
      positional: { kind: "tuple", parameters: [{ ...addressParam(canConnect), optional: true }] },
    },
    docs: {
      brief: "Watch traffic live: a logging proxy, a socket takeover, or an interactive session",
      fullDescription: `Three ways to watch what two processes say to each other. The log goes to stdout, one
event per line (a hexdump continues on indented lines): time, #connection, > (client to
server) or < (server to client), size, then the message as text, JSON (msgpack) or hexdump.

  inspect LISTEN --target ADDR   proxy: each connection to LISTEN gets its own to ADDR;
                                 bytes pass through unchanged; -f cuts the log at messages
  inspect --intercept PATH       take over the live socket at PATH: move it aside, listen
                                 on PATH, forward there; put it back on exit
  inspect --restore PATH         put back a socket left aside by an interrupted run
  inspect ADDR                   session: each line typed is one message (escapes \\n \\t
                                 \\\\ \\xHH, or -e hex); replies are shown as they arrive

The proxy prints "listening on ADDR" on stderr; --record FILE appends JSON Lines
{"t","conn","event":"open|data|close","dir":"c2s|s2c","data":base64}. --count N: accept N
connections, exit when they are done. SIGINT exits 130; SIGTERM 0; both restore --intercept.

Examples:
  ipcat inspect /tmp/proxy.sock --target /tmp/app.sock          log traffic via a new path
  ipcat inspect tcp:9001 --target tcp:9000 -f length --record t.jsonl
  ipcat inspect --intercept /run/app.sock -f msgpack            watch existing clients
  ipcat inspect --restore /run/app.sock
  ipcat inspect /tmp/app.sock                                   type messages, see replies
  printf 'ping\\n' | ipcat inspect -f netstring tcp:9000          scripted session${
        addressesHelp(canConnect)
      }`,
    },
  });
};

const pipeCommandRoute = async () => {
  const { pipeCommand, pipeFlags } = await commandModules.pipe();
  return buildCommand<PipeFlags, [string, string?], CommandContext>({
    func: command(pipeCommand),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...pipeFlags },
      aliases: { ...commonAliases, ...connectTlsAliases },
      positional: {
        kind: "tuple",
        parameters: [
          addressParam(canConnect),
          {
            brief: "Second address; without it, ADDR is joined to stdin/stdout",
            parse: String,
            placeholder: "ADDR2",
            optional: true,
          },
        ],
      },
    },
    docs: {
      brief: "Bridge stdin/stdout (or two addresses) both ways",
      fullDescription: `Join stdin/stdout to ADDR both ways (or ADDR to ADDR2); each address may
also be - (stdin/stdout) or exec:CMD (a child's stdin/stdout; no shell unless exec:sh -c '...').

Raw bytes by default. --from/--to give the framing of the first and second side (-f both):
messages are re-framed between them; -e hex|base64 makes the - side one message per line.
EOF on one direction half-closes the other side's write direction; ipcat exits when both
directions are done (from a terminal, also when the far side closes). A peer gone while
input is still held for it is exit 1, saying how many bytes were delivered.

Examples:
  ipcat pipe /tmp/app.sock < request.bin > reply.bin    bytes both ways, nothing lost
  tar c . | ipcat pipe tcp:host:9000                     stream into a socket
  seq 3 | ipcat pipe --from lines --to length tcp:9000   lines to length-prefixed frames
  ipcat pipe -e hex --to length tcp:9000                 binary messages as hex lines
  ipcat pipe /tmp/app.sock exec:'grep --line-buffered x'  join a socket and a command
  ipcat pipe --progress /tmp/sink.sock < big.iso         bytes and rate on stderr${
        addressesHelp(canConnect)
      }`,
    },
  });
};

const replayRoute = async () => {
  const { replayCommand, replayFlags } = await commandModules.replay();
  return buildCommand<ReplayFlags, [string, string?], CommandContext>({
    func: command(replayCommand),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...replayFlags },
      aliases: commonAliases,
      positional: {
        kind: "tuple",
        parameters: [
          { brief: "A recording made by inspect --record", parse: String, placeholder: "RECORDING" },
          { ...addressParam(canConnect), optional: true },
        ],
      },
    },
    docs: {
      brief: "Replay a recording's client side against ADDR and compare the answers",
      fullDescription: `Replay the client side of each connection in RECORDING (inspect --record) against
ADDR (default: the target the recording names) and compare what ADDR answers with what was
recorded, message by message under the recording's framing (-f to choose). Identical: exit 0
and one summary line. Different: exit 1 and a diff of the first difference per connection.

Examples:
  ipcat replay t.jsonl                        against the recorded target
  ipcat replay t.jsonl tcp:127.0.0.1:6380 --ignore 'Date: [^\r]*'
  ipcat replay t.jsonl --update               golden file: keep what the server answers now
  ipcat replay t.jsonl --to-pcap t.pcap --pcap-port 80   for Wireshark${addressesHelp(canConnect)}`,
    },
  });
};

const commands: Record<string, () => Promise<Command<CommandContext>>> = {
  serve: serveCommand,
  send: sendCommand,
  pipe: pipeCommandRoute,
  inspect: inspectCommand,
  replay: replayRoute,
};
// Stricli checks every flag of a command as it builds it (~2 ms for all four at each start):
// a run that names its command builds (and loads) only that one; help and anything else all.
mark("loaded");
const chosen = Object.hasOwn(commands, named) && !wantsHelp ? [named] : COMMANDS;
const built = Object.fromEntries(
  await Promise.all(chosen.map(async (name) => [name, await commands[name]()])),
);
const helpModel = (): HelpCommand[] => chosen.map((name) => describeCommand(name, built[name]));

const routes = buildRouteMap({
  routes: built,
  docs: {
    brief: "socat for messages: serve, send over Unix sockets and TCP with framing",
  },
});

/** `ipcat send [OPTIONS] ADDR [MSG...]`, for usage errors. */
const synopsis = (name: string) => {
  // Arguments reach Stricli's parser only under a command that was built.
  const help = describeCommand(name, built[name]);
  return `ipcat ${name} [OPTIONS] ${help.operands}`.trimEnd();
};

const app = buildApplication(routes, {
  name: "ipcat",
  scanner: { caseStyle: "allow-kebab-for-camel", allowArgumentEscapeSequence: true },
  documentation: { caseStyle: "convert-camel-to-kebab", disableAnsiColor: Deno.noColor },
  determineExitCode: (error) => error instanceof ArgumentScannerError ? 2 : exitCodeOf(error),
  localization: {
    loadText: () => ({
      ...text_en,
      exceptionWhileParsingArguments: (error: unknown) =>
        error instanceof ArgumentScannerError
          ? `ipcat: ${argumentErrorText(error, named, synopsis(named))}`
          : errorLine(error),
      exceptionWhileRunningCommand: (error: unknown) => errorLine(error),
      noCommandRegisteredForInput: ({ input, corrections }) =>
        `ipcat: no command "${input}" (${
          corrections.length
            ? `did you mean ${corrections.map((c) => c.replaceAll("`", "")).join(" or ")}?`
            : "see ipcat --help"
        })`,
    }),
  },
});

const context = {
  process: {
    stdout: stream(Deno.stdout),
    stderr: stream(Deno.stderr),
    env: {},
    exitCode: undefined as number | string | null | undefined,
  },
};

/**
 * What ipcat answers itself, before Stricli parses: help (its own layout, from the same
 * definitions) and completion scripts. Returns the exit code, or undefined.
 */
async function answerBuiltin(): Promise<number | undefined> {
  const out = context.process.stdout;
  const colorFlag = options.includes("--color") ? true : options.includes("--no-color") ? false : undefined;
  const terminal = Deno.stdout.isTerminal();
  const style = {
    color: colorFlag ?? (terminal && !Deno.noColor),
    // COLUMNS as git and ripgrep read it; else the terminal's width; 80 into a pipe.
    width: Number(Deno.env.get("COLUMNS")) || (terminal ? Deno.consoleSize().columns : 80),
  };
  if (named === "completions") {
    const shell = Deno.args[1];
    if (shell === undefined || Deno.args.length > 2) {
      context.process.stderr.write(
        "ipcat: completions: give one shell (usage: ipcat completions bash|zsh|fish)\n",
      );
      return 2;
    }
    try {
      const { completionScript } = await import("./commands/completions.ts");
      out.write(completionScript(shell, helpModel()));
    } catch (error) {
      context.process.stderr.write(`${errorLine(error)}\n`);
      return exitCodeOf(error);
    }
    return 0;
  }
  if (!wantsHelp) return undefined;
  // `ipcat help send`, `ipcat send --help`, `ipcat help --man` (make man).
  const topic = named === "help" ? Deno.args.slice(1).find((arg) => !arg.startsWith("-")) : named;
  if (named === "help" && options.includes("--man")) {
    const { manPage } = await import("./commands/man.ts");
    out.write(manPage(VERSION, helpModel()));
  } else if (topic === undefined || topic === "help" || topic.startsWith("-")) {
    out.write(appHelp(VERSION, helpModel(), style));
  } else if (Object.hasOwn(built, topic)) {
    out.write(commandHelp(describeCommand(topic, built[topic]), style));
  } else if (topic === "completions") {
    out.write(
      "Usage: ipcat completions bash|zsh|fish\n\nPrint a completion script for the shell, generated " +
        "from ipcat's commands, flags and registries.\n\n  source <(ipcat completions bash)\n",
    );
  } else {
    context.process.stderr.write(`ipcat: help: no command "${topic}" (see ipcat --help)\n`);
    return 2;
  }
  return 0;
}

mark("built");
const answered = await answerBuiltin();
if (answered !== undefined) Deno.exit(answered);
await run(app, Deno.args, context);
const stricliCode = Number(context.process.exitCode ?? 0);
// Stricli's own codes are negative: unknown command, bad argument.
Deno.exit(exitCode ?? (stricliCode < 0 ? 2 : stricliCode));
