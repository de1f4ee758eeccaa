/**
 * `msgpack`: one MessagePack value per message, cut by scanning the values themselves.
 *
 * @module
 */
import { FrameError } from "../errors.ts";
import { concatBytes, PendingBytes } from "./_bytes.ts";
import type { FrameDecoder, Framing, FramingFamily } from "./types.ts";

/**
 * Size of the MessagePack item starting with `byte`: header bytes, how many more header
 * bytes hold a length, and how many child items it opens. Returns null for 0xc1.
 */
function itemShape(byte: number): [fixed: number, lengthBytes: number, kind: Kind] | null {
  if (byte <= 0x7f || byte >= 0xe0) return [1, 0, Kind.Scalar];
  if (byte <= 0x8f) return [1, 0, Kind.FixMap];
  if (byte <= 0x9f) return [1, 0, Kind.FixArray];
  if (byte <= 0xbf) return [1, 0, Kind.FixStr];
  switch (byte) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return [1, 0, Kind.Scalar];
    case 0xc4:
    case 0xd9:
      return [1, 1, Kind.Payload];
    case 0xc5:
    case 0xda:
      return [1, 2, Kind.Payload];
    case 0xc6:
    case 0xdb:
      return [1, 4, Kind.Payload];
    // ext 8/16/32: marker, length, then a type byte before the payload.
    case 0xc7:
      return [1, 1, Kind.Ext];
    case 0xc8:
      return [1, 2, Kind.Ext];
    case 0xc9:
      return [1, 4, Kind.Ext];
    case 0xca:
      return [5, 0, Kind.Scalar];
    case 0xcb:
      return [9, 0, Kind.Scalar];
    case 0xcc:
    case 0xd0:
      return [2, 0, Kind.Scalar];
    case 0xcd:
    case 0xd1:
      return [3, 0, Kind.Scalar];
    case 0xce:
    case 0xd2:
      return [5, 0, Kind.Scalar];
    case 0xcf:
    case 0xd3:
      return [9, 0, Kind.Scalar];
    case 0xd4:
      return [3, 0, Kind.Scalar];
    case 0xd5:
      return [4, 0, Kind.Scalar];
    case 0xd6:
      return [6, 0, Kind.Scalar];
    case 0xd7:
      return [10, 0, Kind.Scalar];
    case 0xd8:
      return [18, 0, Kind.Scalar];
    case 0xdc:
      return [1, 2, Kind.Array];
    case 0xdd:
      return [1, 4, Kind.Array];
    case 0xde:
      return [1, 2, Kind.Map];
    case 0xdf:
      return [1, 4, Kind.Map];
  }
  return null;
}

const enum Kind {
  Scalar,
  FixStr,
  FixArray,
  FixMap,
  Payload,
  Ext,
  Array,
  Map,
}

/**
 * Does the MessagePack value at the start of `bytes` have at most `maxItems` items (every
 * value, map key and element counts) nested at most `maxDepth` deep? Scanned without
 * decoding, and stops as soon as either bound is passed, so it costs O(min(n, maxItems)).
 * Malformed or truncated bytes count as within bounds: the decoder reports them.
 */
export function msgpackWithin(bytes: Uint8Array, maxItems: number, maxDepth: number): boolean {
  /** Items still owed by each open array/map, innermost last. */
  const open: number[] = [];
  let items = 0;
  let at = 0;
  do {
    if (at >= bytes.length) return true;
    const byte = bytes[at];
    const shape = itemShape(byte);
    if (!shape) return true;
    const [fixed, lengthBytes, kind] = shape;
    if (++items > maxItems) return false;
    if (open.length > 0) open[open.length - 1]--;
    let n = 0;
    for (let i = 0; i < lengthBytes; i++) n = n * 256 + (bytes[at + fixed + i] ?? 0);
    at += fixed + lengthBytes;
    let children = 0;
    switch (kind) {
      case Kind.FixStr:
        at += byte & 0x1f;
        break;
      case Kind.Payload:
        at += n;
        break;
      case Kind.Ext:
        at += 1 + n;
        break;
      case Kind.FixArray:
        children = byte & 0x0f;
        break;
      case Kind.FixMap:
        children = 2 * (byte & 0x0f);
        break;
      case Kind.Array:
        children = n;
        break;
      case Kind.Map:
        children = 2 * n;
        break;
    }
    if (children > 0) {
      if (open.length >= maxDepth) return false;
      open.push(children);
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
  } while (open.length > 0);
  return true;
}

/**
 * Finds the boundaries of MessagePack values in a byte stream without decoding them: each
 * message is the bytes of exactly one value. Works item by item, so a value split across
 * any number of chunks is scanned once.
 *
 * @example
 * ```ts
 * import { MsgpackDecoder } from "./msgpack.ts";
 *
 * const out: Uint8Array[] = [];
 * new MsgpackDecoder(1024).push(new Uint8Array([0x92, 0x01, 0x02, 0xc0]), out); // out.length === 2
 * ```
 */
export class MsgpackDecoder implements FrameDecoder {
  #maxFrame: number;
  /** Items still to scan before the current value is complete (0 = between values). */
  #remaining = 0;
  /** Payload bytes still to skip for the current str/bin/ext item. */
  #skip = 0;
  /** Bytes of the current value from earlier chunks. */
  #parts = new PendingBytes();
  /** An item header cut by the chunk end. */
  #stash: Uint8Array | null = null;
  #offset = 0;
  #valueStart = 0;
  #wires: number[] | null = null;

  /** `maxFrame`: largest encoded value accepted, in bytes. */
  constructor(maxFrame: number) {
    this.#maxFrame = maxFrame;
  }

  push(chunk: Uint8Array, out: Uint8Array[]): void {
    let buf = chunk;
    if (this.#stash) {
      buf = concatBytes([this.#stash, chunk]);
      this.#stash = null;
    }
    let start = 0; // where the current value starts in buf (0 if it began earlier)
    let at = 0;
    while (true) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length - at);
        this.#skip -= n;
        at += n;
        if (this.#skip > 0) break;
        if (this.#remaining === 0) {
          out.push(this.#finish(buf, start, at));
          start = at;
        }
        continue;
      }
      if (at >= buf.length) break;
      if (this.#remaining === 0) {
        this.#remaining = 1;
        this.#valueStart = this.#offset + at;
        start = at;
      }
      const byte = buf[at];
      const shape = itemShape(byte);
      if (!shape) {
        throw new FrameError("Malformed MessagePack: byte 0xc1 is never used", this.#offset + at)
          .near(buf.subarray(at));
      }
      const [fixed, lengthBytes, kind] = shape;
      const headerLength = fixed + lengthBytes + (kind === Kind.Ext ? 1 : 0);
      if (buf.length - at < headerLength) {
        this.#stash = buf.slice(at);
        this.#keep(buf.subarray(start, at));
        this.#offset += at;
        return;
      }
      let n = 0;
      for (let i = 0; i < lengthBytes; i++) n = n * 256 + buf[at + fixed + i];
      this.#remaining -= 1;
      switch (kind) {
        case Kind.FixStr:
          this.#skip = byte & 0x1f;
          break;
        case Kind.FixArray:
          this.#remaining += byte & 0x0f;
          break;
        case Kind.FixMap:
          this.#remaining += 2 * (byte & 0x0f);
          break;
        case Kind.Payload:
        case Kind.Ext:
          this.#skip = n;
          break;
        case Kind.Array:
          this.#remaining += n;
          break;
        case Kind.Map:
          this.#remaining += 2 * n;
          break;
      }
      at += headerLength;
      this.#checkSize(at - start + this.#skip + this.#remaining);
      if (this.#skip === 0 && this.#remaining === 0) {
        out.push(this.#finish(buf, start, at));
        start = at;
      }
    }
    if (this.#remaining > 0 || this.#skip > 0) this.#keep(buf.subarray(start, at));
    this.#offset += buf.length;
  }

  end(_out: Uint8Array[]): void {
    if (this.#remaining > 0 || this.#skip > 0 || this.#stash) {
      throw new FrameError("Truncated MessagePack value at EOF", this.#valueStart);
    }
  }

  recordWireLengths(): number[] {
    return this.#wires ??= [];
  }

  #keep(bytes: Uint8Array) {
    if (bytes.length > 0) this.#parts.append(bytes, this.#maxFrame);
  }

  #finish(buf: Uint8Array, start: number, end: number): Uint8Array {
    this.#wires?.push(this.#parts.length + end - start);
    if (this.#parts.length === 0) return buf.subarray(start, end);
    return this.#parts.take(buf.subarray(start, end));
  }

  #checkSize(atLeast: number) {
    // Every pending item takes at least one byte, so this bounds the value early.
    if (this.#parts.length + atLeast > this.#maxFrame) {
      throw new FrameError(
        `MessagePack value exceeds --max-frame ${this.#maxFrame}`,
        this.#valueStart,
        "raise --max-frame",
      );
    }
  }
}

/** How many MessagePack values `bytes` holds, or -1 when they are not whole values. */
function valueCount(bytes: Uint8Array): number {
  const decoder = new MsgpackDecoder(Number.MAX_SAFE_INTEGER);
  const values: Uint8Array[] = [];
  try {
    decoder.push(bytes, values);
    decoder.end(values);
  } catch {
    return -1;
  }
  return values.length;
}

const msgpack: Framing = {
  name: "msgpack",
  framed: true,
  text: "json",
  replyOverhead: 0,
  decoder: (maxFrame) => new MsgpackDecoder(maxFrame),
  encode: (messages) => concatBytes(messages),
  check(message) {
    const values = new MsgpackDecoder(Number.MAX_SAFE_INTEGER);
    const out: Uint8Array[] = [];
    values.push(message, out);
    values.end(out);
    if (out.length !== 1) {
      throw new FrameError(
        `Message is ${out.length} MessagePack values, not one`,
        undefined,
        "send one value per message",
      );
    }
  },
  reply(output, maxFrame) {
    if (output.length > maxFrame) return null;
    // Self-delimiting: anything but exactly one value would desynchronise the client.
    if (valueCount(output) !== 1) throw new FrameError("not exactly one MessagePack value");
    return output;
  },
};

/** The `msgpack` framing family. */
export const msgpackFamily: FramingFamily = {
  name: "msgpack",
  syntax: ["msgpack"],
  help: "exactly one MessagePack value per message (self-delimiting)",
  create: () => msgpack,
};
