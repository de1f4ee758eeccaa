/**
 * Byte-moving loops shared by every command: write everything, read messages.
 * @module
 */
import type { Connection } from "./address/types.ts";
import type { FrameDecoder } from "./framing/types.ts";

/** Size of one socket read on framed paths. */
export const READ_SIZE = 64 * 1024;

/**
 * First read size of {@linkcode readMessages}. An idle connection holds its pending read's
 * buffer, so a thousand idle clients at 64 KiB each would pin 64 MB: start small (a thousand
 * idle clients pin 1 MB), grow ×4 on each full read, so a bulk sender reaches 64 KiB reads
 * after three of them.
 */
const FIRST_READ_SIZE = 1024;

/**
 * Small reads are carved one after another out of a slab this big, shared by every
 * connection: a read of one short message costs no allocation (measured: 10% of an echo
 * server's CPU), and a thousand idle connections share a few slabs instead of holding one
 * each (measured: 16 MB of a 1,000-client echo server's peak).
 */
const SLAB_SIZE = 64 * 1024;

/** The slab reads are carved from; bytes handed out are never handed out again. */
let slab = new Uint8Array(0);
let used = 0;

/** Fresh space for one read of `size` bytes. */
function readSpace(size: number): Uint8Array {
  if (slab.length - used < size) {
    slab = new Uint8Array(Math.max(SLAB_SIZE, size));
    used = 0;
  }
  const space = slab.subarray(used, used + size);
  used += size;
  return space;
}

/** Give back the unread tail of `space`, when no read took space after it. */
function returnUnread(space: Uint8Array, n: number): void {
  if (space.buffer === slab.buffer && space.byteOffset + space.length === used) used -= space.length - n;
}

/** Anything with a `write` that may write only part of its input. */
export interface PartialWriter {
  /** Write some of `data`; the byte count written. */
  write(data: Uint8Array): Promise<number>;
}

/** Write all of `data`, looping over partial writes. */
export async function writeAll(writer: PartialWriter, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await writer.write(at === 0 ? data : data.subarray(at));
}

/** Write all of `data` to a synchronous writer such as `Deno.stdout`. */
export function writeAllSync(writer: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let at = 0;
  while (at < data.length) at += writer.writeSync(at === 0 ? data : data.subarray(at));
}

/** Options for {@linkcode readMessages}. */
export interface ReadMessagesOptions {
  /** Stop reading (before the next read) once aborted. */
  signal?: AbortSignal;
  /** Called with true while a batch is being handled, false while waiting to read. */
  onBusy?: (busy: boolean) => void;
  /**
   * Sees each read's bytes before they are decoded. They are never overwritten, and reads
   * that follow each other on one connection are often adjacent in memory.
   */
  onRead?: (bytes: Uint8Array) => void;
}

/**
 * Read `conn` to EOF, decoding messages and handing each read's batch to `onBatch`, which
 * is awaited before the next read: backpressure, and replies in order. On a `FrameError`,
 * the messages decoded before the bad bytes are handed over first, then it is thrown. Messages are views
 * into a buffer that is not reused, so `onBatch` may keep them.
 *
 * Returns true at EOF, false when stopped by the signal.
 */
export async function readMessages(
  conn: Pick<Connection, "read">,
  decoder: FrameDecoder,
  onBatch: (messages: Uint8Array[]) => unknown,
  options: ReadMessagesOptions = {},
): Promise<boolean> {
  const { signal, onBusy, onRead } = options;
  let size = FIRST_READ_SIZE;
  while (!signal?.aborted) {
    // Bytes already read are never overwritten: each read gets fresh space in the slab.
    const buffer = readSpace(size);
    const n = await conn.read(buffer);
    returnUnread(buffer, n ?? 0);
    if (n === size && size < READ_SIZE) size *= 4;
    onBusy?.(true);
    try {
      const messages: Uint8Array[] = [];
      try {
        if (n === null) decoder.end(messages);
        else {
          const bytes = buffer.subarray(0, n);
          onRead?.(bytes);
          decoder.push(bytes, messages);
        }
      } catch (error) {
        // Bad bytes after good messages in the same read: the good ones are still handled.
        if (messages.length) await onBatch(messages);
        throw error;
      }
      if (messages.length) await onBatch(messages);
    } finally {
      onBusy?.(false);
    }
    if (n === null) return true;
  }
  return false;
}
