/**
 * `ipcat serve ADDR`: listen; print, echo, handle or relay each message.
 * @module
 */
import { carriesMessages, framingFor, listen, parseAddress } from "../lib/address/mod.ts";
import type { Address } from "../lib/address/types.ts";
import {
  BroadcastHub,
  DEFAULT_QUEUE,
  DEFAULT_QUEUE_BYTES,
  SLOW_POLICIES,
  type SlowPolicy,
} from "../lib/serve/broadcast.ts";
import { parseDuration } from "../lib/duration.ts";
import { messageCodec, parseEncoding } from "../lib/encoding.ts";
import { FrameError, UsageError } from "../lib/errors.ts";
import { execSession } from "../lib/serve/exec.ts";
import { frameErrorFrom } from "../lib/framing/guess.ts";
import { DEFAULT_FRAMING, parseFraming } from "../lib/framing/mod.ts";
import { HandlerService } from "../lib/serve/handle.ts";
import { streamHandlerSession } from "../lib/serve/handle_stream.ts";
import { parseProgram } from "../lib/process/command_line.ts";
import { Server, type Session } from "../lib/serve/server.ts";
import { Sink } from "../lib/serve/sink.ts";
import { forwardSession } from "../lib/serve/forward.ts";
import type { Framing } from "../lib/framing/types.ts";
import { trapSignals } from "../lib/signals.ts";
import {
  type BrokerFlags,
  brokerFlags,
  type CommonFlags,
  type FramingFlags,
  idleTimeoutFlag,
  type IdleTimeoutFlags,
  idleTimeoutMs,
  listenTls,
  type ListenTlsFlags,
  listenTlsFlags,
  parseBytes,
  parseCount,
  readPem,
  stderrLog,
  webSocketListen,
  type WebSocketListenFlags,
  webSocketListenFlags,
} from "./flags.ts";
import type { Stdio } from "./stdio.ts";

/** Flags of `serve`. */
export interface ServeFlags
  extends CommonFlags, FramingFlags, ListenTlsFlags, IdleTimeoutFlags, BrokerFlags, WebSocketListenFlags {
  /** `--group`: the NATS queue group `serve` subscribes in. */
  readonly group?: string;
  /** `--ca`: PEM file of a CA the NATS server's certificate may be issued by. */
  readonly ca?: string;
  /** `--echo`: reply to each message with itself. */
  readonly echo: boolean;
  /** `--forward`: relay each connection to this address. */
  readonly forward?: string;
  /** `--from`: framing of the client side under `--forward`. */
  readonly from?: string;
  /** `--to`: framing of the target side under `--forward`. */
  readonly to?: string;
  /** `--once`: serve one connection, then exit. */
  readonly once?: boolean;
  /** `--handle`: command run per message, its stdout the reply. */
  readonly handle?: string;
  /** `--handle-stream`: command run per connection, one message per line in, one reply per line out. */
  readonly handleStream?: string;
  /** `--exec`: command run per connection, bridged to its raw bytes. */
  readonly exec?: string;
  /** `--broadcast`: relay each message to every other client. */
  readonly broadcast: boolean;
  /** `--jobs`: most `--handle` runs at once. */
  readonly jobs?: number;
  /** `--handle-timeout`: terminate a handler running longer, as a duration. */
  readonly handleTimeout?: string;
  /** `--queue`: most queued per `--broadcast` client. */
  readonly queue?: QueueLimit;
  /** `--slow`: what `--broadcast` does with a client that stays full. */
  readonly slow?: SlowPolicy;
  /** `--count`: exit after this many messages. */
  readonly count?: number;
  /** `--max-connections`: most connections served at once; more wait. */
  readonly maxConnections?: number;
  /** `--mode`: socket file mode, octal text such as `0600`. */
  readonly mode: string;
}

/** Stricli definitions of the `serve`-only flags. */
export const serveFlags = {
  ...listenTlsFlags,
  ...brokerFlags,
  group: {
    kind: "parsed",
    parse: String,
    brief: "nats: queue group whose members share the requests (default ipcat)",
    placeholder: "NAME",
    optional: true,
  },
  ca: {
    kind: "parsed",
    parse: String,
    brief: "nats: trust the server's certificate if this CA issued it (PEM file)",
    placeholder: "FILE",
    optional: true,
  },
  ...webSocketListenFlags,
  echo: { kind: "boolean", brief: "Reply to each message with itself", default: false },
  handle: {
    kind: "parsed",
    parse: String,
    brief: "Run CMD (no shell) per message: message on stdin, its stdout is the reply",
    placeholder: "CMD",
    optional: true,
  },
  handleStream: {
    kind: "parsed",
    parse: String,
    brief: "Run CMD (no shell) per connection: each message a line on its stdin, each stdout line a reply",
    placeholder: "CMD",
    optional: true,
  },
  exec: {
    kind: "parsed",
    parse: String,
    brief: "Run CMD (no shell) per connection, bridged to its raw bytes (like nc -e)",
    placeholder: "CMD",
    optional: true,
  },
  broadcast: { kind: "boolean", brief: "Relay each message to every other client", default: false },
  forward: {
    kind: "parsed",
    parse: String,
    brief: "Relay each connection to its own new connection to TARGET (like socat ...,fork)",
    placeholder: "TARGET",
    optional: true,
  },
  from: {
    kind: "parsed",
    parse: String,
    brief: "--forward: framing of the clients' side (default raw)",
    placeholder: "NAME",
    optional: true,
  },
  to: {
    kind: "parsed",
    parse: String,
    brief: "--forward: framing of TARGET's side (default raw)",
    placeholder: "NAME",
    optional: true,
  },
  jobs: {
    kind: "parsed",
    parse: parseCount,
    brief: "--handle: at most N handlers at once (default: CPU count)",
    placeholder: "N",
    optional: true,
  },
  handleTimeout: {
    kind: "parsed",
    parse: String,
    brief: "--handle: terminate a handler running longer (250ms, 5s, 2m)",
    placeholder: "DURATION",
    optional: true,
  },
  queue: {
    kind: "parsed",
    parse: parseQueue,
    brief: "--broadcast: messages and/or bytes queued per client: 1024, 64M or 1024,64M (1024,16M)",
    placeholder: "N,BYTES",
    optional: true,
  },
  slow: {
    kind: "enum",
    values: SLOW_POLICIES,
    brief: "--broadcast: a client that stays full: disconnect it, block senders, or drop its oldest",
    optional: true,
  },
  count: {
    kind: "parsed",
    parse: parseCount,
    brief: "Exit after N messages (--forward: N connections)",
    placeholder: "N",
    optional: true,
  },
  once: {
    kind: "boolean",
    brief: "Accept one connection; exit when it is done (like nc -l)",
    optional: true,
    withNegated: false,
  },
  ...idleTimeoutFlag("Close a connection after DURATION with no data either way"),
  maxConnections: {
    kind: "parsed",
    parse: parseCount,
    brief: "Serve at most N connections at once; more wait (--exec default: 4 × CPU count)",
    placeholder: "N",
    optional: true,
  },
  mode: { kind: "parsed", parse: String, brief: "Socket file mode", placeholder: "OCTAL", default: "0600" },
} as const;

/** `--queue`: a message count, a byte count, or both. */
export interface QueueLimit {
  /** Most messages queued per client; the default when only bytes are given. */
  messages: number;
  /** Most bytes queued per client; the default when only a count is given. */
  bytes: number;
}

/**
 * Parse `--queue`: `N` (messages), `64M` (bytes: a number with a k/M/G unit) or both,
 * comma-separated in either order. What is not given keeps its default.
 */
export function parseQueue(text: string): QueueLimit {
  const limit = { messages: DEFAULT_QUEUE, bytes: DEFAULT_QUEUE_BYTES };
  const parts = text.split(",").map((part) => part.trim());
  const seen = new Set<string>();
  for (const part of parts) {
    const kind = /^\d+$/.test(part) ? "messages" : "bytes";
    if (seen.has(kind)) throw new SyntaxError(`expected N, BYTES or N,BYTES (like 1024, 64M or 1024,64M)`);
    seen.add(kind);
    const n = kind === "messages" ? parseCount(part) : parseBytes(part);
    if (n < 1) throw new SyntaxError(`expected a limit of at least 1`);
    limit[kind] = n;
  }
  if (parts.length > 2) throw new SyntaxError(`expected N, BYTES or N,BYTES (like 1024, 64M or 1024,64M)`);
  return limit;
}

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new UsageError(`Cannot parse --mode "${text}"`, "write an octal file mode such as 0600 or 0660");
  }
  return parseInt(text, 8);
}

/** The one mode chosen; a usage error when several are. */
function parseServeMode(
  flags: ServeFlags,
): "sink" | "echo" | "handle" | "handle-stream" | "exec" | "broadcast" | "forward" {
  const chosen = [
    flags.forward !== undefined && "--forward",
    flags.echo && "--echo",
    flags.handle !== undefined && "--handle",
    flags.handleStream !== undefined && "--handle-stream",
    flags.exec !== undefined && "--exec",
    flags.broadcast && "--broadcast",
  ].filter((m): m is string => typeof m === "string");
  if (chosen.length > 1) {
    throw new UsageError(`Cannot combine ${chosen.join(" and ")}`, "serve runs one mode at a time");
  }
  const only = (flag: string, given: boolean, mode: string) => {
    if (given && chosen[0] !== mode) throw new UsageError(`${flag} only applies to ${mode}`);
  };
  only("--jobs", flags.jobs !== undefined, "--handle");
  only("--handle-timeout", flags.handleTimeout !== undefined, "--handle");
  only("--queue", flags.queue !== undefined, "--broadcast");
  only("--slow", flags.slow !== undefined, "--broadcast");
  only("--from", flags.from !== undefined, "--forward");
  only("--to", flags.to !== undefined, "--forward");
  if (chosen[0] === "--forward" && flags.encoding !== "text") {
    throw new UsageError(`-e ${flags.encoding} does not apply to --forward`, "nothing is printed; drop -e");
  }
  if (chosen[0] === "--exec" && flags.count !== undefined) {
    throw new UsageError("--count counts messages; --exec passes raw bytes and has none");
  }
  return (chosen[0]?.slice(2) ?? "sink") as ReturnType<typeof parseServeMode>;
}

/**
 * `--max-connections`, or for `--exec` a default: a CMD per connection, unbounded, lets any
 * client flood the machine with processes.
 */
function connectionLimit(
  flags: ServeFlags,
  serveMode: ReturnType<typeof parseServeMode>,
): { maxConnections?: number; limitReached?: string } {
  if (flags.maxConnections !== undefined || serveMode !== "exec") {
    return { maxConnections: flags.maxConnections };
  }
  const maxConnections = 4 * navigator.hardwareConcurrency;
  return {
    maxConnections,
    limitReached: `--exec: ${maxConnections} commands running (default 4 × CPU count); ` +
      "new connections wait (raise --max-connections)",
  };
}

/**
 * `--forward`'s framing on each side, as `pipe` picks them: `--from`/`--to`, else `-f`, else
 * raw; a message transport's own framing on its side.
 */
function forwardFramings(flags: ServeFlags, listening: Address, target: Address): [Framing?, Framing?] {
  const side = (address: Address, own: string | undefined, flag: string) => {
    const name = own ?? flags.framing;
    const chosen = name === undefined ? undefined : parseFraming(name);
    if (!carriesMessages(address)) return chosen;
    return framingFor(address, { framing: chosen!, given: own !== undefined, flag });
  };
  return [side(listening, flags.from, "--from"), side(target, flags.to, "--to")];
}

/** Run `serve`; resolves to the exit code. */
export async function serve(io: Stdio, flags: ServeFlags, addressText: string): Promise<number> {
  const address = parseAddress(addressText);
  const target = flags.forward === undefined ? undefined : parseAddress(flags.forward);
  const framing = framingFor(address, {
    framing: parseFraming(flags.framing ?? DEFAULT_FRAMING),
    given: flags.framing !== undefined,
    flag: "-f",
  });
  const encoding = parseEncoding(flags.encoding);
  const codec = await messageCodec(encoding, framing);
  const mode = parseMode(flags.mode);
  const log = stderrLog(flags, io.stderr);
  const serveMode = parseServeMode(flags);
  // A program that cannot start is a usage error now, not a surprise on the first message.
  const argv = flags.handle !== undefined
    ? parseProgram(flags.handle)
    : flags.handleStream !== undefined
    ? parseProgram(flags.handleStream)
    : flags.exec !== undefined
    ? parseProgram(flags.exec)
    : [];
  const timeout = flags.handleTimeout === undefined ? undefined : parseDuration(flags.handleTimeout);
  const idleTimeout = idleTimeoutMs(flags);
  const [forwardFrom, forwardTo] = target ? forwardFramings(flags, address, target) : [];
  // --forward has no messages to count unless it re-frames: --count counts its connections.
  const connections = flags.once ? 1 : serveMode === "forward" ? flags.count : undefined;

  const caCerts = flags.ca === undefined ? undefined : [await readPem("--ca", flags.ca)];
  const broker = { group: flags.group, creds: flags.creds, caCerts, serveMode };
  const listener = await listen(address, {
    mode,
    tls: await listenTls(flags),
    log,
    broker,
    ws: webSocketListen(flags),
  });
  const server = new Server(listener, {
    log,
    count: serveMode === "forward" ? undefined : flags.count,
    connections,
    idleTimeout,
    ...connectionLimit(flags, serveMode),
    beforeAccept: (stopping): Promise<void> => handlers?.descriptorsReady(stopping) ?? Promise.resolve(),
  });
  // Every stop signal is the same orderly stop: replies in flight delivered, socket file removed.
  using _signals = trapSignals(() => server.stop());
  io.stderr.writeSync(new TextEncoder().encode(`listening on ${listener.address}\n`));

  const take = (n: number) => server.take(n);
  const handlers: HandlerService | null = serveMode === "handle"
    ? new HandlerService({
      argv,
      framing,
      maxFrame: flags.maxFrame,
      jobs: flags.jobs ?? navigator.hardwareConcurrency,
      timeout,
      log,
      take,
    })
    : null;
  const hub = serveMode === "broadcast"
    ? new BroadcastHub({
      framing,
      maxFrame: flags.maxFrame,
      queue: flags.queue?.messages,
      queueBytes: flags.queue?.bytes,
      slow: flags.slow,
      log,
      take,
    })
    : null;

  const sink = new Sink(server, {
    framing,
    maxFrame: flags.maxFrame,
    format: (messages) => codec.format(messages),
    stdout: io.stdout,
    log,
    echo: serveMode === "echo",
    linesAsBytes: encoding === "text" || serveMode === "echo",
  });

  const handle = (session: Session) =>
    handleMode(session).catch((error) => {
      // Bad framing from a client: name it, and the framing its bytes look like.
      // (--forward's pipe names the side and its flag itself.)
      throw error instanceof FrameError && !target
        ? frameErrorFrom(error, session.conn.peer, framing.name, "-f", "the client")
        : error;
    });
  const handleMode = async (session: Session) => {
    if (handlers) return await handlers.serve(session);
    if (hub) return await hub.join(session);
    if (serveMode === "exec") return await execSession(session, { argv, log });
    if (serveMode === "handle-stream") {
      return await streamHandlerSession(session, { argv, framing, maxFrame: flags.maxFrame, log, take });
    }
    if (target) {
      return await forwardSession(session, {
        target,
        log,
        from: forwardFrom,
        to: forwardTo,
        maxFrame: flags.maxFrame,
      });
    }
    return await sink.serve(session);
  };
  try {
    await server.run(handle);
  } finally {
    handlers?.close();
    await listener.close();
  }
  return sink.outputFailed ? 1 : 0;
}
