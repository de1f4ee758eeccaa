/**
 * Where an interactive session's typed lines come from, and how output is printed without
 * garbling the line being typed: {@linkcode PlainLines} for a pipe, {@linkcode LineEditor}
 * for a terminal (prompt, left/right, backspace, up/down history, Ctrl-C, Ctrl-D).
 *
 * @example Lines from a pipe (here, a file's bytes), each answered on its own line
 * ```ts
 * import { PlainLines } from "./line_editor.ts";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "one\ntwo\n");
 * using file = await Deno.open(path);
 * const input = new PlainLines(file, (text) => console.log(text.trimEnd()));
 * for (let line; (line = await input.next()) !== null;) input.print(`typed ${line}\n`);
 * ```
 * @module
 */
import { InterruptedError } from "../errors.ts";
import { LinesDecoder } from "../framing/lines.ts";
import { READ_SIZE } from "../messages.ts";

/** Anything readable like `Deno.stdin`. */
export interface ByteReader {
  /** Read into `buffer`; the number of bytes read, or null at EOF. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Lines in, output printed around them. */
export interface LineSource {
  /** The next line (without its newline), or null at end of input. */
  next(): Promise<string | null>;
  /** Print `text` (whole lines) without disturbing the line being typed. */
  print(text: string): void;
  /** Stop editing; leave the terminal as it was. */
  close(): void;
}

/** Lines from a pipe or file: what scripts and tests feed a session. */
export class PlainLines implements LineSource {
  #input: ByteReader;
  #write: (text: string) => void;
  #decoder: LinesDecoder;
  #ready: string[] = [];
  #eof = false;
  #td = new TextDecoder();

  /** Lines of at most `maxLine` bytes from `input`; output goes to `write` as is. */
  constructor(input: ByteReader, write: (text: string) => void, maxLine = 64 * 1024 * 1024) {
    this.#input = input;
    this.#write = write;
    this.#decoder = new LinesDecoder(maxLine);
  }

  async next(): Promise<string | null> {
    while (this.#ready.length === 0) {
      if (this.#eof) return null;
      const buffer = new Uint8Array(READ_SIZE);
      const n = await this.#input.read(buffer);
      const lines: Uint8Array[] = [];
      if (n === null) this.#decoder.end(lines);
      else this.#decoder.push(buffer.subarray(0, n), lines);
      if (n === null) this.#eof = true;
      for (const line of lines) this.#ready.push(this.#td.decode(line).replace(/\r$/, ""));
    }
    return this.#ready.shift()!;
  }

  print(text: string): void {
    this.#write(text);
  }

  close(): void {}
}

/** Options for {@linkcode LineEditor}. */
export interface LineEditorOptions {
  /** Shown before the line being typed. */
  prompt: string;
  /** Switch the terminal's raw mode (`Deno.stdin.setRaw`). */
  setRaw: (raw: boolean) => void;
}

const ESC = "\x1b";
const CLEAR_LINE = "\r\x1b[K";
/** ESC [ params final, ESC O letter, or ESC and one other character. */
const ESCAPE_SEQUENCE = new RegExp(`^${ESC}(\\[[0-9;]*[~A-Za-z]|O[A-Za-z]|[^[O])`);

/** A small line editor for a terminal in raw mode. History lasts for the session. */
export class LineEditor implements LineSource {
  #input: ByteReader;
  #write: (text: string) => void;
  #options: LineEditorOptions;
  #line: string[] = [];
  #cursor = 0;
  #history: string[] = [];
  /** Index into history while browsing with up/down; history.length = the draft. */
  #browse = 0;
  #draft: string[] = [];
  #pending = "";
  #td = new TextDecoder();
  #editing = false;
  #raw = false;
  #eof = false;

  /** Keys from `input` (a terminal), echo and output to `write`; raw mode starts at the first `next()`. */
  constructor(input: ByteReader, write: (text: string) => void, options: LineEditorOptions) {
    this.#input = input;
    this.#write = write;
    this.#options = options;
  }

  async next(): Promise<string | null> {
    if (this.#eof) return null;
    if (!this.#raw) {
      this.#options.setRaw(true);
      this.#raw = true;
    }
    this.#editing = true;
    this.#line = [];
    this.#cursor = 0;
    this.#browse = this.#history.length;
    this.#render();
    try {
      while (true) {
        const key = await this.#key();
        const done = this.#apply(key);
        if (done !== undefined) return done;
      }
    } finally {
      this.#editing = false;
    }
  }

  print(text: string): void {
    if (!this.#editing) {
      this.#write(text);
      return;
    }
    this.#write(CLEAR_LINE + text);
    this.#render();
  }

  close(): void {
    if (this.#editing) this.#write(CLEAR_LINE);
    this.#editing = false;
    if (this.#raw) {
      this.#raw = false;
      try {
        this.#options.setRaw(false);
      } catch {
        // The terminal is gone.
      }
    }
  }

  #render(): void {
    const back = this.#line.length - this.#cursor;
    this.#write(
      `${CLEAR_LINE}${this.#options.prompt}${this.#line.join("")}${back > 0 ? `\x1b[${back}D` : ""}`,
    );
  }

  /** Apply one key; returns the finished line, null at EOF, undefined to keep editing. */
  #apply(key: string): string | null | undefined {
    const line = this.#line;
    switch (key) {
      case "\r":
      case "\n": {
        const text = line.join("");
        if (text !== "" && text !== this.#history.at(-1)) this.#history.push(text);
        this.#write(CLEAR_LINE);
        return text;
      }
      case "\x03": // Ctrl-C
        this.#write(CLEAR_LINE);
        throw new InterruptedError("Interrupted");
      case "\x04": // Ctrl-D: end of input on an empty line, else delete under the cursor
        if (line.length === 0) {
          this.#eof = true;
          this.#write(CLEAR_LINE);
          return null;
        }
        if (this.#cursor < line.length) line.splice(this.#cursor, 1);
        break;
      case "\x7f":
      case "\x08":
        if (this.#cursor > 0) line.splice(--this.#cursor, 1);
        break;
      case `${ESC}[3~`:
        if (this.#cursor < line.length) line.splice(this.#cursor, 1);
        break;
      case `${ESC}[D`:
      case "\x02":
        if (this.#cursor > 0) this.#cursor--;
        break;
      case `${ESC}[C`:
      case "\x06":
        if (this.#cursor < line.length) this.#cursor++;
        break;
      case `${ESC}[H`:
      case `${ESC}OH`:
      case "\x01":
        this.#cursor = 0;
        break;
      case `${ESC}[F`:
      case `${ESC}OF`:
      case "\x05":
        this.#cursor = line.length;
        break;
      case "\x15": // Ctrl-U
        line.splice(0, this.#cursor);
        this.#cursor = 0;
        break;
      case `${ESC}[A`:
      case "\x10":
        this.#recall(-1);
        break;
      case `${ESC}[B`:
      case "\x0e":
        this.#recall(1);
        break;
      default:
        if (key.length > 0 && key.codePointAt(0)! >= 0x20 && !key.startsWith(ESC)) {
          line.splice(this.#cursor, 0, key);
          this.#cursor++;
        }
    }
    this.#render();
    return undefined;
  }

  #recall(step: number): void {
    const to = this.#browse + step;
    if (to < 0 || to > this.#history.length) return;
    if (this.#browse === this.#history.length) this.#draft = this.#line;
    this.#browse = to;
    this.#line = to === this.#history.length ? this.#draft : [...this.#history[to]];
    this.#cursor = this.#line.length;
  }

  /** The next key: one character, or a whole escape sequence. */
  async #key(): Promise<string> {
    while (true) {
      const p = this.#pending;
      if (p.length > 0) {
        if (p[0] !== ESC) {
          const ch = String.fromCodePoint(p.codePointAt(0)!);
          this.#pending = p.slice(ch.length);
          return ch;
        }
        // ESC [ params final, or ESC O x.
        const match = ESCAPE_SEQUENCE.exec(p);
        if (match) {
          this.#pending = p.slice(match[0].length);
          return match[0];
        }
      }
      const buffer = new Uint8Array(1024);
      const n = await this.#input.read(buffer);
      if (n === null) return "\x04";
      this.#pending += this.#td.decode(buffer.subarray(0, n), { stream: true });
    }
  }
}
