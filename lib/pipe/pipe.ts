/**
 * `pipe`'s core: join two connections both ways, as a plain byte relay (raw on both sides)
 * or re-framing messages between two framings.
 *
 * EOF on one direction half-closes the other side's write direction; the pipe ends when both
 * directions are done (or as `options.end` says). A peer that goes away while bytes are held
 * for it is a `DeliveryError`, after everything the other side sent has been written.
 *
 * @example Lines on one side, length-prefixed messages on the other
 * ```ts
 * import { connect, listen, parseAddress } from "../address/mod.ts";
 * import { parseFraming } from "../framing/mod.ts";
 * import { pipe } from "./pipe.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const [lineSide, lengthSide] = [parseAddress(`unix:${dir}/l.sock`), parseAddress(`unix:${dir}/n.sock`)];
 * const [lineListener, lengthListener] = [await listen(lineSide), await listen(lengthSide)];
 * const [client, server] = [await connect(lineSide), await connect(lengthSide)];
 * const [a, b] = [await lineListener.accept(), await lengthListener.accept()];
 * const piping = pipe(a, b, { from: parseFraming("lines"), to: parseFraming("length") });
 * await client.write(new TextEncoder().encode("hi\n"));
 * await client.closeWrite();
 * const buffer = new Uint8Array(16);
 * await server.read(buffer); // [0, 0, 0, 2, 104, 105]: "hi" with a 4-byte length
 * await server.closeWrite();
 * console.log(await piping); // { forward: { bytes: 6, messages: 1 }, backward: { bytes: 0, messages: 0 } }
 * for (const c of [a, b, client, server, lineListener, lengthListener]) c.close();
 * ```
 * @module
 */
import type { Connection } from "../address/types.ts";
import type { Framing } from "../framing/types.ts";
import { DEFAULT_MAX_FRAME, parseFraming } from "../framing/mod.ts";
import { reframe } from "./reframe.ts";
import { type Direction, type EndRule, joinDirections, relay } from "./relay.ts";

/** Options for {@linkcode pipe}. */
export interface PipeOptions {
  /** Framing of `a`; `undefined` means raw. */
  from?: Framing;
  /** Framing of `b`; `undefined` means raw. */
  to?: Framing;
  /** Largest message accepted on a framed side. @default {16 MiB} */
  maxFrame?: number;
  /** How the pipe ends when a peer goes away (see `EndRule`). @default {{ mode: "strict" }} */
  end?: EndRule;
  /** Flags that set each side's framing, for hints. @default {["-f", "-f"]} */
  flags?: [string, string];
  /** Called after each write: `forward` is a → b. For progress; must not block. */
  onWrite?: (direction: Direction, bytes: number, messages: number) => void;
}

/** What moved each way: bytes written on, and messages (0 on a raw relay). */
export interface PipeTotals {
  /** a → b: bytes written on b, messages encoded for it. */
  forward: { bytes: number; messages: number };
  /** b → a: bytes written on a, messages encoded for it. */
  backward: { bytes: number; messages: number };
}

function isRaw(framing: Framing | undefined): boolean {
  return framing === undefined || !framing.framed;
}

/**
 * Join `a` ↔ `b`. Raw on both sides is a byte relay at full speed; otherwise messages are
 * decoded with one side's framing and encoded with the other's. Rejects with the first
 * error (a `FrameError` after delivering every message before it, a `DeliveryError`). The
 * caller closes both connections afterwards.
 */
export async function pipe(a: Connection, b: Connection, options: PipeOptions = {}): Promise<PipeTotals> {
  const { from, to, onWrite } = options;
  const end = options.end ?? { mode: "strict" };
  const flags = options.flags ?? ["-f", "-f"];
  // Between two message transports that say how each message travelled (WebSocket opcodes),
  // each message goes on as it came: a binary frame stays binary.
  if (a.wire && b.wire) {
    const [wireA, wireB] = [a.wire, b.wire];
    wireA.watch((event) => event.kind === "message" && wireB.sendAs(event.type));
    wireB.watch((event) => event.kind === "message" && wireA.sendAs(event.type));
  }
  if (isRaw(from) && isRaw(to)) {
    const totals = await relay(a, b, {
      end,
      tap: onWrite && ((direction, bytes) => onWrite(direction, bytes.length, 0)),
    });
    return {
      forward: { bytes: totals.forward, messages: 0 },
      backward: { bytes: totals.backward, messages: 0 },
    };
  }
  const maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
  const fromFraming = from ?? parseFraming("raw");
  const toFraming = to ?? parseFraming("raw");
  const totals: PipeTotals = { forward: { bytes: 0, messages: 0 }, backward: { bytes: 0, messages: 0 } };
  const direction = (
    name: Direction,
    source: Connection,
    sink: Connection,
    decode: Framing,
    encode: Framing,
    flag: string,
  ) =>
    reframe(source, sink, decode.decoder(maxFrame), encode, (bytes, messages) => {
      totals[name].bytes += bytes;
      totals[name].messages += messages;
      onWrite?.(name, bytes, messages);
    }, { peer: source.peer === "-" ? "stdin" : source.peer, framing: decode.name, flag });
  await joinDirections(
    direction("forward", a, b, fromFraming, toFraming, flags[0]),
    direction("backward", b, a, toFraming, fromFraming, flags[1]),
    end,
  );
  return totals;
}
