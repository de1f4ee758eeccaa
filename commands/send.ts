/**
 * `ipcat send ADDR [MSG...]`: connect, send messages, print the replies.
 * @module
 */
import { carriesMessages, framingFor, isDatagram, parseAddress } from "../lib/address/mod.ts";
import type { Connection } from "../lib/address/types.ts";
import { parseDuration } from "../lib/duration.ts";
import { messageCodec, parseEncoding } from "../lib/encoding.ts";
import { TimeoutError } from "../lib/errors.ts";
import { exchange, type ExchangeTotals } from "../lib/send/exchange.ts";
import { DEFAULT_FRAMING, parseFraming } from "../lib/framing/mod.ts";
import { writeAllSync } from "../lib/messages.ts";
import { IdleTimer } from "../lib/idle.ts";
import { connectWithWait } from "../lib/retry.ts";
import { interruption, trapSignals } from "../lib/signals.ts";
import { linesAsWire, stdinMessages } from "../lib/send/stdin_messages.ts";
import {
  brokerFlags,
  type ConnectingFlags,
  connectOptions,
  connectTlsFlags,
  idleTimeoutFlag,
  idleTimeoutMs,
  parseCount,
  stderrLog,
  waitFlags,
  webSocketConnectFlags,
} from "./flags.ts";
import type { Stdio } from "./stdio.ts";
import type { Log } from "../lib/log.ts";

/** Flags of `send`. */
export interface SendFlags extends ConnectingFlags {
  /** `--keep-open`: do not half-close; stop after one reply per message sent. */
  readonly keepOpen: boolean;
  /** `--replies`: stop after this many replies. */
  readonly replies?: number;
  /** `--no-reply`: do not read replies. */
  readonly noReply: boolean;
  /** `--timeout`: bound on the whole exchange, as a duration (`5s`). */
  readonly timeout?: string;
}

/** Stricli definitions of the `send`-only flags. */
export const sendFlags = {
  ...connectTlsFlags,
  ...brokerFlags,
  ...webSocketConnectFlags,
  keepOpen: {
    kind: "boolean",
    brief: "Do not half-close; stop after one reply per message sent",
    default: false,
  },
  replies: {
    kind: "parsed",
    parse: parseCount,
    brief: "Stop after N replies",
    placeholder: "N",
    optional: true,
  },
  noReply: { kind: "boolean", brief: "Do not read replies", default: false, withNegated: false },
  timeout: {
    kind: "parsed",
    parse: String,
    brief: "Bound the whole exchange (250ms, 5s, 2m); exit 124 when exceeded",
    placeholder: "DURATION",
    optional: true,
  },
  ...waitFlags,
  ...idleTimeoutFlag("Exit 124 after DURATION with no data either way (like socat -T, nc -w)"),
} as const;

/** How long `send` waits for replies from a datagram address when `--timeout` is not given. */
const DATAGRAM_REPLY_TIMEOUT = "2s";

const plural = (n: number, word: string) => `${n} ${n === 1 ? word : word.replace(/y$/, "ie") + "s"}`;

/**
 * Say when a server answered some messages but not all (it stopped at our EOF, as
 * msgpack-RPC servers do); with -v, always the counts. No replies at all is a server
 * that never answers (a sink), not news. Raw chunks are not messages: no counts.
 */
function reportReplies(
  totals: ExchangeTotals,
  framed: boolean,
  address: string,
  flags: SendFlags,
  log: Log,
): void {
  if (!framed) return;
  const { sent, received } = totals;
  log("verbose", `${address}: sent ${plural(sent, "message")}, received ${plural(received, "reply")}`);
  if (received > 0 && received < sent && flags.replies === undefined) {
    log(
      "error",
      `${address}: ${plural(received, "reply")} to ${
        plural(sent, "message")
      }: the server closed the connection before answering the rest` +
        (flags.keepOpen ? "" : " (if it answers only while the connection is open, try --keep-open)"),
    );
  }
}

/** Run `send`; resolves to the exit code. */
export async function send(
  io: Stdio,
  flags: SendFlags,
  addressText: string,
  ...messages: string[]
): Promise<number> {
  const address = parseAddress(addressText);
  const framing = framingFor(address, {
    framing: parseFraming(flags.framing ?? DEFAULT_FRAMING),
    given: flags.framing !== undefined,
    flag: "-f",
  });
  const encoding = parseEncoding(flags.encoding);
  const codec = await messageCodec(encoding, framing);
  // A datagram service never says it is done: wait for one reply per message, for so long.
  const datagrams = isDatagram(address) && !flags.noReply;
  const timeout = flags.timeout ?? (datagrams ? DATAGRAM_REPLY_TIMEOUT : undefined);
  const timeoutMs = timeout === undefined ? undefined : parseDuration(timeout);
  const waitMs = flags.wait === undefined ? 0 : parseDuration(flags.wait);
  const idleMs = idleTimeoutMs(flags);
  const fromStdin = messages.length === 0 || (messages.length === 1 && messages[0] === "-");
  // Text on a wire that carries text (`lines`) passes through as bytes, counted.
  const passText = encoding === "text" && framing.wireIsText === true;
  // Arguments are checked before connecting: bad input never reaches the server.
  const batches = passText && fromStdin ? linesAsWire(io.stdin, flags.maxFrame) : fromStdin
    // A message transport's messages come one per line from stdin, as for `lines`.
    ? stdinMessages(
      io.stdin,
      codec,
      carriesMessages(address) ? "lines" : framing.text,
      encoding,
      flags.maxFrame,
    )
    : [messages.map((message) => codec.parse(message))];

  let conn: Connection | undefined;
  let stdoutClosed = false;
  const print = (bytes: Uint8Array) => {
    try {
      writeAllSync(io.stdout, bytes);
    } catch (error) {
      stdoutClosed = error instanceof Deno.errors.BrokenPipe;
      throw error;
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const { promise: stopped, reject: stop } = Promise.withResolvers<never>();
  if (timeoutMs !== undefined) {
    timer = setTimeout(
      () =>
        stop(
          new TimeoutError(
            `${address.text}: timed out after ${timeout}`,
            datagrams && flags.timeout === undefined
              ? "a datagram service may not answer: --timeout to wait longer, --no-reply not to wait"
              : "raise --timeout",
          ),
        ),
      timeoutMs,
    );
  }
  let idle: IdleTimer | undefined;
  // Any stop signal ends the exchange: the connection is closed, the replies printed so far stay.
  using _signals = trapSignals((signal) => stop(interruption(signal)));
  try {
    const run = async () => {
      const broker = {
        creds: flags.creds,
        timeout: timeoutMs,
        use: flags.noReply ? "publish" as const : "request" as const,
      };
      conn = await connectWithWait(address, waitMs, {
        ...await connectOptions(flags, stderrLog(flags, io.stderr)),
        log: stderrLog(flags, io.stderr),
        broker,
      });
      // The clock starts once connected: --wait bounds the time before.
      if (idleMs !== undefined) {
        const timer = idle = new IdleTimer(idleMs, () => stop(timer.error.on(address.text)));
        conn = timer.watch(conn);
      }
      const totals = await exchange(conn, {
        framing,
        maxFrame: flags.maxFrame,
        batches,
        onReplies: (replies) => print(codec.format(replies)),
        onReplyBytes: passText ? print : undefined,
        replies: flags.replies,
        keepOpen: flags.keepOpen || datagrams,
        noReply: flags.noReply,
      });
      if (!flags.noReply) {
        reportReplies(totals, framing.framed, address.text, flags, stderrLog(flags, io.stderr));
      }
    };
    await Promise.race([run(), stopped]);
  } catch (error) {
    // stdout closed (`ipcat send ... | head -1`): the reader has what it wanted.
    if (!(error instanceof Deno.errors.BrokenPipe && stdoutClosed)) throw error;
  } finally {
    // Touching clearTimeout at all loads Deno's Node timers (~10 ms): only when used.
    if (timer !== undefined) clearTimeout(timer);
    idle?.[Symbol.dispose]();
    conn?.close();
  }
  return 0;
}
