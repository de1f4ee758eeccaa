/**
 * `ipcat replay RECORDING [ADDR]`: replay the client side of a recording against ADDR and
 * compare the answers (exit 0 identical, 1 different), `--update` the recording with them,
 * or `--to-pcap FILE` convert it for Wireshark.
 * @module
 */
import { connect, parseAddress, recordedFraming } from "../lib/address/mod.ts";
import { parseDuration } from "../lib/duration.ts";
import { UsageError } from "../lib/errors.ts";
import { PcapWriter } from "../lib/inspect/pcap.ts";
import { openPrivateFile } from "../lib/inspect/recorder.ts";
import { formatRecording, readRecording, type Recording } from "../lib/inspect/recording.ts";
import { formatDifference, replay } from "../lib/inspect/replay.ts";
import { writeAll } from "../lib/messages.ts";
import {
  type CommonFlags,
  connectOptions,
  type ConnectTlsFlags,
  connectTlsFlags,
  type FramingFlags,
  parseCount,
  stderrLog,
} from "./flags.ts";
import type { Stdio } from "./stdio.ts";

/** Flags of `replay`. */
export interface ReplayFlags extends CommonFlags, FramingFlags, ConnectTlsFlags {
  /** `--conn`: only these recorded connections. */
  readonly conn?: readonly number[];
  /** `--ignore`: regular expressions whose matches are masked before comparing. */
  readonly ignore?: readonly string[];
  /** `--timing`: `fast` or `recorded`. */
  readonly timing: string;
  /** `--speed`: with `--timing recorded`, the recorded gaps are divided by this. */
  readonly speed: number;
  /** `--timeout`: longest wait for a reply, and for the server to close, as a duration. */
  readonly timeout: string;
  /** `--update`: rewrite the recording's server side with the answers. */
  readonly update: boolean;
  /** `--to-pcap`: write the recording as a pcap to this file instead of replaying. */
  readonly toPcap?: string;
  /** `--pcap-port`: the server's TCP port in the pcap. */
  readonly pcapPort?: number;
}

function parseSpeed(text: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new SyntaxError("expected a number above 0, like 2 or 0.5");
  return n;
}

/** Stricli definitions of the flags shared by `replay` and `inspect --from`/`--pcap`. */
export const connFlag = {
  conn: {
    kind: "parsed",
    parse: parseCount,
    brief: "Only these recorded connections (repeat or 1,3)",
    placeholder: "N",
    variadic: ",",
    optional: true,
  },
} as const;

/** `--pcap-port`, for `inspect --pcap` and `replay --to-pcap`. */
export const pcapPortFlag = {
  pcapPort: {
    kind: "parsed",
    parse: (text: string) => {
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new SyntaxError("expected a port, 1 to 65535");
      return n;
    },
    brief: "pcap: the server's TCP port, which picks Wireshark's dissector (target's port)",
    placeholder: "N",
    optional: true,
  },
} as const;

/** Stricli definitions of the `replay`-only flags. */
export const replayFlags = {
  ...connectTlsFlags,
  ...connFlag,
  ...pcapPortFlag,
  ignore: {
    kind: "parsed",
    parse: String,
    brief: "Mask what REGEX matches before comparing (repeatable)",
    placeholder: "REGEX",
    variadic: true,
    optional: true,
  },
  timing: {
    kind: "parsed",
    parse: String,
    brief: "fast (send once the replies before arrived) or recorded (keep the gaps)",
    placeholder: "MODE",
    default: "fast",
  },
  speed: {
    kind: "parsed",
    parse: parseSpeed,
    brief: "With --timing recorded: divide the gaps by this",
    placeholder: "X",
    default: "1",
  },
  timeout: {
    kind: "parsed",
    parse: String,
    brief: "Longest wait for a reply, and for the server to close (2s)",
    placeholder: "DUR",
    default: "2s",
  },
  update: { kind: "boolean", brief: "Rewrite the recording's server side with the answers", default: false },
  toPcap: {
    kind: "parsed",
    parse: String,
    brief: "Write the recording as a pcap to FILE instead of replaying it",
    placeholder: "FILE",
    optional: true,
  },
} as const;

const te = new TextEncoder();

/** The server port a pcap shows: the flag, else the target's TCP port, else 9 (discard). */
export function pcapPortFor(flag: number | undefined, target: string | undefined): number {
  if (flag !== undefined) return flag;
  // Any address with a port (tcp:PORT, tcp:HOST:PORT, tls:…, ws:…), as the registry parses it.
  let port: unknown;
  try {
    port = target === undefined ? undefined : parseAddress(target).port;
  } catch {
    port = undefined;
  }
  return typeof port === "number" && port > 0 ? port : 9;
}

/** Write `recording` as a pcap (`replay --to-pcap`). */
async function toPcap(recording: Recording, path: string, flags: ReplayFlags): Promise<number> {
  const pcap = await PcapWriter.create(path, {
    serverPort: pcapPortFor(flags.pcapPort, recording.meta?.target),
  }, "--to-pcap");
  const chosen = flags.conn?.length ? new Set(flags.conn) : undefined;
  for (const { t, conn, event, dir, data } of recording.events) {
    if (chosen && !chosen.has(conn)) continue;
    if (event === "open") pcap.opened(conn, t);
    else if (event === "close") pcap.closed(conn, t);
    else pcap.data(conn, dir!, data, t);
  }
  await pcap.close();
  return 0;
}

/** Run `replay`; resolves to the exit code. */
export async function replayCommand(
  io: Stdio,
  flags: ReplayFlags,
  file: string,
  address?: string,
): Promise<number> {
  const log = stderrLog(flags, io.stderr);
  if (flags.timing !== "fast" && flags.timing !== "recorded") {
    throw new UsageError(`Unknown --timing "${flags.timing}"`, "use fast or recorded");
  }
  const ignore = (flags.ignore ?? []).map((source) => {
    try {
      return new RegExp(source, "g");
    } catch {
      throw new UsageError(`Cannot use --ignore "${source}": not a valid regular expression`);
    }
  });
  const timeout = parseDuration(flags.timeout);
  const recording = await readRecording(file);
  if (flags.toPcap !== undefined) {
    if (address !== undefined || flags.update) {
      throw new UsageError(
        "--to-pcap FILE converts the recording and replays nothing",
        "drop ADDR and --update",
      );
    }
    return await toPcap(recording, flags.toPcap, flags);
  }
  const targetText = address ?? recording.meta?.target;
  if (targetText === undefined) {
    throw new UsageError(
      `replay needs an address: "${file}" has no meta line naming its target`,
      "ipcat replay RECORDING ADDR",
    );
  }
  const framing = recordedFraming(flags.framing ?? recording.meta?.framing ?? "raw");
  const unknown = (flags.conn ?? []).filter((id) => !recording.connections.includes(id));
  if (unknown.length) {
    throw new UsageError(
      `--conn ${unknown.join(",")}: no such connection in "${file}"`,
      `it has ${recording.connections.join(", ") || "none"}`,
    );
  }
  const target = parseAddress(targetText);
  const tls = await connectOptions(flags);
  const result = await replay(recording, {
    target,
    framing,
    maxFrame: flags.maxFrame,
    conns: flags.conn?.length ? flags.conn : undefined,
    ignore,
    timing: flags.timing,
    speed: flags.speed,
    timeout,
    log,
    connect: (a) => connect(a, tls),
  });
  const out = (line: string) => io.stdout.writeSync(te.encode(`${line}\n`));
  const counts = `${result.connections} connection${result.connections === 1 ? "" : "s"}, ${result.replies} ${
    framing.framed ? "replies" : "reply streams"
  }`;
  if (flags.update) {
    await rewrite(file, { ...recording, events: result.updated });
    out(`updated ${file}: ${counts}; ${result.differences.length} connection(s) answered differently`);
    return 0;
  }
  if (result.differences.length === 0) {
    out(`identical: ${counts} as recorded (${target.text}, ${framing.name})`);
    return 0;
  }
  const shown = result.differences.slice(0, 5);
  for (const difference of shown) for (const line of formatDifference(difference, framing.framed)) out(line);
  const rest = result.differences.length - shown.length;
  out(
    `different: ${result.differences.length} of ${result.connections} connections${
      rest > 0 ? ` (${rest} more not shown)` : ""
    } (${target.text}, ${framing.name})`,
  );
  return 1;
}

/** Replace `path` with `recording`: a private temp file beside it, renamed over it. */
async function rewrite(path: string, recording: Recording): Promise<void> {
  const temp = `${path}.ipcat-update-${Deno.pid}`;
  const file = await openPrivateFile(temp, "--update");
  try {
    try {
      await writeAll(file, te.encode(formatRecording(recording)));
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
