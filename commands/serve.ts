/**
 * `ipcat serve ADDR`: listen; print or echo each message.
 * @module
 */
import { listen, parseAddress } from "../lib/address/mod.ts";
import { messageCodec, parseEncoding } from "../lib/encoding.ts";
import { UsageError } from "../lib/errors.ts";
import { parseFraming } from "../lib/framing/mod.ts";
import { readMessages, writeAll, writeAllSync } from "../lib/io.ts";
import { Server, type Session } from "../lib/server.ts";
import { type CommonFlags, type FramingFlags, parseCount, stderrLog } from "./_common.ts";

/** Flags of `serve`. */
export interface ServeFlags extends CommonFlags, FramingFlags {
  readonly echo: boolean;
  readonly count?: number;
  readonly maxConnections?: number;
  readonly mode: string;
}

/** Stricli definitions of the `serve`-only flags. */
export const serveFlags = {
  echo: { kind: "boolean", brief: "Reply to each message with itself", default: false },
  count: {
    kind: "parsed",
    parse: parseCount,
    brief: "Exit after N messages",
    placeholder: "N",
    optional: true,
  },
  maxConnections: {
    kind: "parsed",
    parse: parseCount,
    brief: "Serve at most N connections at once; more wait",
    placeholder: "N",
    optional: true,
  },
  mode: { kind: "parsed", parse: String, brief: "Socket file mode", placeholder: "OCTAL", default: "0600" },
} as const;

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) {
    throw new UsageError(`Cannot parse --mode "${text}"`, "write an octal file mode such as 0600 or 0660");
  }
  return parseInt(text, 8);
}

/** Run `serve`; resolves to the exit code. */
export async function serve(flags: ServeFlags, addressText: string): Promise<number> {
  const address = parseAddress(addressText);
  const framingName = flags.framing ?? "lines";
  const framing = parseFraming(framingName);
  const codec = await messageCodec(parseEncoding(flags.encoding), framingName);
  const mode = parseMode(flags.mode);
  const log = stderrLog(flags);

  const listener = await listen(address, { mode });
  const server = new Server(listener, { log, count: flags.count, maxConnections: flags.maxConnections });
  const onSignal = () => server.stop();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.stderr.writeSync(new TextEncoder().encode(`listening on ${listener.address}\n`));

  const handle = async (session: Session) => {
    const { conn } = session;
    const decoder = framing.decoder(flags.maxFrame);
    const onBusy = (busy: boolean) => session.busy = busy;
    await readMessages(conn, decoder, async (received) => {
      const messages = received.length > 0 ? received.slice(0, server.take(received.length)) : received;
      if (messages.length === 0) return;
      if (flags.echo) await writeAll(conn, framing.encode(messages));
      else writeAllSync(Deno.stdout, codec.format(messages));
    }, { signal: session.stopping, onBusy });
  };
  try {
    await server.run(handle);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    listener.close();
  }
  return 0;
}
