/**
 * `hexdump -C` layout: offset, 16 bytes in hex in two groups of 8, then the printable
 * ASCII between bars; identical lines squeezed into `*`; the total length last.
 *
 * @example
 * ```ts
 * hexdump(new TextEncoder().encode("hi\n"));
 * // ["00000000  68 69 0a                                          |hi.|", "00000003"]
 * ```
 * @module
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const ASCII = Array.from({ length: 256 }, (_, i) => (i >= 0x20 && i < 0x7f ? String.fromCharCode(i) : "."));

function sameLine(bytes: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < 16; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Options for {@linkcode hexdump}. */
export interface HexdumpOptions {
  /** Offset of `bytes[0]` in the whole message; shown offsets start there. @default {0} */
  offset?: number;
  /** Print the final length line. @default {true} */
  end?: boolean;
}

/** The lines `hexdump -C` prints for `bytes` (none for an empty input). */
export function hexdump(bytes: Uint8Array, options: HexdumpOptions = {}): string[] {
  const base = options.offset ?? 0;
  const lines: string[] = [];
  let squeezing = false;
  for (let at = 0; at < bytes.length; at += 16) {
    const n = Math.min(16, bytes.length - at);
    if (n === 16 && at >= 16 && sameLine(bytes, at, at - 16)) {
      if (!squeezing) lines.push("*");
      squeezing = true;
      continue;
    }
    squeezing = false;
    let hex = "";
    let ascii = "";
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += " ";
      if (i < n) {
        const b = bytes[at + i];
        hex += HEX[b] + " ";
        ascii += ASCII[b];
      } else hex += "   ";
    }
    lines.push(`${(base + at).toString(16).padStart(8, "0")}  ${hex} |${ascii}|`);
  }
  if (bytes.length > 0 && options.end !== false) {
    lines.push((base + bytes.length).toString(16).padStart(8, "0"));
  }
  return lines;
}
