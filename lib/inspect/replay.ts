/**
 * `ipcat replay`: the client side of each recorded connection is sent again to an address,
 * and what it answers is compared with what was recorded, message by message.
 *
 * Events are replayed in file order across all connections: a connection opens when its
 * `open` comes up, and each client message is sent once every reply recorded before it (on
 * any connection) has arrived, or `timeout` passes: that keeps cross-connection order (a
 * SET on #1 before a GET on #2) without guessing delays. With `timing: "recorded"` the
 * recorded gaps (divided by `speed`) are kept instead. At a connection's `close`, its
 * replies are awaited, then it is half-closed and its remaining answer read until EOF.
 *
 * @example A recorded exchange replayed against an echo server
 * ```ts
 * import { listen, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { parseRecording } from "./recording.ts";
 * import { formatDifference, replay } from "./replay.ts";
 *
 * const target = parseAddress(`unix:${await Deno.makeTempDir()}/echo.sock`);
 * const listener = await listen(target);
 * const echoing = (async () => {
 *   const conn = await listener.accept();
 *   const buffer = new Uint8Array(1024);
 *   for (let n; (n = await conn.read(buffer)) !== null;) await conn.write(buffer.subarray(0, n));
 *   conn.close();
 * })();
 * // "hi\n" sent, "hi\n" answered.
 * const recording = parseRecording(
 *   [
 *     '{"t":1,"conn":1,"event":"open"}',
 *     '{"t":2,"conn":1,"event":"data","dir":"c2s","data":"aGkK"}',
 *     '{"t":3,"conn":1,"event":"data","dir":"s2c","data":"aGkK"}',
 *     '{"t":4,"conn":1,"event":"close"}',
 *   ].join("\n"),
 *   "t.jsonl",
 * );
 * const result = await replay(recording, { target, framing: parseFraming("lines"), maxFrame: 1 << 20 });
 * console.log(result.differences.length); // 0: the answer is the recorded one
 * result.differences.forEach((difference) => console.log(formatDifference(difference, true).join("\n")));
 * await echoing;
 * listener.close();
 * ```
 * @module
 */
import { connect as connectTo } from "../address/mod.ts";
import type { Address, Connection } from "../address/types.ts";
import type { Framing } from "../framing/types.ts";
import { writeAll } from "../messages.ts";
import { describe } from "../errors.ts";
import type { Log } from "../log.ts";
import { escapeText, isPrintable } from "./escapes.ts";
import { hexdumpBytes } from "./hexdump.ts";
import { MessageCutter } from "./message_cutter.ts";
import type { RecordedEvent, Recording } from "./recording.ts";

/** Options for {@linkcode replay}. */
export interface ReplayOptions {
  /** The address to replay the client side against. */
  target: Address;
  /** Messages are compared as messages of this framing; raw compares byte streams. */
  framing: Framing;
  /** Largest message `framing` accepts when cutting the answers into messages. */
  maxFrame: number;
  /** Recorded connection ids to replay; all when absent. */
  conns?: readonly number[];
  /** Parts of messages (as Latin-1 text, one character per byte) masked before comparing. */
  ignore?: readonly RegExp[];
  /** `fast`: each message once the replies before it arrived; `recorded`: keep the gaps. */
  timing?: "fast" | "recorded";
  /** Divides recorded gaps. @default {1} */
  speed?: number;
  /** Longest wait for a reply (and for EOF after the half-close), in ms. @default {2000} */
  timeout?: number;
  /** Where progress and connection failures are reported. */
  log?: Log;
  /** How to reach the target. @default {connect} */
  connect?: (address: Address) => Promise<Connection>;
}

/** One way the answer differed from the recording (the first per connection). */
export interface Difference {
  /** The recorded connection id. */
  conn: number;
  /** `s2c` for an answer that differs; `c2s` for a {@linkcode Difference.note}. */
  dir: "c2s" | "s2c";
  /** 1-based message index under a framing; absent for raw, which gives `offset`. */
  index?: number;
  /** Byte offset of the first difference in the stream (raw). */
  offset?: number;
  /** What was recorded / answered at that point; undefined when one side has nothing there. */
  recorded?: Uint8Array;
  /** What the target answered at that point. */
  answered?: Uint8Array;
  /** Something that is not a content difference: the server closed early, a send failed. */
  note?: string;
}

/** What {@linkcode replay} found. */
export interface ReplayResult {
  /** How many connections were replayed. */
  connections: number;
  /** Server messages recorded (reads under raw) for the connections replayed. */
  replies: number;
  /** The first difference of each connection that had one; empty when all answers matched. */
  differences: Difference[];
  /** The recording with the replayed connections' server side as answered (`--update`). */
  updated: RecordedEvent[];
}

const DEFAULT_TIMEOUT = 2000;

/** A replayed connection: what it has answered so far, and a way to wait for more. */
class LiveConnection {
  readonly id: number;
  readonly conn: Connection;
  /** Answered bytes as read: when (replay clock), after which recorded event, what. */
  readonly chunks: { t: number; after: number; bytes: Uint8Array }[] = [];
  received = 0;
  ended = false;
  readonly done: Promise<void>;
  #changed = Promise.withResolvers<void>();

  constructor(id: number, conn: Connection, position: () => number) {
    this.id = id;
    this.conn = conn;
    this.done = this.#read(position);
  }

  async #read(position: () => number): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        this.chunks.push({ t: Date.now(), after: position(), bytes: buffer.slice(0, n) });
        this.received += n;
        this.#wake();
      }
    } catch {
      // A reset or a close by us: the answer is what arrived before it.
    } finally {
      this.ended = true;
      this.#wake();
    }
  }

  #wake(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers();
  }

  /** Resolves at the next read or EOF. */
  get changed(): Promise<void> {
    return this.#changed.promise;
  }
}

/** Resolve when `ready()` holds for every connection in `lives` (or it ended), or after `ms`. */
async function waitUntil(
  lives: Iterable<LiveConnection>,
  ready: (live: LiveConnection) => boolean,
  ms: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let expired = false;
  const deadline = new Promise<void>((resolve) =>
    timer = setTimeout(() => {
      expired = true;
      resolve();
    }, ms)
  );
  try {
    while (!expired) {
      const waiting = [...lives].filter((live) => !live.ended && !ready(live));
      if (waiting.length === 0) return;
      await Promise.race([deadline, ...waiting.map((live) => live.changed)]);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Replay `recording` against `options.target` and compare; a difference is a result, not an error. */
export async function replay(recording: Recording, options: ReplayOptions): Promise<ReplayResult> {
  const { target } = options;
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  const speed = options.speed ?? 1;
  const chosen = new Set(options.conns ?? recording.connections);
  const events = recording.events.filter((e) => chosen.has(e.conn));
  /** Every connection opened; `open` those not yet closed. */
  const all = new Map<number, LiveConnection>();
  const open = new Map<number, LiveConnection>();
  /** Server bytes recorded so far, per connection: what must have arrived before the next send. */
  const expected = new Map<number, number>();
  const notes = new Map<number, string>();
  const closings: Promise<void>[] = [];
  /** Replay clock at each event, to place answered bytes on the recording's clock. */
  const processedAt: number[] = [];
  let position = -1;
  const start = Date.now();
  const t0 = events[0]?.t ?? 0;
  const caughtUp = (live: LiveConnection) => live.received >= (expected.get(live.id) ?? 0);

  const connectAs = async (id: number) => {
    const live = new LiveConnection(id, await (options.connect ?? connectTo)(target), () => position);
    all.set(id, live);
    open.set(id, live);
    options.log?.("verbose", `#${id} connected to ${target.text}`);
    return live;
  };
  const finish = async (live: LiveConnection) => {
    await waitUntil([live], caughtUp, timeout);
    await live.conn.closeWrite().catch(() => {});
    await waitUntil([live], () => false, timeout);
    if (!live.ended) notes.set(live.id, `the server did not close within ${timeout} ms of our half-close`);
    await live.conn.close();
    await live.done;
  };

  try {
    for (const [i, event] of events.entries()) {
      if (options.timing === "recorded") {
        const due = start + (event.t - t0) / speed - Date.now();
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
      }
      position = i;
      processedAt[i] = Date.now();
      const live = open.get(event.conn);
      if (event.event === "open") {
        if (!live && !all.has(event.conn)) await connectAs(event.conn);
      } else if (event.event === "data" && event.dir === "s2c") {
        expected.set(event.conn, (expected.get(event.conn) ?? 0) + event.data.length);
      } else if (event.event === "data") {
        // An old recording may start a connection without its open event.
        const sender = live ?? (all.has(event.conn) ? undefined : await connectAs(event.conn));
        if (options.timing !== "recorded") await waitUntil(open.values(), caughtUp, timeout);
        if (!sender || sender.ended || notes.has(event.conn)) continue;
        try {
          await writeAll(sender.conn, event.data);
        } catch (error) {
          notes.set(event.conn, `the server stopped taking our messages: ${describe(error)}`);
        }
      } else if (live) {
        open.delete(event.conn);
        closings.push(finish(live));
      }
    }
    // Connections the recording never closed (a recording cut short) end here.
    for (const live of open.values()) closings.push(finish(live));
    open.clear();
    await Promise.all(closings);
  } finally {
    for (const live of open.values()) await live.conn.close();
    await Promise.all([...all.values()].map((live) => live.done));
  }

  const differences: Difference[] = [];
  let replies = 0;
  const answeredEvents = new Map<number, RecordedEvent[]>();
  for (const id of recording.connections.filter((c) => chosen.has(c))) {
    const recorded = events.filter((e) => e.conn === id && e.dir === "s2c").map((e) => e.data);
    const live = all.get(id);
    const answered = (live?.chunks ?? []).map((chunk) => ({
      ...chunk,
      // On the recording's clock: the event it followed, plus the time since it was replayed.
      t: events[Math.max(chunk.after, 0)].t + (chunk.t - processedAt[Math.max(chunk.after, 0)]) * speed,
    }));
    const recordedMessages = cut(options, recorded);
    const answeredCuts = cutTimed(options, answered);
    replies += recordedMessages.length;
    answeredEvents.set(
      id,
      answeredCuts.map((
        c,
      ) => ({ t: Math.round(c.t), conn: id, event: "data", dir: "s2c", data: c.wire, after: c.after } as
        & RecordedEvent
        & { after: number })
      ),
    );
    const difference = firstDifference(id, options, recordedMessages, answeredCuts.map((c) => c.message));
    if (difference) differences.push(difference);
    else if (notes.has(id)) differences.push({ conn: id, dir: "c2s", note: notes.get(id) });
  }
  return {
    connections: chosen.size,
    replies,
    differences,
    updated: updatedEvents(recording.events, events, answeredEvents),
  };
}

/** Messages of one direction: the framing's messages, or the whole stream under raw. */
function cut(options: ReplayOptions, wires: Uint8Array[]): Uint8Array[] {
  return cutTimed(options, wires.map((bytes) => ({ t: 0, after: 0, bytes }))).map((c) => c.message);
}

function cutTimed(
  options: ReplayOptions,
  chunks: { t: number; after: number; bytes: Uint8Array }[],
): { t: number; after: number; message: Uint8Array; wire: Uint8Array }[] {
  const cutter = new MessageCutter(options.framing, options.maxFrame);
  const out: { t: number; after: number; message: Uint8Array; wire: Uint8Array }[] = [];
  for (const { t, after, bytes } of chunks) {
    for (const { message, wire } of cutter.push(bytes)) {
      out.push({ t, after, message: message.slice(), wire: wire.slice() });
    }
  }
  const last = chunks.at(-1) ?? { t: 0, after: 0 };
  for (const { message, wire } of cutter.end()) {
    out.push({ ...last, message: message.slice(), wire: wire.slice() });
  }
  return out;
}

const latin1 = new TextDecoder("latin1");

/** A message as Latin-1 text with the ignored parts masked. */
function masked(message: Uint8Array, ignore: readonly RegExp[]): string {
  let text = latin1.decode(message);
  for (const pattern of ignore) text = text.replace(pattern, "\u0000");
  return text;
}

function firstDifference(
  conn: number,
  options: ReplayOptions,
  recorded: Uint8Array[],
  answered: Uint8Array[],
): Difference | undefined {
  const ignore = options.ignore ?? [];
  if (!options.framing.framed) {
    const a = masked(concat(recorded), ignore);
    const b = masked(concat(answered), ignore);
    if (a === b) return undefined;
    let at = 0;
    while (at < a.length && at < b.length && a[at] === b[at]) at++;
    // From the start of the line (or 32 bytes) before the difference: enough to read it in context.
    const lineStart = Math.max(a.lastIndexOf("\n", at - 1) + 1, at - 32);
    const from = Math.max(0, lineStart);
    const window = (text: string) =>
      text.length > from ? Uint8Array.from(text.slice(from, from + 256), (c) => c.charCodeAt(0)) : undefined;
    return { conn, dir: "s2c", offset: at, recorded: window(a), answered: window(b) };
  }
  const n = Math.max(recorded.length, answered.length);
  for (let i = 0; i < n; i++) {
    const r = recorded[i], a = answered[i];
    if (r && a && masked(r, ignore) === masked(a, ignore)) continue;
    return { conn, dir: "s2c", index: i + 1, recorded: r, answered: a };
  }
  return undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The whole recording with each replayed connection's server events replaced by what was
 * answered, each placed after the recorded event it followed.
 */
function updatedEvents(
  all: RecordedEvent[],
  replayed: RecordedEvent[],
  answered: Map<number, (RecordedEvent & { after?: number })[]>,
): RecordedEvent[] {
  const after = new Map<RecordedEvent, RecordedEvent[]>();
  const before: RecordedEvent[] = [];
  for (const list of answered.values()) {
    for (const event of list) {
      const anchor = replayed[event.after ?? -1];
      const { after: _, ...plain } = event;
      if (!anchor) before.push(plain);
      else after.set(anchor, [...(after.get(anchor) ?? []), plain]);
    }
  }
  const out: RecordedEvent[] = [...before];
  for (const event of all) {
    const isReplayedReply = answered.has(event.conn) && event.event === "data" && event.dir === "s2c";
    if (!isReplayedReply) out.push(event);
    out.push(...(after.get(event) ?? []));
  }
  // Answers that arrived after the connection's recorded close still belong before it.
  return sortClosesLast(out);
}

function sortClosesLast(events: RecordedEvent[]): RecordedEvent[] {
  const last = new Map<number, number>();
  events.forEach((event, i) => event.event !== "close" && last.set(event.conn, i));
  const deferred = new Map<number, RecordedEvent[]>();
  const out: RecordedEvent[] = [];
  events.forEach((event, i) => {
    const at = last.get(event.conn) ?? -1;
    if (event.event === "close" && at > i) deferred.set(at, [...(deferred.get(at) ?? []), event]);
    else out.push(event);
    out.push(...(deferred.get(i) ?? []));
  });
  return out;
}

/** Lines of a readable diff, like inspect's view: text when printable, else a hexdump. */
export function formatDifference(difference: Difference, framed: boolean): string[] {
  const { conn, dir, index, offset, recorded, answered, note } = difference;
  const arrow = dir === "c2s" ? ">" : "<";
  if (note) return [`#${conn} ${arrow} ${note}`];
  const where = framed ? `message ${index}` : `byte ${offset}`;
  const what = recorded === undefined
    ? "answered but not recorded"
    : answered === undefined
    ? "recorded but not answered"
    : "differs";
  const lines = [`#${conn} ${arrow} ${where} ${what}`];
  const show = (label: string, bytes: Uint8Array | undefined) => {
    if (bytes === undefined) return lines.push(`  ${label} (nothing)`);
    const shown = bytes.subarray(0, 1024);
    const more = bytes.length > shown.length ? ` … (${bytes.length - shown.length} more bytes)` : "";
    if (isPrintable(shown)) return lines.push(`  ${label} ${escapeText(shown)}${more}`);
    lines.push(`  ${label} ${bytes.length}B${more}`);
    lines.push(...latin1.decode(hexdumpBytes(shown, { indent: 4 })).trimEnd().split("\n"));
  };
  show("recorded:", recorded);
  show("answered:", answered);
  return lines;
}
