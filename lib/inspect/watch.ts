/**
 * `inspect nats://…/SUBJECT`: every message on the matching subjects, logged with its subject,
 * reply subject and headers (then the message as the log shows any other), and recorded with
 * `--record`. `nats sub '>'` with ipcat's log view.
 *
 * @example One message on `orders.>`, published once the watch is subscribed (needs `nats-server` on PATH)
 * ```ts
 * import { connect, MESSAGE_FRAMING, parseAddress } from "../address/mod.ts";
 * import { eventFormatter } from "./log_format.ts";
 * import { watchBroker } from "./watch.ts";
 *
 * // A nats-server of its own, on a free loopback port.
 * const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = probe.addr.port;
 * probe.close();
 * const server = new Deno.Command("nats-server", {
 *   args: ["-a", "127.0.0.1", "-p", String(port)],
 *   stdout: "null",
 *   stderr: "piped",
 * }).spawn();
 * const said = server.stderr.pipeThrough(new TextDecoderStream()).values();
 * for (let text = ""; !text.includes("Server is ready");) text += (await said.next()).value;
 *
 * const subscribed = Promise.withResolvers<void>();
 * const watching = watchBroker(parseAddress(`nats://127.0.0.1:${port}/orders.>`), {
 *   out: Deno.stdout,
 *   format: eventFormatter({ format: "auto", color: false }),
 *   showMax: 1024,
 *   count: 1,
 *   connect: { log: (_level, line) => line.startsWith("watching") && subscribed.resolve() },
 *   signal: AbortSignal.timeout(10_000),
 * });
 * await subscribed.promise;
 * const publisher = await connect(parseAddress(`nats://127.0.0.1:${port}/orders.new`), {
 *   broker: { use: "publish" },
 * });
 * await publisher.write(MESSAGE_FRAMING.encode([new TextEncoder().encode("42 apples")]));
 * console.log(await watching); // 1, after the line "HH:MM:SS.mmm orders.new" and the message
 * await publisher.close();
 * server.kill();
 * for await (const _ of said);
 * await server.status;
 * ```
 * @module
 */
import { watch } from "../address/mod.ts";
import type { Address, ConnectOptions } from "../address/types.ts";
import { writeAllSync } from "../messages.ts";
import { asText, clock, type InspectEvent } from "./log_format.ts";
import type { Recorder } from "./recorder.ts";

/** Options for {@linkcode watchBroker}. */
export interface WatchOptions {
  /** Where the log goes (inspect's stdout). */
  out: { writeSync(data: Uint8Array): number };
  /** The log view of one message (`eventFormatter`). */
  format: (event: InspectEvent) => string | Uint8Array;
  /** Show at most this many bytes of each message. */
  showMax: number;
  /** `--record`/`--pcap`: where each message is also recorded. */
  recorder?: Recorder;
  /** Stop after this many messages. */
  count?: number;
  /** How to reach the broker (TLS, `--creds`). */
  connect?: ConnectOptions;
  /** Stops the watch. */
  signal: AbortSignal;
}

const te = new TextEncoder();

/** Watch `address` until `options.signal` aborts or `count` messages were seen; resolves to that count. */
export async function watchBroker(address: Address, options: WatchOptions): Promise<number> {
  const { out, format, showMax, recorder, count } = options;
  const enough = new AbortController();
  const signal = AbortSignal.any([options.signal, enough.signal]);
  let seen = 0;
  await watch(address, options.connect ?? {}, (message) => {
    if (signal.aborted) return;
    const t = Date.now();
    const reply = message.reply ? ` reply ${message.reply}` : "";
    const headers = message.headers?.length
      ? ` headers ${message.headers.map(([name, value]) => `${name}: ${value}`).join("; ")}`
      : "";
    const shown = message.data.length > showMax ? message.data.subarray(0, showMax) : message.data;
    const body = asText(format({ kind: "data", t, dir: "c2s", size: message.data.length, bytes: shown }));
    // The message line keeps the log's shape (time, arrow, size, view); its subject comes first.
    writeAllSync(out, te.encode(`${clock(t)} ${message.subject}${reply}${headers}\n${body}`));
    recorder?.brokered(message, t);
    if (count !== undefined && ++seen >= count) enough.abort();
  }, signal);
  return seen;
}
