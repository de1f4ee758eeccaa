/**
 * The framing registry: every framing ipcat speaks, looked up by name.
 *
 * @example
 * ```ts
 * import { parseFraming } from "./mod.ts";
 *
 * const framing = parseFraming("length:u16le");
 * const wire = framing.encode([new TextEncoder().encode("hi")]);
 * ```
 * @module
 */
import { FrameError, UsageError } from "../errors.ts";
import { closest } from "../suggest.ts";
import { lengthFamily } from "./length.ts";
import { linesFamily } from "./lines.ts";
import { msgpackFamily } from "./msgpack.ts";
import { netstringFamily } from "./netstring.ts";
import { rawFamily } from "./raw.ts";
import type { Framing, FramingFamily } from "./types.ts";

export type { FrameDecoder, Framing, FramingFamily, TextForm } from "./types.ts";

/** Every framing family, in the order `--help` lists them. */
export const FRAMINGS: readonly FramingFamily[] = [
  rawFamily,
  linesFamily,
  lengthFamily,
  netstringFamily,
  msgpackFamily,
];

/** Framing of `serve`, `send` and `inspect` when `-f` is not given (`pipe` is raw). */
export const DEFAULT_FRAMING = "lines";

/** Default `--max-frame`: 16 MiB. */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

/** {@linkcode DEFAULT_MAX_FRAME} as `--max-frame` takes it, for help and flag defaults. */
export const DEFAULT_MAX_FRAME_TEXT = `${DEFAULT_MAX_FRAME / 1024 / 1024}M`;

/** Largest `--max-frame` accepted: 1 GiB. */
export const MAX_FRAME_CEILING = 1024 ** 3;

/**
 * Look up a framing by the name given to `-f`, e.g. `lines` or `length:varint`.
 * Throws `UsageError` with a "did you mean" for a near miss, else naming the framings that exist.
 */
export function parseFraming(text: string): Framing {
  const colon = text.indexOf(":");
  const name = colon < 0 ? text : text.slice(0, colon);
  const variant = colon < 0 ? undefined : text.slice(colon + 1);
  const family = FRAMINGS.find((f) => f.name === name);
  if (!family || (variant !== undefined && !family.variants)) {
    const close = family ? undefined : closest(name, FRAMINGS.map((f) => f.name));
    throw new UsageError(
      `Unknown framing "${text}"`,
      close
        ? `did you mean ${close}${variant === undefined ? "" : `:${variant}`}?`
        : `use one of: ${FRAMINGS.map((f) => f.name).join(", ")} (length takes :u8, :u16le, :varint, ...)`,
    );
  }
  return family.create(variant);
}

export { FrameError };
