/**
 * `ipcat inspect`: a logging proxy (`LISTEN --target ADDR`), a takeover of a live socket
 * (`--intercept PATH`, `--restore PATH`), or an interactive session (`ADDR`).
 * @module
 */
import { carriesMessages, connect, framingFor, listen, parseAddress } from "../lib/address/mod.ts";
import type { Address, Listener } from "../lib/address/types.ts";
import { type Encoding, messageCodec, parseEncoding } from "../lib/encoding.ts";
import { describe, UsageError } from "../lib/errors.ts";
import { DEFAULT_FRAMING, parseFraming } from "../lib/framing/mod.ts";
import type { Framing } from "../lib/framing/types.ts";
import { Interception, restoreAside } from "../lib/inspect/intercept.ts";
import { parseEscapes } from "../lib/inspect/escapes.ts";
import { eventFormatter, VIEW_FORMATS, type ViewFormat } from "../lib/inspect/log_format.ts";
import { LogQueue } from "../lib/inspect/log_queue.ts";
import { InspectProxy } from "../lib/inspect/proxy.ts";
import { Recorder } from "../lib/inspect/recorder.ts";
import { startSession } from "../lib/inspect/session.ts";
import type { Log } from "../lib/log.ts";

import { interruption, trapSignals } from "../lib/signals.ts";
import {
  type CommonFlags,
  connectOptions,
  type ConnectTlsFlags,
  connectTlsFlags,
  type FramingFlags,
  parseBytes,
  parseCount,
  stderrLog,
  type WebSocketConnectFlags,
  webSocketConnectFlags,
} from "./flags.ts";
import type { Stdio } from "./stdio.ts";

/** Flags of `inspect`. */
export interface InspectFlags extends CommonFlags, FramingFlags, ConnectTlsFlags, WebSocketConnectFlags {
  readonly target?: string;
  readonly intercept?: string;
  readonly restore?: string;
  readonly format: string;
  readonly record?: string;
  readonly count?: number;
  readonly showMax: number;
}

/** Stricli definitions of the `inspect`-only flags. */
export const inspectFlags = {
  ...connectTlsFlags,
  ...webSocketConnectFlags,
  target: {
    kind: "parsed",
    parse: String,
    brief: "Proxy: forward each connection to ADDR",
    placeholder: "ADDR",
    optional: true,
  },
  intercept: {
    kind: "parsed",
    parse: String,
    brief: "Take over the live socket at PATH; put it back on exit",
    placeholder: "PATH",
    optional: true,
  },
  restore: {
    kind: "parsed",
    parse: String,
    brief: "Put back a socket left aside by an interrupted --intercept",
    placeholder: "PATH",
    optional: true,
  },
  format: {
    kind: "parsed",
    parse: String,
    brief: "Message view: auto, text, hex",
    placeholder: "FMT",
    default: "auto",
  },
  record: {
    kind: "parsed",
    parse: String,
    brief: "Append every event to FILE as JSON Lines",
    placeholder: "FILE",
    optional: true,
  },
  count: {
    kind: "parsed",
    parse: parseCount,
    brief: "Proxy: accept N connections, exit when they are done",
    placeholder: "N",
    optional: true,
  },
  showMax: {
    kind: "parsed",
    parse: parseBytes,
    brief: "Show at most BYTES of each message in the log (1k)",
    placeholder: "BYTES",
    default: "1k",
  },
} as const;

const te = new TextEncoder();
const td = new TextDecoder();

function parseViewFormat(text: string): ViewFormat {
  if ((VIEW_FORMATS as readonly string[]).includes(text)) return text as ViewFormat;
  throw new UsageError(`Unknown --format "${text}"`, `use one of: ${VIEW_FORMATS.join(", ")}`);
}

/** `inspect ADDR`: an interactive (or scripted) session; resolves to the exit code. */
async function session(
  io: Stdio,
  flags: InspectFlags,
  address: string | undefined,
  framing: Framing,
  encoding: Encoding,
  formatter: ReturnType<typeof eventFormatter>,
  log: Log,
): Promise<number> {
  if (address === undefined) {
    throw new UsageError(
      "inspect needs an address",
      "ipcat inspect ADDR (session), ipcat inspect LISTEN --target ADDR (proxy), or --intercept PATH",
    );
  }
  if (flags.record !== undefined || flags.count !== undefined) {
    throw new UsageError(
      "--record and --count work with the proxy",
      "add --target ADDR or use --intercept PATH",
    );
  }
  const codec = await messageCodec(encoding, framing);
  const parseLine = encoding === "text" && framing.text !== "json"
    ? parseEscapes
    : (line: string) => codec.parse(line);
  using session = await startSession({
    target: parseAddress(address),
    connectOptions: await connectOptions(flags),
    stdin: io.stdin,
    stdout: io.stdout,
    log,
    framing,
    maxFrame: flags.maxFrame,
    showMax: flags.showMax,
    parseLine,
    format: formatter,
  });
  // SIGINT is an interruption (130); SIGTERM and SIGHUP an orderly stop (0).
  const { promise: signalled, resolve, reject } = Promise.withResolvers<void>();
  using _signals = trapSignals((signal) => signal === "SIGINT" ? reject(interruption(signal)) : resolve());
  await Promise.race([session.ended, signalled]);
  return 0;
}

/**
 * The one framing of both sides: the user's, or a message transport's own. A proxy between a
 * message transport and a byte stream would need re-framing, which only `pipe` does.
 */
function inspectFraming(flags: InspectFlags, address: string | undefined): Framing {
  const chosen = {
    framing: parseFraming(flags.framing ?? DEFAULT_FRAMING),
    given: flags.framing !== undefined,
    flag: "-f",
  };
  const sides = [address, flags.target].filter((a): a is string => a !== undefined).map(parseAddress);
  const messages = sides.filter(carriesMessages);
  if (messages.length === 0) return chosen.framing;
  if (messages.length < sides.length) {
    throw new UsageError(
      `inspect cannot proxy between ${messages[0].scheme}: messages and a byte stream`,
      "proxy ws to ws, or bridge with ipcat pipe --to FRAMING",
    );
  }
  return framingFor(messages[0], chosen);
}

/** Run `inspect`; resolves to the exit code. */
export async function inspect(io: Stdio, flags: InspectFlags, address?: string): Promise<number> {
  const log = stderrLog(flags, io.stderr);
  if (flags.restore !== undefined) {
    if (address !== undefined || flags.target !== undefined || flags.intercept !== undefined) {
      throw new UsageError(
        "--restore PATH takes no other address",
        "run it alone: ipcat inspect --restore PATH",
      );
    }
    log("info", await restoreAside(flags.restore));
    return 0;
  }
  const framing = inspectFraming(flags, address);
  const format = parseViewFormat(flags.format);
  const encoding = parseEncoding(flags.encoding);
  const color = flags.color && !Deno.noColor && io.stdout.isTerminal();
  let json: ((m: Uint8Array) => string) | undefined;
  if (framing.text === "json") {
    const codec = await messageCodec("text", framing);
    json = (m) => td.decode(codec.format([m])).trimEnd();
  }
  const formatter = eventFormatter({ format, color, json });
  const proxying = flags.target !== undefined || flags.intercept !== undefined;

  if (!proxying) return await session(io, flags, address, framing, encoding, formatter, log);

  if (flags.intercept !== undefined && (address !== undefined || flags.target !== undefined)) {
    throw new UsageError(
      "--intercept PATH takes no other address",
      "it listens on PATH and forwards to the socket it moved aside",
    );
  }
  if (flags.target !== undefined && address === undefined) {
    throw new UsageError("--target ADDR needs an address to listen on", "ipcat inspect LISTEN --target ADDR");
  }
  const recorder = flags.record === undefined ? undefined : await Recorder.open(flags.record, {
    onError: (error) => log("error", `recording to ${flags.record} stopped: ${describe(error)}`),
  });
  const tls = await connectOptions(flags);
  let interception: Interception | undefined;
  let listener: Listener;
  let target: Address;
  try {
    if (flags.intercept !== undefined) {
      interception = await Interception.start(flags.intercept, log, tls);
      listener = interception.listener;
      target = interception.target;
    } else {
      target = parseAddress(flags.target!);
      listener = await listen(parseAddress(address!), { ws: { maxMessage: flags.maxFrame }, log });
    }
  } catch (error) {
    await recorder?.close();
    throw error;
  }
  using _interception = interception;
  const listening = interception?.listening ?? listener.address;

  const queue = new LogQueue(io.stdout, formatter);
  const proxy = new InspectProxy(listener, {
    target,
    framing,
    maxFrame: flags.maxFrame,
    showMax: flags.showMax,
    events: (event) => queue.push(event),
    recorder,
    count: flags.count,
    log,
    listening,
    beforeStop: () => interception?.restore(),
    connect: (address) => interception ? interception.connect() : connect(address, tls),
  });
  using signals = trapSignals(() => proxy.stop());
  io.stderr.writeSync(te.encode(`listening on ${listening}\n`));
  if (interception) {
    log("info", `moved ${interception.path} to ${interception.aside}; it goes back on exit`);
  }
  try {
    await proxy.run();
  } finally {
    interception?.restore();
    listener.close();
    await queue.close();
    await recorder?.close();
  }
  interception?.check();
  if (queue.skipped > 0) log("info", `the log fell behind: ${queue.skipped} events were not shown`);
  if (signals.caught === "SIGINT") throw interruption(signals.caught);
  return 0;
}
