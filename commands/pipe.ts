/**
 * `ipcat pipe ADDR [ADDR2]`: bridge stdin/stdout (or two addresses) both ways.
 * @module
 */
import { carriesMessages, framingFor, isStandardStreams, parseAddress } from "../lib/address/mod.ts";
import type { Address, Connection } from "../lib/address/types.ts";
import { messageCodec, parseEncoding } from "../lib/encoding.ts";
import { UsageError } from "../lib/errors.ts";
import { parseDuration } from "../lib/duration.ts";
import { IdleTimer } from "../lib/idle.ts";
import { connectWithWait } from "../lib/retry.ts";
import { parseFraming } from "../lib/framing/mod.ts";
import type { Framing } from "../lib/framing/types.ts";
import { pipe } from "../lib/pipe/pipe.ts";
import { interruption, trapSignals } from "../lib/signals.ts";
import type { EndRule } from "../lib/pipe/relay.ts";
import { Meter, showProgress } from "../lib/pipe/progress.ts";
import { encodedLines } from "../lib/pipe/reframe.ts";
import {
  brokerFlags,
  type ConnectingFlags,
  connectOptions,
  connectTlsFlags,
  idleTimeoutFlag,
  idleTimeoutMs,
  stderrLog,
  waitFlags,
  webSocketConnectFlags,
} from "./flags.ts";
import type { Stdio } from "./stdio.ts";

/** Flags of `pipe`. */
export interface PipeFlags extends ConnectingFlags {
  /** `--from`: framing of the first side; default raw. */
  readonly from?: string;
  /** `--to`: framing of the second side; default raw. */
  readonly to?: string;
  /** `--progress`: bytes and rate per direction on stderr. */
  readonly progress: boolean;
}

/** Stricli definitions of the `pipe`-only flags. */
export const pipeFlags = {
  ...connectTlsFlags,
  ...brokerFlags,
  ...webSocketConnectFlags,
  from: {
    kind: "parsed",
    parse: String,
    brief: "Framing of the first side (stdin/stdout, or ADDR of two); default raw",
    placeholder: "NAME",
    optional: true,
  },
  to: {
    kind: "parsed",
    parse: String,
    brief: "Framing of the second side (ADDR, or ADDR2); default raw",
    placeholder: "NAME",
    optional: true,
  },
  progress: {
    kind: "boolean",
    brief: "Show bytes and rate per direction on stderr (live on a terminal)",
    default: false,
  },
  ...waitFlags,
  ...idleTimeoutFlag("Exit 124 after DURATION with no data either way (like socat -T, nc -w)"),
} as const;

const te = new TextEncoder();
const isStdio = (address: Address) => isStandardStreams(address);

/**
 * The framing of each side. `-e hex|base64` turns the `-` side into one message per line
 * of hex/base64, so it needs that side to be `lines` (or unset, with the other side framed).
 */
async function framings(
  flags: PipeFlags,
  a: Address,
  b: Address,
): Promise<[Framing | undefined, Framing | undefined]> {
  const names = [flags.from ?? flags.framing, flags.to ?? flags.framing];
  // A message transport (datagrams, WebSocket) has its own framing: -f sets the byte-stream
  // sides only, and --from/--to naming a message side is a usage error.
  const sides = [a, b].map((address, i) => {
    const name = names[i];
    const own = i === 0 ? flags.from : flags.to;
    const chosen = name === undefined ? undefined : parseFraming(name);
    if (!carriesMessages(address)) return chosen;
    return framingFor(address, {
      framing: chosen!,
      given: own !== undefined,
      flag: i === 0 ? "--from" : "--to",
    });
  });
  if (carriesMessages(a)) names[0] = undefined;
  if (carriesMessages(b)) names[1] = undefined;
  const encoding = parseEncoding(flags.encoding);
  if (encoding === "text") return [sides[0], sides[1]];
  const stdio = isStdio(a) ? 0 : isStdio(b) ? 1 : -1;
  if (stdio < 0) {
    throw new UsageError(`-e ${encoding} applies to the - side, and neither address is -`, "drop -e");
  }
  const name = names[stdio];
  const other = sides[1 - stdio];
  if (name !== undefined && sides[stdio]!.text !== "lines") {
    throw new UsageError(
      `-e ${encoding} makes the - side one message per line, which contradicts framing "${name}" there`,
      `use --${stdio === 0 ? "from" : "to"} lines, or leave it out`,
    );
  }
  if (name === undefined && (other === undefined || !other.framed)) {
    throw new UsageError(
      `-e ${encoding} needs framed messages, but both sides are raw`,
      `name the other side's framing, e.g. --${stdio === 0 ? "to" : "from"} length`,
    );
  }
  sides[stdio] = encodedLines(await messageCodec(encoding, parseFraming("lines")), encoding);
  return [sides[0], sides[1]];
}

/** Run `pipe`; resolves to the exit code. */
export async function pipeCommand(
  io: Stdio,
  flags: PipeFlags,
  first: string,
  second?: string,
): Promise<number> {
  let a = parseAddress(second === undefined ? "-" : first);
  let b = parseAddress(second ?? first);
  if (isStdio(a) && isStdio(b)) {
    throw new UsageError("Cannot pipe - to itself", "give an address: ipcat pipe unix:/tmp/app.sock");
  }
  let [from, to] = await framings(flags, a, b);
  // The far side is the one that is not `-`: a is `-` when there is one.
  const swapped = isStdio(b);
  if (swapped) [a, b, from, to] = [b, a, to, from];
  const stdio = isStdio(a);
  // From a terminal, the far side's EOF ends the session (a person learns nothing from
  // typing on); from a pipe or file, every byte of input is still sent (see README).
  const end: EndRule = {
    mode: stdio && io.stdin.isTerminal() ? "interactive" : "strict",
    aReaderMayLeave: stdio,
  };
  const log = stderrLog(flags, io.stderr);
  const waitMs = flags.wait === undefined ? 0 : parseDuration(flags.wait);
  const idleMs = idleTimeoutMs(flags);
  let idle: IdleTimer | undefined;
  const meter = new Meter([`${a.text} > ${b.text}`, `${b.text} > ${a.text}`]);
  const live = flags.progress && io.stderr.isTerminal();

  const { promise: interrupted, reject: interrupt } = Promise.withResolvers<never>();
  // Any stop signal closes both sides, so an exec: child is terminated and reaped, not orphaned.
  using _signals = trapSignals((signal) => interrupt(interruption(signal)));
  let progress: Disposable | undefined;
  const conns: Connection[] = [];
  try {
    const run = async () => {
      const tls = {
        ...await connectOptions(flags),
        log,
        broker: { creds: flags.creds, use: "both" as const },
      };
      let left = await connectWithWait(a, waitMs, tls);
      conns.push(left);
      let right = await connectWithWait(b, waitMs, tls);
      conns.push(right);
      // The clock starts once both sides are up: --wait bounds the time before.
      if (idleMs !== undefined) {
        const timer = idle = new IdleTimer(
          idleMs,
          () => interrupt(timer.error.on(`${a.text} <-> ${b.text}`)),
        );
        [left, right] = [timer.watch(left), timer.watch(right)];
      }
      log("verbose", `piping ${a.text} <-> ${b.text}`);
      if (live) progress = showProgress(meter, (text) => io.stderr.writeSync(te.encode(text)));
      await pipe(left, right, {
        from,
        to,
        maxFrame: flags.maxFrame,
        end,
        flags: swapped ? ["--to", "--from"] : ["--from", "--to"],
        onWrite: (direction, bytes, messages) => meter.add(direction, bytes, messages),
      });
    };
    await Promise.race([run(), interrupted]);
  } finally {
    progress?.[Symbol.dispose]();
    idle?.[Symbol.dispose]();
    if (flags.verbose || (flags.progress && !flags.quiet)) log("error", meter.summary());
    // Both at once: an exec: child is terminated and reaped while the other side closes.
    await Promise.all(conns.map((conn) => conn.close()));
  }
  return 0;
}
