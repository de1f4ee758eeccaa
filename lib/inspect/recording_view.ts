/**
 * `inspect --from REC.jsonl`: a recording as the live log's events, cut at messages with
 * the recording's framing (or another), so the formatter prints it exactly as `inspect`
 * would have.
 *
 * @example
 * ```ts
 * import { parseFraming } from "../framing/mod.ts";
 * import { asText, eventFormatter } from "./log_format.ts";
 * import { parseRecording } from "./recording.ts";
 * import { recordingEvents } from "./recording_view.ts";
 *
 * const recording = parseRecording(
 *   '{"t":1,"conn":1,"event":"open"}\n{"t":2,"conn":1,"event":"data","dir":"c2s","data":"aGkKdGhlcmUK"}\n',
 *   "t.jsonl",
 * );
 * const format = eventFormatter({ format: "auto", color: false });
 * const options = { framing: parseFraming("lines"), maxFrame: 1 << 20, showMax: 1024 };
 * for (const event of recordingEvents(recording, options)) console.log(asText(format(event)).trimEnd());
 * // the open, "hi" and "there" as two messages, then a note that the recording ends there
 * ```
 * @module
 */
import type { Framing } from "../framing/types.ts";
import { ARROW, type DirectionLabel, type InspectEvent } from "./log_format.ts";
import { MessageCutter } from "./message_cutter.ts";
import type { Recording } from "./recording.ts";
import { describe } from "../errors.ts";

/** Options for {@linkcode recordingEvents}. */
export interface RecordingViewOptions {
  /** The framing to cut messages with: the recording's own, or another to view it under. */
  framing: Framing;
  /** Largest message the framing's decoder accepts; past it, the view shows reads. */
  maxFrame: number;
  /** Bytes of each message shown. */
  showMax: number;
  /** Connection ids to show; all when absent. */
  conns?: readonly number[];
}

interface ConnectionView {
  cutters: Record<DirectionLabel, MessageCutter>;
  totals: Record<DirectionLabel, number>;
}

/** The log events of `recording`, in recorded order. */
export function* recordingEvents(
  recording: Recording,
  options: RecordingViewOptions,
): Generator<InspectEvent> {
  const { framing, maxFrame, showMax } = options;
  const chosen = options.conns ? new Set(options.conns) : undefined;
  const target = recording.meta?.target ?? "the target";
  const views = new Map<number, ConnectionView>();
  function* cuts(conn: number, dir: DirectionLabel, t: number, view: ConnectionView, bytes?: Uint8Array) {
    const cutter = view.cutters[dir];
    for (const { message } of bytes ? cutter.push(bytes) : cutter.end()) {
      yield { kind: "data", t, conn, dir, size: message.length, bytes: message.slice(0, showMax) } as const;
    }
    const error = cutter.takeError();
    if (error) {
      yield {
        kind: "note",
        t,
        conn,
        text: `${ARROW[dir]} ${describe(error)}; showing recorded reads from here`,
      } as const;
    }
  }
  const viewOf = (conn: number) => {
    let view = views.get(conn);
    if (!view) {
      view = {
        cutters: { c2s: new MessageCutter(framing, maxFrame), s2c: new MessageCutter(framing, maxFrame) },
        totals: { c2s: 0, s2c: 0 },
      };
      views.set(conn, view);
    }
    return view;
  };
  for (const { t, conn, event, dir, data } of recording.events) {
    if (chosen && !chosen.has(conn)) continue;
    if (event === "open") {
      viewOf(conn);
      yield { kind: "open", t, conn, text: `recorded -> ${target}` };
    } else if (event === "data" && dir) {
      const view = viewOf(conn);
      view.totals[dir] += data.length;
      yield* cuts(conn, dir, t, view, data);
    } else if (event === "close") {
      const view = viewOf(conn);
      yield* cuts(conn, "c2s", t, view);
      yield* cuts(conn, "s2c", t, view);
      views.delete(conn);
      yield { kind: "close", t, conn, text: `closed; > ${view.totals.c2s}B < ${view.totals.s2c}B` };
    }
  }
  // Connections still open when the recording ends.
  for (const [conn, view] of views) {
    const t = recording.events.at(-1)?.t ?? 0;
    yield* cuts(conn, "c2s", t, view);
    yield* cuts(conn, "s2c", t, view);
    yield {
      kind: "note",
      t,
      conn,
      text: `the recording ends here; > ${view.totals.c2s}B < ${view.totals.s2c}B`,
    };
  }
}
