/**
 * Differential fuzzer: every framing's streaming decoder, and inspect's message cutter,
 * against independent reference decoders written here as simple whole-buffer parsers.
 *
 * Inputs are random valid streams (non-canonical headers included), random mutations of
 * them and random junk; each is fed to the real decoder under a random chunking (one byte
 * per push included) with a random --max-frame, and must give the same messages, the same
 * error and the same error offset as the reference. The cutter must cut each message with
 * exactly the wire bytes the reference says carried it.
 *
 * ```sh
 * make fuzz SECONDS=600                                           # long run
 * deno run -A tests/fuzz/differential.ts --seed 1234 --cases 1   # replay one failure
 * ```
 * @module
 */
import { DEFAULT_MAX_FRAME, type Framing, parseFraming } from "../../lib/framing/mod.ts";
import { FrameError } from "../../lib/errors.ts";
import { MessageCutter } from "../../lib/inspect/message_cutter.ts";
import { LineCounter } from "../../lib/framing/lines.ts";

/** Every framing with a decoder worth comparing (raw has no boundaries to get wrong). */
export const FUZZED = [
  "lines",
  "length",
  "length:u8",
  "length:u16be",
  "length:u16le",
  "length:u32le",
  "length:u64be",
  "length:u64le",
  "length:varint",
  "netstring",
  "msgpack",
] as const;

/** What a decoder makes of a whole stream: messages with their wire sizes, then maybe an error. */
export interface Decoded {
  messages: Uint8Array[];
  /** Wire bytes of each message (header, delimiter, trailer included). */
  wires: number[];
  /** Stream offset of the error, or null when the stream decoded cleanly. */
  error: number | null;
}

/** Thrown inside the references: the stream is bad at `offset`. */
class Bad {
  constructor(readonly offset: number) {}
}

// ---------------------------------------------------------------------------------------
// Reference decoders: whole buffer in, no streaming, written from the formats' definitions.

function referenceLines(bytes: Uint8Array, max: number, out: Decoded) {
  let pos = 0;
  while (pos < bytes.length) {
    let end = pos;
    while (end < bytes.length && bytes[end] !== 0x0a) end++;
    if (end - pos > max) throw new Bad(pos);
    const delimited = end < bytes.length;
    out.messages.push(bytes.slice(pos, end));
    out.wires.push(end - pos + (delimited ? 1 : 0));
    pos = delimited ? end + 1 : end;
  }
}

function referenceLength(bytes: Uint8Array, max: number, out: Decoded, width: number, little: boolean) {
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < width) throw new Bad(pos);
    let size = 0n;
    for (let i = 0; i < width; i++) {
      size |= BigInt(bytes[pos + i]) << BigInt(8 * (little ? i : width - 1 - i));
    }
    frame(bytes, max, out, pos, width, size, 0);
    pos += width + Number(size);
  }
}

function referenceVarint(bytes: Uint8Array, max: number, out: Decoded) {
  let pos = 0;
  while (pos < bytes.length) {
    let size = 0n;
    let headerLength = 0;
    for (let i = 0;; i++) {
      if (i === 10) throw new Bad(pos);
      if (pos + i >= bytes.length) throw new Bad(pos);
      size |= BigInt(bytes[pos + i] & 0x7f) << BigInt(7 * i);
      if ((bytes[pos + i] & 0x80) === 0) {
        headerLength = i + 1;
        break;
      }
    }
    frame(bytes, max, out, pos, headerLength, size, 0);
    pos += headerLength + Number(size);
  }
}

function referenceNetstring(bytes: Uint8Array, max: number, out: Decoded) {
  let pos = 0;
  while (pos < bytes.length) {
    let end = pos;
    const digit = (b: number) => b >= 0x30 && b <= 0x39;
    while (end < bytes.length && digit(bytes[end])) {
      end++;
      if (end - pos > 16) throw new Bad(pos);
    }
    if (end === bytes.length) throw new Bad(pos);
    if (bytes[end] !== 0x3a) throw new Bad(end);
    if (end === pos) throw new Bad(pos);
    if (bytes[pos] === 0x30 && end - pos > 1) throw new Bad(pos);
    const size = BigInt(new TextDecoder().decode(bytes.subarray(pos, end)));
    const headerLength = end - pos + 1;
    frame(bytes, max, out, pos, headerLength, size, 1);
    pos += headerLength + Number(size) + 1;
  }
}

/** A header-delimited frame at `pos`: oversize, truncated, a bad `,` trailer, or a message. */
function frame(
  bytes: Uint8Array,
  max: number,
  out: Decoded,
  pos: number,
  headerLength: number,
  size: bigint,
  trailer: number,
) {
  if (size > BigInt(max)) throw new Bad(pos);
  const end = pos + headerLength + Number(size) + trailer;
  if (end > bytes.length) throw new Bad(pos);
  if (trailer && bytes[end - 1] !== 0x2c) throw new Bad(end - 1);
  out.messages.push(bytes.slice(pos + headerLength, pos + headerLength + Number(size)));
  out.wires.push(end - pos);
}

/** MessagePack item header: bytes before the payload, payload bytes, child items. */
function msgpackHeader(
  bytes: Uint8Array,
  pos: number,
): [header: number, payload: number, children: number] | null {
  const b = bytes[pos];
  const be = (n: number) => {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (bytes[pos + 1 + i] ?? 0);
    return v;
  };
  if (b < 0x80 || b >= 0xe0) return [1, 0, 0];
  if (b < 0x90) return [1, 0, 2 * (b - 0x80)];
  if (b < 0xa0) return [1, 0, b - 0x90];
  if (b < 0xc0) return [1, b - 0xa0, 0];
  if (b === 0xc0 || b === 0xc2 || b === 0xc3) return [1, 0, 0];
  if (b === 0xc1) return null;
  if (b >= 0xc4 && b <= 0xc6) return [1 + 2 ** (b - 0xc4), be(2 ** (b - 0xc4)), 0]; // bin
  if (b >= 0xc7 && b <= 0xc9) return [2 + 2 ** (b - 0xc7), be(2 ** (b - 0xc7)), 0]; // ext
  if (b === 0xca || b === 0xcb) return [b === 0xca ? 5 : 9, 0, 0]; // float
  if (b >= 0xcc && b <= 0xcf) return [1 + 2 ** (b - 0xcc), 0, 0]; // uint
  if (b >= 0xd0 && b <= 0xd3) return [1 + 2 ** (b - 0xd0), 0, 0]; // int
  if (b >= 0xd4 && b <= 0xd8) return [2 + 2 ** (b - 0xd4), 0, 0]; // fixext
  if (b >= 0xd9 && b <= 0xdb) return [1 + 2 ** (b - 0xd9), be(2 ** (b - 0xd9)), 0]; // str
  if (b === 0xdc || b === 0xdd) return [b === 0xdc ? 3 : 5, 0, be(b === 0xdc ? 2 : 4)]; // array
  return [b === 0xde ? 3 : 5, 0, 2 * be(b === 0xde ? 2 : 4)]; // map
}

function referenceMsgpack(bytes: Uint8Array, max: number, out: Decoded) {
  /** One item at `pos` of the value starting at `start`, with `owed` items still to come after it. */
  const item = (pos: number, start: number, owed: number): number => {
    if (pos >= bytes.length) throw new Bad(start);
    const shape = msgpackHeader(bytes, pos);
    if (!shape) throw new Bad(pos);
    const [header, payload, children] = shape;
    if (pos + header > bytes.length) throw new Bad(start);
    // Every item still owed takes at least a byte: a value is refused as soon as it must be too big.
    if (pos + header - start + payload + children + owed > max) throw new Bad(start);
    pos += header + payload;
    if (pos > bytes.length) throw new Bad(start);
    for (let i = 0; i < children; i++) pos = item(pos, start, owed + children - 1 - i);
    return pos;
  };
  let pos = 0;
  while (pos < bytes.length) {
    const end = item(pos, pos, 0);
    out.messages.push(bytes.slice(pos, end));
    out.wires.push(end - pos);
    pos = end;
  }
}

/** The reference decoding of a whole stream under `framing`. */
export function reference(framing: string, bytes: Uint8Array, maxFrame: number): Decoded {
  const out: Decoded = { messages: [], wires: [], error: null };
  const widths: Record<string, [number, boolean]> = {
    length: [4, false],
    "length:u8": [1, false],
    "length:u16be": [2, false],
    "length:u16le": [2, true],
    "length:u32be": [4, false],
    "length:u32le": [4, true],
    "length:u64be": [8, false],
    "length:u64le": [8, true],
  };
  try {
    if (framing === "lines") referenceLines(bytes, maxFrame, out);
    else if (framing === "netstring") referenceNetstring(bytes, maxFrame, out);
    else if (framing === "msgpack") referenceMsgpack(bytes, maxFrame, out);
    else if (framing === "length:varint") referenceVarint(bytes, maxFrame, out);
    else referenceLength(bytes, maxFrame, out, ...widths[framing]);
  } catch (error) {
    if (!(error instanceof Bad)) throw error;
    out.error = error.offset;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The real decoders, fed chunk by chunk.

/** Feed `chunks` to a fresh decoder; each chunk is scribbled over after its push, as a reused read buffer would be. */
export function streaming(framing: Framing, chunks: readonly Uint8Array[], maxFrame: number): Decoded {
  const decoder = framing.decoder(maxFrame);
  const wires = decoder.recordWireLengths();
  const out: Decoded = { messages: [], wires: [], error: null };
  const take = (messages: Uint8Array[]) => {
    for (const m of messages) out.messages.push(m.slice());
    out.wires.push(...wires);
    wires.length = 0;
  };
  // The messages before bad bytes are appended before the throw: taken in the catch.
  let batch: Uint8Array[] = [];
  try {
    for (const chunk of chunks) {
      const buffer = chunk.slice();
      decoder.push(buffer, batch = []);
      take(batch);
      buffer.fill(0xee);
    }
    decoder.end(batch = []);
    take(batch);
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    take(batch);
    out.error = error.offset ?? -1;
  }
  return out;
}

/** Inspect's cutter over the same chunks: its messages, the wire bytes of each, and its error. */
export function cutting(framing: Framing, chunks: readonly Uint8Array[], maxFrame: number) {
  const cutter = new MessageCutter(framing, maxFrame);
  const cuts: { message: Uint8Array; wire: Uint8Array }[] = [];
  let error: FrameError | null = null;
  const take = (batch: { message: Uint8Array; wire: Uint8Array }[]) => {
    for (const c of batch) cuts.push({ message: c.message.slice(), wire: c.wire.slice() });
    error ??= cutter.takeError();
  };
  for (const chunk of chunks) {
    const buffer = chunk.slice();
    take(cutter.push(buffer));
    buffer.fill(0xee);
  }
  take(cutter.end());
  return { cuts, error: error === null ? null : (error as FrameError).offset ?? -1 };
}

/**
 * `send`'s line pass-through over the same chunks: the bytes it lets through, its count and
 * its error. It must let through each line the reference decodes, with its `\n`.
 */
export function counting(chunks: readonly Uint8Array[], maxFrame: number) {
  const counter = new LineCounter({ maxLine: maxFrame });
  const through: Uint8Array[] = [];
  let error: number | null = null;
  let out: Uint8Array[] = [];
  try {
    for (const chunk of chunks) {
      const buffer = chunk.slice();
      counter.push(buffer, out = []);
      through.push(...out.map((bytes) => bytes.slice()));
      buffer.fill(0xee);
    }
    counter.end(out = []);
    through.push(...out);
  } catch (caught) {
    if (!(caught instanceof FrameError)) throw caught;
    through.push(...out.map((bytes) => bytes.slice()));
    error = caught.offset ?? -1;
  }
  return { bytes: concat(through), count: counter.count, error };
}

// ---------------------------------------------------------------------------------------
// Inputs.

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(items.length)],
    bytes(n: number, alphabet?: readonly number[]) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = alphabet ? alphabet[int(alphabet.length)] : int(256);
      return out;
    },
  };
}
type Rng = ReturnType<typeof prng>;

function concat(parts: readonly (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => p instanceof Uint8Array ? p : Uint8Array.from(p));
  const out = new Uint8Array(arrays.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of arrays) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function bigEndian(n: number, width: number): number[] {
  return Array.from({ length: width }, (_, i) => Math.floor(n / 256 ** (width - 1 - i)) % 256);
}

/** A random valid MessagePack value, wide encodings of small lengths included. */
function msgpackValue(rng: Rng, depth: number): Uint8Array {
  const kind = rng.int(depth > 3 ? 6 : 9);
  const n = rng.int(rng.chance(0.1) ? 300 : 6);
  switch (kind) {
    case 0:
      return Uint8Array.from([rng.pick([0x00, 0x7f, 0xe0, 0xff, 0xc0, 0xc2, 0xc3, rng.int(128)])]);
    case 1: {
      const marker = rng.pick([0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3]);
      const size = [5, 9, 2, 3, 5, 9, 2, 3, 5, 9][
        [0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3]
          .indexOf(marker)
      ];
      return concat([[marker], rng.bytes(size - 1)]);
    }
    case 2: // str
      if (n < 32 && rng.chance(0.5)) return concat([[0xa0 + n], rng.bytes(n)]);
      return concat([
        rng.pick([[0xd9, ...bigEndian(n, 1)], [0xda, ...bigEndian(n, 2)], [0xdb, ...bigEndian(n, 4)]])
          .filter((_, i, a) => a.length > 1 || i === 0),
        rng.bytes(n),
      ]).subarray(0) as Uint8Array;
    case 3: // bin
      return concat([
        rng.pick([[0xc4, ...bigEndian(n, 1)], [0xc5, ...bigEndian(n, 2)], [0xc6, ...bigEndian(n, 4)]]),
        rng.bytes(n),
      ]);
    case 4: // ext
      if (rng.chance(0.5)) {
        const k = rng.int(5);
        return concat([[0xd4 + k, rng.int(256)], rng.bytes(2 ** k)]);
      }
      return concat([
        rng.pick([[0xc7, ...bigEndian(n, 1)], [0xc8, ...bigEndian(n, 2)], [0xc9, ...bigEndian(n, 4)]]),
        [
          rng.int(256),
        ],
        rng.bytes(n),
      ]);
    case 5:
      return Uint8Array.from([rng.int(128)]);
    default: { // array or map
      const count = rng.int(5);
      const map = rng.chance(0.5);
      const children = Array.from({ length: map ? 2 * count : count }, () => msgpackValue(rng, depth + 1));
      const header = count < 16 && rng.chance(0.6)
        ? [(map ? 0x80 : 0x90) + count]
        : rng.chance(0.5)
        ? [map ? 0xde : 0xdc, ...bigEndian(count, 2)]
        : [map ? 0xdf : 0xdd, ...bigEndian(count, 4)];
      return concat([header, ...children]);
    }
  }
}

/** A valid stream of random messages; varint headers sometimes padded (non-canonical). */
function validStream(framing: string, rng: Rng): Uint8Array {
  const count = rng.int(6);
  if (framing === "msgpack") return concat(Array.from({ length: count }, () => msgpackValue(rng, 0)));
  const messages = Array.from({ length: count }, () => {
    const size = rng.chance(0.1) ? rng.int(1000) : rng.int(20);
    return framing === "lines" ? rng.bytes(size, [0x41, 0x0d, 0x00, 0xff, 0x20]) : rng.bytes(size);
  });
  if (framing !== "length:varint") {
    const real = parseFraming(framing);
    const fits = framing === "length:u8" ? messages.map((m) => m.subarray(0, 255)) : messages;
    return real.encode(fits);
  }
  return concat(messages.flatMap((m) => {
    const header: number[] = [];
    let n = m.length;
    do {
      header.push((n & 0x7f) | 0x80);
      n >>>= 7;
    } while (n > 0);
    const pad = rng.chance(0.3) ? rng.int(10 - header.length) : 0;
    for (let i = 0; i < pad; i++) header.push(0x80);
    if (pad > 0) header.push(0x00);
    header[header.length - 1] &= 0x7f;
    return [header, m];
  }));
}

function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  const out = [...bytes];
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const at = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0:
        if (out.length) out[at % out.length] = rng.int(256);
        break;
      case 1:
        out.splice(at, 0, rng.pick([0x00, 0x0a, 0x3a, 0x2c, 0x30, 0x80, 0xc1, 0xff, rng.int(256)]));
        break;
      case 2:
        out.splice(at, 1 + rng.int(3));
        break;
      case 3:
        out.length = at;
        break;
    }
  }
  return Uint8Array.from(out);
}

/** Junk that is likely to look almost right to `framing`. */
function junk(framing: string, rng: Rng): Uint8Array {
  const alphabet = framing === "netstring"
    ? [0x30, 0x31, 0x32, 0x39, 0x3a, 0x2c, 0x41]
    : framing === "lines"
    ? [0x0a, 0x41]
    : rng.chance(0.5)
    ? [0x00, 0x01, 0x02, 0x80, 0x81, 0xff, 0x90, 0x91, 0xa1, 0xc1, 0xdc, 0xdd]
    : undefined;
  return rng.bytes(rng.int(64), alphabet);
}

/** Split `bytes` into chunks: one byte each, random sizes, or whole. */
function chunking(bytes: Uint8Array, rng: Rng): Uint8Array[] {
  const mode = rng.int(4);
  if (mode === 0) return [...bytes].map((b) => Uint8Array.of(b));
  if (mode === 1) return [bytes];
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + rng.int(mode === 2 ? 4 : 64);
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  if (rng.chance(0.2)) chunks.splice(rng.int(chunks.length + 1), 0, new Uint8Array(0));
  return chunks;
}

// ---------------------------------------------------------------------------------------
// The comparison.

/** One input the decoders disagreed on, with everything needed to replay it. */
export interface Failure {
  seed: number;
  framing: string;
  maxFrame: number;
  input: string;
  chunks: number[];
  why: string;
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Compare decoder and cutter with the reference on one input; the reason they differ, or null. */
export function compare(
  framing: Framing,
  name: string,
  chunks: Uint8Array[],
  maxFrame: number,
): string | null {
  const input = concat(chunks);
  const want = reference(name, input, maxFrame);
  const got = streaming(framing, chunks, maxFrame);
  const show = (d: Decoded) => `${d.messages.length} messages, error ${d.error}`;
  if (
    got.messages.length !== want.messages.length || !got.messages.every((m, i) => same(m, want.messages[i]))
  ) {
    return `decoder messages differ: decoder ${show(got)}; reference ${show(want)}`;
  }
  if ((got.error === null) !== (want.error === null)) {
    return `error differs: decoder ${show(got)}; reference ${show(want)}`;
  }
  if (got.error !== want.error) return `error offset differs: decoder ${got.error}, reference ${want.error}`;
  if (got.wires.join() !== want.wires.join()) {
    return `wire lengths differ: decoder ${got.wires}, reference ${want.wires}`;
  }
  const cut = cutting(framing, chunks, maxFrame);
  if (!same(concat(cut.cuts.map((c) => c.wire)), input)) {
    return "cutter wire bytes do not add up to the stream";
  }
  let at = 0;
  for (const [i, message] of want.messages.entries()) {
    const c = cut.cuts[i];
    if (!c || !same(c.message, message)) return `cutter message ${i} differs from the decoder's`;
    if (!same(c.wire, input.subarray(at, at + want.wires[i]))) return `cutter wire of message ${i} differs`;
    at += want.wires[i];
  }
  if (cut.error !== want.error) return `cutter error ${cut.error}, reference ${want.error}`;
  if (want.error === null && cut.cuts.length !== want.messages.length) return "cutter made extra cuts";
  if (name === "lines") {
    const counted = counting(chunks, maxFrame);
    const lines = concat(want.messages.flatMap((m) => [m, [0x0a]]));
    if (!same(counted.bytes, lines)) return "line counter let through other bytes than the reference's lines";
    if (counted.count !== want.messages.length) {
      return `line counter counted ${counted.count}, reference ${want.messages.length}`;
    }
    if (counted.error !== want.error) return `line counter error ${counted.error}, reference ${want.error}`;
  }
  return null;
}

/** Options for {@linkcode fuzz}. */
export interface FuzzOptions {
  /** Stop after this long (default: after `cases`). */
  seconds?: number;
  /** Stop after this many inputs. */
  cases?: number;
  /** First case's seed; case i uses seed + i. */
  seed?: number;
  /** Framings by name, to fuzz a stand-in (the fuzzer's own test plants a bug this way). */
  framings?: Partial<Record<string, Framing>>;
}

/** Run the fuzzer; returns how many inputs were tried and the failures. */
export function fuzz(options: FuzzOptions): { tried: number; failures: Failure[] } {
  const base = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const deadline = options.seconds === undefined ? Infinity : Date.now() + options.seconds * 1000;
  const cases = options.cases ?? (options.seconds === undefined ? 1000 : Infinity);
  const failures: Failure[] = [];
  let tried = 0;
  for (; tried < cases && Date.now() < deadline; tried++) {
    const seed = (base + tried) >>> 0;
    const rng = prng(seed);
    const name = rng.pick(FUZZED);
    const framing = options.framings?.[name] ?? parseFraming(name);
    const maxFrame = rng.pick([rng.int(8), rng.int(64), rng.int(2000), DEFAULT_MAX_FRAME]);
    const kind = rng.int(3);
    const input = kind === 0
      ? validStream(name, rng)
      : kind === 1
      ? mutate(validStream(name, rng), rng)
      : junk(name, rng);
    const chunks = chunking(input, rng);
    let why: string | null;
    try {
      why = compare(framing, name, chunks, maxFrame);
    } catch (error) {
      why = `threw ${error instanceof Error ? error.stack : error}`;
    }
    if (why) {
      failures.push({
        seed,
        framing: name,
        maxFrame,
        input: input.toHex(),
        chunks: chunks.map((c) => c.length),
        why,
      });
    }
  }
  return { tried, failures };
}

/** One line per failure, with the command that replays it. */
export function describe(failure: Failure): string {
  return `FAIL seed=${failure.seed} -f ${failure.framing} --max-frame ${failure.maxFrame}: ${failure.why}\n` +
    `  input ${failure.input || "(empty)"} chunks [${failure.chunks}]\n` +
    `  replay: deno run -A tests/fuzz/differential.ts --seed ${failure.seed} --cases 1`;
}

if (import.meta.main) {
  const print = (line: string) => Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
  const flag = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  };
  const seed = flag("seed") ?? Math.floor(Math.random() * 2 ** 31);
  const seconds = flag("seconds");
  const cases = flag("cases");
  print(`fuzzing ${FUZZED.length} framings, seed ${seed}, ${seconds ?? "-"} s, ${cases ?? "-"} cases`);
  const { tried, failures } = fuzz({
    seed,
    seconds,
    cases: cases ?? (seconds === undefined ? 10_000 : undefined),
  });
  for (const failure of failures.slice(0, 20)) print(describe(failure));
  print(`${tried} inputs tried, ${failures.length} failures`);
  Deno.exit(failures.length ? 1 : 0);
}
