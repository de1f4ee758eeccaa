/**
 * Backslash escapes for messages typed in `inspect`'s interactive session, and the same
 * escapes in reverse for showing a message as one line of text.
 *
 * @example
 * ```ts
 * import { escapeText, parseEscapes } from "./escapes.ts";
 *
 * parseEscapes("a\\tb\\x00"); // bytes 61 09 62 00
 * escapeText(new TextEncoder().encode("hi\n")); // "hi\\n"
 * ```
 * @module
 */

const te = new TextEncoder();
const NAMED: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, "0": 0x00, "\\": 0x5c };

/**
 * Turn typed text into message bytes: `\n`, `\t`, `\r`, `\0`, `\\` and `\xHH` are escapes;
 * everything else is its UTF-8 bytes. Throws `SyntaxError` naming the bad escape.
 */
export function parseEscapes(text: string): Uint8Array {
  if (!text.includes("\\")) return te.encode(text);
  const out: number[] = [];
  let literal = "";
  const flush = () => {
    if (literal) { for (const byte of te.encode(literal)) out.push(byte); }
    literal = "";
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== "\\") {
      literal += ch;
      continue;
    }
    flush();
    const next = text[i + 1];
    if (next === undefined) {
      throw new SyntaxError(`Cannot parse escape at column ${i + 1}: a lone \\ ends the line (write \\\\)`);
    }
    if (next in NAMED) {
      out.push(NAMED[next]);
      i++;
    } else if (next === "x") {
      const hex = text.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw new SyntaxError(`Cannot parse escape "\\x${hex}" at column ${i + 1}: expected two hex digits`);
      }
      out.push(parseInt(hex, 16));
      i += 3;
    } else {
      throw new SyntaxError(
        `Cannot parse escape "\\${next}" at column ${i + 1}: use \\n, \\t, \\r, \\0, \\\\ or \\xHH`,
      );
    }
  }
  flush();
  return Uint8Array.from(out);
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** Is this code point shown as itself? Tab, newline and CR count: they have escapes. */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code < 0xa0);
}

/**
 * Is `bytes` printable text: valid UTF-8 without control characters (tab, newline and CR
 * allowed)?
 */
export function isPrintable(bytes: Uint8Array): boolean {
  // Control bytes first: binary data usually has one early, and a failed strict decode
  // (an exception) is far slower than this loop.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b < 0x20 ? b !== 0x09 && b !== 0x0a && b !== 0x0d : b === 0x7f) return false;
    if (b >= 0x80) ascii = false;
  }
  if (ascii) return true;
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    return false;
  }
  for (const ch of text) if (isControl(ch.codePointAt(0)!)) return false;
  return true;
}

const hex2 = (b: number) => `\\x${b.toString(16).padStart(2, "0")}`;

/**
 * One line of text for `bytes`, using the escapes {@linkcode parseEscapes} reads, so a
 * logged message can be pasted back into a session. Bytes that are not valid UTF-8 or are
 * control characters become `\xHH`.
 */
export function escapeText(bytes: Uint8Array): string {
  const plain = plainAscii(bytes);
  if (plain !== null) return plain;
  let text: string | null = null;
  try {
    text = strict.decode(bytes);
  } catch {
    text = null;
  }
  let out = "";
  if (text === null) {
    // Not UTF-8 as a whole: decode the valid runs, escape the rest byte by byte.
    let i = 0;
    while (i < bytes.length) {
      const len = utf8Length(bytes, i);
      if (len === 0) {
        out += hex2(bytes[i]);
        i++;
        continue;
      }
      out += escapeChars(strict.decode(bytes.subarray(i, i + len)));
      i += len;
    }
    return out;
  }
  return escapeChars(text);
}

/** Longest message {@linkcode plainAscii} turns into a string in one call. */
const PLAIN_MAX = 4096;

/**
 * `bytes` as a string when they are printable ASCII other than `\\`, which shows as is;
 * else null. Most logged messages are: this skips a UTF-8 decode (a call into the runtime)
 * and a walk over the characters.
 */
function plainAscii(bytes: Uint8Array): string | null {
  if (bytes.length > PLAIN_MAX) return null;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b < 0x20 || b > 0x7e || b === 0x5c) return null;
  }
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function escapeChars(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (isControl(code)) {
      for (const b of te.encode(ch)) out += hex2(b);
    } else out += ch;
  }
  return out;
}

/** Length of the valid UTF-8 sequence starting at `bytes[i]`, or 0 if there is none. */
function utf8Length(bytes: Uint8Array, i: number): number {
  const b = bytes[i];
  const len = b < 0x80
    ? 1
    : b >= 0xc2 && b <= 0xdf
    ? 2
    : b >= 0xe0 && b <= 0xef
    ? 3
    : b >= 0xf0 && b <= 0xf4
    ? 4
    : 0;
  if (len <= 1 || i + len > bytes.length) return len > 1 ? 0 : len;
  try {
    strict.decode(bytes.subarray(i, i + len));
    return len;
  } catch {
    return 0;
  }
}
