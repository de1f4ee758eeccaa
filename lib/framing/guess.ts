/**
 * Naming the likely framing when bytes fail to decode under the one chosen: a mismatch
 * (a `lines` peer on a `length` side) otherwise reads as a baffling "Malformed frame
 * header" or a frame of 1.7 GB.
 *
 * @example
 * ```ts
 * import { likelyFraming } from "./guess.ts";
 *
 * likelyFraming(new TextEncoder().encode("hello\n"), "length"); // "lines"
 * ```
 * @module
 */
import { FrameError } from "../errors.ts";

const isText = (byte: number) =>
  byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f);

/**
 * The framing `bytes` (the first bytes where decoding under `framing` failed) look like,
 * when it is another one; undefined when they say nothing clear.
 */
export function likelyFraming(bytes: Uint8Array, framing: string): string | undefined {
  if (bytes.length === 0) return undefined;
  const family = framing.split(":")[0];
  if (bytes.every(isText)) {
    if (/^\d+:/.test(String.fromCharCode(...bytes)) && family !== "netstring") return "netstring";
    return family === "lines" || family === "raw" ? undefined : "lines";
  }
  // A small size in a big-endian prefix starts with zero bytes: length's default, u32be.
  if (family !== "length" && bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) return "length";
  return undefined;
}

/** `bytes` as a short quoted string, escapes for what is not printable. */
function quote(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out += byte === 0x0a
      ? "\\n"
      : byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `"${out}"`;
}

/**
 * The error to show for a `FrameError` from data read from `peer` under `framing`: it
 * names the peer and, when the bytes look like another framing, suggests it with `flag`
 * (`-f`, or `--from`/`--to` in `pipe`). `speaker` is who sent the bytes, when `peer` is
 * not a name for it (a server's own address names no client).
 */
export function frameErrorFrom(
  error: FrameError,
  peer: string,
  framing: string,
  flag = "-f",
  speaker = peer,
): FrameError {
  const guess = error.bytes && likelyFraming(error.bytes, framing);
  const hint = guess
    ? `the bytes there, ${
      quote(error.bytes!)
    }, look like ${guess}: is ${speaker} speaking ${guess}? try ${flag} ${guess}`
    : error.hint;
  return new FrameError(`${peer}: ${error.reason}`, error.offset, hint).near(error.bytes);
}
