/**
 * ipcat's entry point: builds the command tree, and is the one place that maps errors to
 * exit codes and exits.
 * @module
 */
import {
  ArgumentScannerError,
  buildApplication,
  buildCommand,
  buildRouteMap,
  type Command,
  type CommandContext,
  formatMessageForArgumentScannerError,
  run,
  text_en,
} from "@stricli/core";
import { commonAliases, commonFlags, framingFlags } from "./commands/flags.ts";
import { serve, type ServeFlags, serveFlags } from "./commands/serve.ts";
import { send, type SendFlags, sendFlags } from "./commands/send.ts";
import { inspect, type InspectFlags, inspectFlags } from "./commands/inspect.ts";
import { pipeCommand, type PipeFlags, pipeFlags } from "./commands/pipe.ts";
import { addressForms, addressSyntax, canConnect, canListen, type Transport } from "./lib/address/mod.ts";
import { denoStdio, type Stdio } from "./commands/stdio.ts";
import {
  describe,
  FrameError,
  InterruptedError,
  TimeoutError,
  UnavailableError,
  UsageError,
} from "./lib/errors.ts";

export const VERSION = "0.1.0";

/** Exit codes, one table: SPEC "Everywhere". */
function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return 2;
  if (error instanceof FrameError) return 65;
  if (error instanceof UnavailableError) return 69;
  if (error instanceof TimeoutError) return 124;
  if (error instanceof InterruptedError) return error.exitCode;
  if (error instanceof ArgumentScannerError) return 2;
  return 1;
}

function errorLine(error: unknown): string {
  if (Deno.env.get("IPCAT_DEBUG") === "1" && error instanceof Error && error.stack) {
    return `ipcat: ${error.stack}`;
  }
  // Raw socket errors that reach here carry the OS's words; say what happened instead.
  if (error instanceof Deno.errors.ConnectionReset) return "ipcat: Connection lost: the peer reset it";
  if (error instanceof Deno.errors.BrokenPipe) {
    return "ipcat: Connection lost: the peer closed it while we wrote";
  }
  return `ipcat: ${describe(error).replace(/\s*\n\s*/g, " ")}`;
}

let exitCode: number | undefined;

/**
 * Wrap a command so it gets the process's standard streams and its returned exit code
 * reaches the entry point.
 */
function command<F, A extends unknown[]>(impl: (io: Stdio, flags: F, ...args: A) => Promise<number>) {
  return async function (this: CommandContext, flags: F, ...args: A): Promise<void> {
    exitCode = await impl(denoStdio, flags, ...args);
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

const serveCommand = () =>
  buildCommand<ServeFlags, [string], CommandContext>({
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

const sendCommand = () =>
  buildCommand<SendFlags, [string, ...string[]], CommandContext>({
    func: command(send),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...sendFlags },
      aliases: { ...commonAliases, n: "noReply" },
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

const inspectCommand = () =>
  buildCommand<InspectFlags, [string?], CommandContext>({
    func: command(inspect),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...inspectFlags },
      aliases: commonAliases,
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

const pipeCommandRoute = () =>
  buildCommand<PipeFlags, [string, string?], CommandContext>({
    func: command(pipeCommand),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...pipeFlags },
      aliases: commonAliases,
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
  ipcat pipe /tmp/app.sock exec:'grep --line-buffered x' join a socket and a command
  ipcat pipe --progress /tmp/sink.sock < big.iso         bytes and rate on stderr${
        addressesHelp(canConnect)
      }`,
    },
  });

const commands: Record<string, () => Command<CommandContext>> = {
  serve: serveCommand,
  send: sendCommand,
  pipe: pipeCommandRoute,
  inspect: inspectCommand,
};
// Stricli checks every flag of a command as it builds it (~2 ms for all four at each start):
// a run that names its command builds only that one; anything else (help, typos) builds all.
const named = Deno.args[0] ?? "";
const chosen = Object.hasOwn(commands, named) ? [named] : Object.keys(commands);

const routes = buildRouteMap({
  routes: Object.fromEntries(chosen.map((name) => [name, commands[name]()])),
  docs: {
    brief: "socat for messages: serve, send over Unix sockets and TCP with framing",
  },
});

const app = buildApplication(routes, {
  name: "ipcat",
  versionInfo: { currentVersion: VERSION },
  scanner: { caseStyle: "allow-kebab-for-camel" },
  documentation: { caseStyle: "convert-camel-to-kebab", disableAnsiColor: Deno.noColor },
  determineExitCode: exitCodeOf,
  localization: {
    loadText: () => ({
      ...text_en,
      exceptionWhileParsingArguments: (error: unknown) =>
        error instanceof ArgumentScannerError
          ? `ipcat: ${formatMessageForArgumentScannerError(error, {})} (see --help)`
          : errorLine(error),
      exceptionWhileRunningCommand: (error: unknown) => errorLine(error),
      noCommandRegisteredForInput: ({ input, corrections }) =>
        `ipcat: no command "${input}"${
          corrections.length
            ? `; did you mean ${corrections.join(" or ")}?`
            : ` (commands: ${Object.keys(commands).join(", ")})`
        }`,
    }),
  },
});

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
const context = {
  process: {
    stdout: stream(Deno.stdout),
    stderr: stream(Deno.stderr),
    env: {},
    exitCode: undefined as number | string | null | undefined,
  },
};

if (Deno.args.length === 0) {
  // Like a usage error: stdout carries data only, so the hint goes to stderr.
  context.process.stderr.write(
    `ipcat: no command given (commands: ${Object.keys(commands).join(", ")}; see ipcat --help)\n`,
  );
  Deno.exit(2);
}
await run(app, Deno.args, context);
const stricliCode = Number(context.process.exitCode ?? 0);
// Stricli's own codes are negative: unknown command, bad argument.
Deno.exit(exitCode ?? (stricliCode < 0 ? 2 : stricliCode));
