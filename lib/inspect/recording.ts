/**
 * Reading a `--record` file back: the meta line (framing, target) and every event in file
 * order, checked line by line. A file appended to by several runs has one meta line per
 * run; connection ids restart at 1 in each run, so later runs' ids are shifted past the
 * earlier ones' to keep every connection distinct.
 *
 * @example
 * ```ts
 * import { parseRecording } from "./recording.ts";
 *
 * const rec = parseRecording('{"t":1,"event":"meta","version":1,"framing":"lines","target":"tcp:127.0.0.1:80"}\n', "r.jsonl");
 * rec.meta?.framing; // "lines"
 * ```
 * @module
 */
import { FrameError } from "../errors.ts";
import type { DirectionLabel } from "./log_format.ts";
import { RECORDING_VERSION, type RecordingMeta } from "./recorder.ts";

/** One event of a recording. `data` is empty for open and close. */
export interface RecordedEvent {
  /** When it happened, in epoch milliseconds. */
  t: number;
  /** Connection id, unique across the whole file (later runs' ids shifted). */
  conn: number;
  /** What happened. */
  event: "open" | "data" | "close";
  /** Which way the data went; only on data events. */
  dir?: DirectionLabel;
  /** The bytes, decoded from base64. */
  data: Uint8Array;
}

/** A recording read back. */
export interface Recording {
  /** The first run's meta line; absent in recordings made before version 1. */
  meta?: RecordingMeta & { version: number };
  /** Every event, in file order. */
  events: RecordedEvent[];
  /** Connection ids in order of first appearance. */
  connections: number[];
}

/** Read and check the recording at `path` (a {@linkcode FrameError} names the bad line: exit 65). */
export async function readRecording(path: string): Promise<Recording> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : (error as Error).message.replace(/ \(os error \d+\).*$/, "");
    throw new Error(`Cannot read recording "${path}": ${why}`);
  }
  return parseRecording(text, path);
}

/** Parse recording text; `name` is for error messages. */
export function parseRecording(text: string, name: string): Recording {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const events: RecordedEvent[] = [];
  const connections: number[] = [];
  let meta: Recording["meta"];
  /** Added to ids of the current run; raised at each meta line after the first events. */
  let shift = 0;
  let highest = 0;
  const seen = new Set<number>();
  for (const [index, line] of lines.entries()) {
    const bad = (why: string) =>
      new FrameError(
        `Cannot read recording "${name}": line ${index + 1} ${why}`,
        undefined,
        "a recording is JSON Lines written by inspect --record; was it cut short or edited?",
      );
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line);
    } catch {
      throw bad(index === lines.length - 1 ? "is cut short (not complete JSON)" : "is not valid JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw bad("is not a JSON object");
    }
    const { t, conn, event, dir, data } = value;
    if (event === "meta") {
      if (typeof value.version !== "number" || value.version > RECORDING_VERSION) {
        throw bad(`has format version ${String(value.version)}; this ipcat reads up to ${RECORDING_VERSION}`);
      }
      if (typeof value.framing !== "string" || typeof value.target !== "string") {
        throw bad('is a meta line without "framing" and "target"');
      }
      meta ??= { version: value.version, framing: value.framing, target: value.target };
      shift = highest;
      continue;
    }
    if (typeof t !== "number") throw bad('has no number "t"');
    if (typeof conn !== "number" || !Number.isInteger(conn) || conn < 1) {
      throw bad('has no connection id "conn"');
    }
    const id = conn + shift;
    highest = Math.max(highest, id);
    if (!seen.has(id)) {
      seen.add(id);
      connections.push(id);
    }
    if (event === "open" || event === "close") {
      events.push({ t, conn: id, event, data: new Uint8Array(0) });
    } else if (event === "data") {
      if (dir !== "c2s" && dir !== "s2c") throw bad('has a "dir" other than "c2s" or "s2c"');
      if (typeof data !== "string") throw bad('has no base64 "data"');
      let bytes: Uint8Array;
      try {
        bytes = Uint8Array.fromBase64(data);
      } catch {
        throw bad('has "data" that is not base64');
      }
      events.push({ t, conn: id, event, dir, data: bytes });
    } else {
      throw bad(`has an unknown "event" ${JSON.stringify(event)}`);
    }
  }
  return { meta, events, connections };
}

/** Events as the JSON Lines a recording holds (for `replay --update`), meta line first. */
export function formatRecording(recording: Recording): string {
  const out: string[] = [];
  if (recording.meta) {
    out.push(JSON.stringify({ t: recording.events[0]?.t ?? 0, event: "meta", ...recording.meta }));
  }
  for (const { t, conn, event, dir, data } of recording.events) {
    out.push(
      event === "data"
        ? JSON.stringify({ t, conn, event, dir, data: data.toBase64() })
        : JSON.stringify({ t, conn, event }),
    );
  }
  return out.map((line) => line + "\n").join("");
}
