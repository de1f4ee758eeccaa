/**
 * `--record FILE`: every event as one JSON Lines object, in the format README's "Recording"
 * section promises (version {@linkcode RECORDING_VERSION}): a first
 * `{"t","event":"meta","version","framing","target"}` line per run, then
 * `{"t":<epoch ms>,"conn":<id>,"event":"open"|"data"|"close","dir":"c2s"|"s2c","data":<base64>}`.
 *
 * Events are queued in order and written by one loop, each batch as soon as the previous
 * write finishes, so the file is current while the proxy runs (`tail -f`, `jq`). Unlike the
 * log, the recording never drops data: past a high-water mark the traffic waits for the
 * disk ({@linkcode Recorder.backlogged}).
 *
 * @example
 * ```ts
 * import { Recorder } from "./recorder.ts";
 *
 * const recorder = await Recorder.open(`${await Deno.makeTempDir()}/trace.jsonl`);
 * recorder.opened(1);
 * recorder.data(1, "c2s", new TextEncoder().encode("hi"));
 * await recorder.close();
 * ```
 * @module
 */
import { type PartialWriter, writeAll } from "../messages.ts";
import type { DirectionLabel } from "./log_format.ts";

/** The recording format's version, written in each meta line; readers accept this one and older. */
export const RECORDING_VERSION = 1;

/** What a meta line says about the run that follows it. */
export interface RecordingMeta {
  /** The framing the proxy cut messages with, as written after `-f`. */
  framing: string;
  /** The address the proxy forwarded to, as `Address.text`. */
  target: string;
}

/**
 * Where the proxy reports each connection's events: the JSON Lines {@linkcode Recorder},
 * `--pcap`'s writer, or both ({@linkcode teeSinks}).
 */
export interface RecordingSink {
  /** Connection `conn` opened at `t` (epoch ms, now when absent). */
  opened(conn: number, t?: number): void;
  /** Bytes of a message (or read); read synchronously, so the caller may reuse them. */
  data(conn: number, dir: DirectionLabel, bytes: Uint8Array, t?: number): void;
  /** Connection `conn` closed at `t`. */
  closed(conn: number, t?: number): void;
  /** True while the writer is behind: the traffic should wait for {@linkcode drained}. */
  readonly backlogged: boolean;
  /** Resolves once the writer has caught up enough for the traffic to go on. */
  drained(): Promise<void>;
  /** Write everything queued, then close the output. */
  close(): Promise<void>;
}

/** One sink that forwards every event to each of `sinks` and is behind when any of them is. */
export function teeSinks(...sinks: RecordingSink[]): RecordingSink {
  return {
    opened: (conn, t = Date.now()) => sinks.forEach((s) => s.opened(conn, t)),
    data: (conn, dir, bytes, t = Date.now()) => sinks.forEach((s) => s.data(conn, dir, bytes, t)),
    closed: (conn, t = Date.now()) => sinks.forEach((s) => s.closed(conn, t)),
    get backlogged() {
      return sinks.some((s) => s.backlogged);
    },
    drained: async () => void await Promise.all(sinks.map((s) => s.drained())),
    close: async () => void await Promise.all(sinks.map((s) => s.close())),
  };
}

/** Options for {@linkcode Recorder}. */
export interface RecorderOptions {
  /** Queued characters past which {@linkcode Recorder.backlogged} is true. @default {16 MiB} */
  highWater?: number;
  /** Called once if writing fails; recording stops, the traffic goes on. */
  onError?: (error: unknown) => void;
}

const te = new TextEncoder();

/** Appends the JSON Lines recording. */
export class Recorder implements RecordingSink {
  #out: PartialWriter & { close?(): void };
  #highWater: number;
  #onError?: (error: unknown) => void;
  /** Lines are encoded straight into this buffer; the writer swaps it with #spare. */
  #active: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 20);
  #fill = 0;
  #spare: Uint8Array<ArrayBuffer> | null = new Uint8Array(1 << 20);
  #writing: Promise<void> | null = null;
  #failed = false;
  #drained: PromiseWithResolvers<void> | null = null;

  /** Record to `out` (closed by {@linkcode Recorder.close} when it can be). */
  constructor(out: PartialWriter & { close?(): void }, options: RecorderOptions = {}) {
    this.#out = out;
    this.#highWater = options.highWater ?? 16 * 1024 * 1024;
    this.#onError = options.onError;
  }

  /**
   * Open `path` for appending (never truncated). A new file is created 0600 with O_EXCL, so
   * a symlink planted at the name is refused instead of followed; an existing one must be a
   * regular file of the user's own with no other hard links. Recordings hold secrets.
   */
  static async open(path: string, options: RecorderOptions = {}): Promise<Recorder> {
    return new Recorder(await openPrivateFile(path, "--record"), options);
  }

  /** The run's meta line: written first, so readers know the framing and target. */
  meta(meta: RecordingMeta, t: number = Date.now()): void {
    this.#push(
      `${JSON.stringify({ t, event: "meta", version: RECORDING_VERSION, ...meta })}\n`.replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      ),
    );
  }

  /** A connection opened. */
  opened(conn: number, t: number = Date.now()): void {
    this.#push(`{"t":${t},"conn":${conn},"event":"open"}\n`);
  }

  /** Bytes of a message (or chunk); read synchronously, so the caller may reuse them. */
  data(conn: number, dir: DirectionLabel, bytes: Uint8Array, t: number = Date.now()): void {
    this.#push(`{"t":${t},"conn":${conn},"event":"data","dir":"${dir}","data":"`, bytes.toBase64(), `"}\n`);
  }

  /** A message seen on a broker (`inspect nats:…`): its subject, reply subject and headers. */
  brokered(
    message: { subject: string; reply?: string; headers?: [string, string][]; data: Uint8Array },
    t: number = Date.now(),
  ): void {
    const { subject, reply, headers, data } = message;
    const meta = asciiJson({ subject, ...(reply ? { reply } : {}), ...(headers?.length ? { headers } : {}) });
    this.#push(`{"t":${t},"event":"message",${meta.slice(1, -1)},"data":"`, data.toBase64(), `"}\n`);
  }

  /** A connection closed. */
  closed(conn: number, t: number = Date.now()): void {
    this.#push(`{"t":${t},"conn":${conn},"event":"close"}\n`);
  }

  /** True while more than the high-water mark is queued: the caller should wait. */
  get backlogged(): boolean {
    return this.#fill > this.#highWater;
  }

  /** Resolves when the queue is back under half the high-water mark. */
  drained(): Promise<void> {
    if (!this.backlogged) return Promise.resolve();
    this.#drained ??= Promise.withResolvers();
    return this.#drained.promise;
  }

  /** Append ASCII parts (JSON with base64 inside is ASCII: one byte per character) or bytes. */
  protected push(...parts: (string | Uint8Array)[]): void {
    this.#push(...parts);
  }

  #push(...parts: (string | Uint8Array)[]): void {
    if (this.#failed) return;
    let need = 0;
    for (const part of parts) need += part.length;
    if (this.#fill + need > this.#active.length) {
      const grown = new Uint8Array(Math.max(this.#active.length * 2, this.#fill + need));
      grown.set(this.#active.subarray(0, this.#fill));
      this.#active = grown;
    }
    for (const part of parts) {
      if (typeof part === "string") {
        this.#fill += te.encodeInto(part, this.#active.subarray(this.#fill)).written;
      } else {
        this.#active.set(part, this.#fill);
        this.#fill += part.length;
      }
    }
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#fill > 0) {
        const full = this.#active;
        const out = full.subarray(0, this.#fill);
        this.#active = this.#spare ?? new Uint8Array(1 << 20);
        this.#spare = null;
        this.#fill = 0;
        this.#wake();
        await writeAll(this.#out, out);
        this.#spare = full;
      }
    } catch (error) {
      this.#failed = true;
      this.#fill = 0;
      this.#wake();
      this.#onError?.(error);
    } finally {
      this.#writing = null;
    }
  }

  #wake(): void {
    if (this.#drained && this.#fill <= this.#highWater / 2) {
      this.#drained.resolve();
      this.#drained = null;
    }
  }

  /** Write everything queued, then close the file. */
  async close(): Promise<void> {
    while (this.#writing) await this.#writing;
    try {
      this.#out.close?.();
    } catch {
      // Already closed.
    }
  }
}

/**
 * Open `path` for appending the way recordings must be: a new file 0600 with O_EXCL (a
 * symlink planted at the name is refused, not followed); an existing one only if it is a
 * regular file of the user's own with no other hard links, checked on the opened file.
 * `flag` names the option in the error: `Cannot open --record file "x": why`.
 */
export async function openPrivateFile(path: string, flag: string): Promise<Deno.FsFile> {
  try {
    return await openPrivately(path);
  } catch (error) {
    const why = error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message.replace(/ \(os error \d+\).*$/, "");
    throw new Error(`Cannot open ${flag} file "${path}": ${why}`);
  }
}

async function openPrivately(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { append: true, createNew: true, mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const seen = await Deno.lstat(path);
  if (seen.isSymlink) throw new Error("it is a symbolic link; not following it");
  if (!seen.isFile) throw new Error("it exists and is not a regular file");
  if (seen.uid !== Deno.uid()) throw new Error(`it is owned by another user (uid ${seen.uid})`);
  if (seen.nlink !== null && seen.nlink > 1) throw new Error("it has other hard links");
  // The name could be swapped between the lstat and the open: the open file must be the one checked.
  const file = await Deno.open(path, { append: true });
  const opened = await file.stat();
  if (opened.dev !== seen.dev || opened.ino !== seen.ino) {
    file.close();
    throw new Error("it was replaced while being opened");
  }
  return file;
}

/** JSON with everything past ASCII escaped, so that one character is one byte for `#push`. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
