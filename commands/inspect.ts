/**
 * `ipcat inspect`: a logging proxy (`LISTEN --target ADDR`), a takeover of a live socket
 * (`--intercept PATH`, `--restore PATH`), or an interactive session (`ADDR`).
 * @module
 */
import {
  canWatch,
  carriesMessages,
  framingFor,
  listen,
  parseAddress,
  recordedFraming,
} from "../lib/address/mod.ts";
import { parseDuration } from "../lib/duration.ts";
import { connectWithWait } from "../lib/retry.ts";
import type { Address, Listener } from "../lib/address/types.ts";
import { bytesToShow, type Encoding, messageCodec, parseEncoding } from "../lib/encoding.ts";
import { describe, UsageError } from "../lib/errors.ts";
import { DEFAULT_FRAMING, parseFraming } from "../lib/framing/mod.ts";
import type { Framing } from "../lib/framing/types.ts";
import { Interception, restoreAside } from "../lib/inspect/intercept.ts";
import { parseEscapes } from "../lib/inspect/escapes.ts";
import { eventFormatter, VIEW_FORMATS, type ViewFormat } from "../lib/inspect/log_format.ts";
import { LogQueue } from "../lib/inspect/log_queue.ts";
import { InspectProxy } from "../lib/inspect/proxy.ts";
import { PcapWriter } from "../lib/inspect/pcap.ts";
import { Recorder, type RecordingSink, teeSinks } from "../lib/inspect/recorder.ts";
import { readRecording } from "../lib/inspect/recording.ts";
import { recordingEvents } from "../lib/inspect/recording_view.ts";
import { startSession } from "../lib/inspect/session.ts";
import { watchBroker } from "../lib/inspect/watch.ts";
import type { Log } from "../lib/log.ts";
import { writeAll } from "../lib/messages.ts";
import { concatBytes } from "../lib/bytes.ts";

import { interruption, trapSignals } from "../lib/signals.ts";
import {
  brokerFlags,
  type ConnectingFlags,
  connectOptions,
  connectTlsFlags,
  idleTimeoutFlag,
  idleTimeoutMs,
  parseBytes,
  parseCount,
  stderrLog,
  type WaitFlags,
  waitFlags,
  webSocketConnectFlags,
} from "./flags.ts";
import { connFlag, pcapPortFlag, pcapPortFor } from "./replay.ts";
import type { Stdio } from "./stdio.ts";

/** Flags of `inspect`. */
export interface InspectFlags extends ConnectingFlags {
  /** `--target`: proxy mode, forwarding each connection to this address. */
  readonly target?: string;
  /** `--intercept`: the live socket path to take over for the run. */
  readonly intercept?: string;
  /** `--restore`: the socket path whose service to put back after an interrupted `--intercept`. */
  readonly restore?: string;
  /** `--format`: message view, `auto`, `text` or `hex`. */
  readonly format: string;
  /** `--record`: file to append every event to, as JSON Lines. */
  readonly record?: string;
  /** `--count`: proxy this many connections, then exit. */
  readonly count?: number;
  /** `--show-max`: bytes of each message the log shows. */
  readonly showMax: number;
  /** `--pcap`: file to also write the traffic to, as a pcap. */
  readonly pcap?: string;
  /** `--pcap-port`: the server's TCP port in the pcap. */
  readonly pcapPort?: number;
  /** `--from`: a `--record` file to print instead of proxying. */
  readonly from?: string;
  /** `--conn`: only these recorded connections (with `--from`). */
  readonly conn?: readonly number[];
}

/** Stricli definitions of the `inspect`-only flags. */
export const inspectFlags = {
  ...connectTlsFlags,
  ...connFlag,
  ...pcapPortFlag,
  pcap: {
    kind: "parsed",
    parse: String,
    brief: "Also write the traffic to FILE as a pcap (Wireshark, tshark)",
    placeholder: "FILE",
    optional: true,
  },
  from: {
    kind: "parsed",
    parse: String,
    brief: "Print a --record file in the log's format instead of proxying",
    placeholder: "FILE",
    optional: true,
  },
  ...brokerFlags,
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
  ...waitFlags,
  ...idleTimeoutFlag("Proxy: close a connection (both sides) after DURATION with no data either way"),
} as const;

const te = new TextEncoder();
const td = new TextDecoder();

function waitMs(flags: WaitFlags): number {
  return flags.wait === undefined ? 0 : parseDuration(flags.wait);
}

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
  if (
    flags.record !== undefined || flags.count !== undefined || flags.pcap !== undefined ||
    flags.idleTimeout !== undefined
  ) {
    throw new UsageError(
      "--record, --pcap, --count and --idle-timeout work with the proxy",
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
    waitMs: waitMs(flags),
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

/** `inspect --from FILE`: a recording printed as the live log would have shown it. */
async function view(
  io: Stdio,
  flags: InspectFlags,
  address: string | undefined,
  formatter: ReturnType<typeof eventFormatter>,
): Promise<number> {
  if (address !== undefined || flags.target !== undefined || flags.intercept !== undefined) {
    throw new UsageError("--from FILE prints a recording and takes no address", "ipcat inspect --from FILE");
  }
  const recording = await readRecording(flags.from!);
  const framing = recordedFraming(flags.framing ?? recording.meta?.framing ?? DEFAULT_FRAMING);
  // Offline nothing is dropped: the log is written whole, in batches.
  let batch: Uint8Array[] = [];
  let size = 0;
  const flush = async () => {
    await writeAll(io.stdout, concatBytes(batch));
    batch = [];
    size = 0;
  };
  for (
    const event of recordingEvents(recording, {
      framing,
      maxFrame: flags.maxFrame,
      showMax: bytesToShow(framing, flags.showMax),
      conns: flags.conn?.length ? flags.conn : undefined,
    })
  ) {
    const formatted = formatter(event);
    const bytes = typeof formatted === "string" ? te.encode(formatted) : formatted;
    batch.push(bytes);
    size += bytes.length;
    if (size > 64 * 1024) await flush();
  }
  await flush();
  return 0;
}

/** `inspect nats://…/SUBJECT`: log (and record) every message on the subjects; resolves to the exit code. */
async function watching(
  io: Stdio,
  flags: InspectFlags,
  address: Address,
  formatter: ReturnType<typeof eventFormatter>,
  log: Log,
): Promise<number> {
  const recorder = flags.record === undefined ? undefined : await Recorder.open(flags.record, {
    onError: (error) => log("error", `recording to ${flags.record} stopped: ${describe(error)}`),
  });
  const stop = new AbortController();
  using signals = trapSignals(() => stop.abort());
  try {
    await watchBroker(address, {
      out: io.stdout,
      format: formatter,
      showMax: flags.showMax,
      recorder,
      count: flags.count,
      connect: { ...await connectOptions(flags), log, broker: { creds: flags.creds } },
      signal: stop.signal,
    });
  } finally {
    await recorder?.close();
  }
  if (signals.caught === "SIGINT") throw interruption(signals.caught);
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
  const color = flags.color ?? (!Deno.noColor && io.stdout.isTerminal());
  let json: ((m: Uint8Array) => string) | undefined;
  if (framing.text === "json") {
    const codec = await messageCodec("text", framing);
    json = (m) => td.decode(codec.format([m])).trimEnd();
  }
  const formatter = eventFormatter({ format, color, json });
  if (flags.from !== undefined) return await view(io, flags, address, formatter);
  const proxying = flags.target !== undefined || flags.intercept !== undefined;

  if (!proxying && address !== undefined && canWatch(parseAddress(address))) {
    return await watching(io, flags, parseAddress(address), formatter, log);
  }
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
  const sinks: RecordingSink[] = [];
  let jsonl: Recorder | undefined;
  try {
    if (flags.record !== undefined) {
      const recorder = await Recorder.open(flags.record, {
        onError: (error) => log("error", `recording to ${flags.record} stopped: ${describe(error)}`),
      });
      sinks.push(jsonl = recorder);
    }
    if (flags.pcap !== undefined) {
      sinks.push(
        await PcapWriter.create(flags.pcap, {
          serverPort: pcapPortFor(flags.pcapPort, flags.target),
          onError: (error) => log("error", `writing the pcap to ${flags.pcap} stopped: ${describe(error)}`),
        }),
      );
    }
  } catch (error) {
    await Promise.all(sinks.map((sink) => sink.close()));
    throw error;
  }
  const recorder = sinks.length > 1 ? teeSinks(...sinks) : sinks[0];
  const tls = await connectOptions(flags, log);
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
  jsonl?.meta({ framing: framing.name, target: target.text });

  const queue = new LogQueue(io.stdout, formatter);
  const proxy = new InspectProxy(listener, {
    target,
    framing,
    maxFrame: flags.maxFrame,
    showMax: flags.showMax,
    events: (event) => queue.push(event),
    recorder,
    count: flags.count,
    idleTimeout: idleTimeoutMs(flags),
    log,
    listening,
    beforeStop: () => interception?.restore(),
    connect: (address) =>
      interception ? interception.connect() : connectWithWait(address, waitMs(flags), tls),
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
