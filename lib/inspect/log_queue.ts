/**
 * A bounded queue between the traffic and a slow log output. Pushing never waits: when the
 * queue is full, data events are dropped and a "log fell behind, N events skipped" line
 * takes their place. Each event is written whole, so events never interleave.
 *
 * @example
 * ```ts
 * import { LogQueue } from "./log_queue.ts";
 *
 * const queue = new LogQueue(Deno.stdout, (e) => JSON.stringify(e) + "\n");
 * queue.push({ kind: "note", t: Date.now(), text: "hello" });
 * await queue.close();
 * ```
 * @module
 */
import { type PartialWriter, writeAll } from "../messages.ts";
import type { Formatted, InspectEvent } from "./log_format.ts";

/** Options for {@linkcode LogQueue}. */
export interface LogQueueOptions {
  /** Most data events waiting. @default {4096} */
  maxEvents?: number;
  /** Most message bytes held by waiting events. @default {4 MiB} */
  maxBytes?: number;
  /**
   * Milliseconds an event may wait for others to share its write: a busy connection then
   * costs one write per batch, not per message. @default {5}
   */
  delay?: number;
}

const te = new TextEncoder();

/** Queue of log events drained by one writer loop. */
export class LogQueue {
  #out: PartialWriter;
  #format: (event: InspectEvent) => Formatted;
  #maxEvents: number;
  #maxBytes: number;
  #queue: InspectEvent[] = [];
  #dataEvents = 0;
  #bytes = 0;
  #writing: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay: number;
  #broken = false;
  /** Data events dropped so far. */
  skipped = 0;

  /** Events are formatted by `format` and written to `out` whole, in order. */
  constructor(out: PartialWriter, format: (event: InspectEvent) => Formatted, options: LogQueueOptions = {}) {
    this.#out = out;
    this.#format = format;
    this.#maxEvents = options.maxEvents ?? 4096;
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.#delay = options.delay ?? 5;
  }

  /**
   * Queue `event`. Never waits. A data event that does not fit is counted, not kept; its
   * `bytes` must not be reused by the caller once pushed.
   */
  push(event: InspectEvent): void {
    if (this.#broken) return;
    if (event.kind === "data") {
      if (this.#dataEvents >= this.#maxEvents || this.#bytes + event.bytes.length > this.#maxBytes) {
        this.skipped++;
        const last = this.#queue.at(-1);
        if (last?.kind === "skipped") last.count++;
        else this.#queue.push({ kind: "skipped", t: event.t, count: 1 });
        return;
      }
      this.#dataEvents++;
      this.#bytes += event.bytes.length;
    }
    this.#queue.push(event);
    this.#schedule();
  }

  /** Start the delay unless a write or the delay is already under way. */
  #schedule(): void {
    if (this.#writing || this.#timer !== undefined || this.#queue.length === 0) return;
    this.#timer = setTimeout(() => this.#flush(), this.#delay);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing ??= this.#drain();
  }

  /**
   * Write one batch. Events queued meanwhile wait for the next delay rather than being
   * written as soon as this write ends: otherwise a write's own duration would set the
   * batch size, and a steady stream of round trips (a message or two per write) would pay
   * for a write per round trip. On a file, each write is a hop to a worker thread and back.
   */
  async #drain(): Promise<void> {
    try {
      const batch = this.#queue;
      this.#queue = [];
      this.#dataEvents = 0;
      this.#bytes = 0;
      await writeAll(this.#out, this.#render(batch));
    } catch {
      // The log's reader went away (closed pipe): the traffic goes on without a log.
      this.#broken = true;
      this.#queue = [];
    } finally {
      this.#writing = null;
      this.#schedule();
    }
  }

  /** One buffer for a batch of events, so a batch costs one write. */
  #render(batch: InspectEvent[]): Uint8Array {
    const parts: Uint8Array[] = [];
    let text = "";
    let total = 0;
    for (const event of batch) {
      const formatted = this.#format(event);
      if (typeof formatted === "string") {
        text += formatted;
        continue;
      }
      if (text) {
        parts.push(te.encode(text));
        total += parts.at(-1)!.length;
        text = "";
      }
      parts.push(formatted);
      total += formatted.length;
    }
    if (text) {
      parts.push(te.encode(text));
      total += parts.at(-1)!.length;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Resolves once everything queued has been written. */
  async close(): Promise<void> {
    while (this.#writing || this.#timer !== undefined) {
      if (this.#timer !== undefined) this.#flush();
      await this.#writing;
    }
  }
}
