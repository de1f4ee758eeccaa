/**
 * Test helpers that look at processes and connections from the outside: descriptor counts,
 * child processes, processes by command line, raw socket clients.
 * @module
 */

/** How many descriptors process `pid` has open. */
export function fdCount(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

/** Pids of the direct children of `pid` (any state, zombies included). */
export function childrenOf(pid: number): number[] {
  const pids: number[] = [];
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    } catch {
      // The thread ended while we looked.
    }
  }
  return pids;
}

/** Pids of live processes running `program` (by base name) with `arg` among its arguments. */
export function processesRunning(program: string, arg: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      if (argv[0].split("/").pop() === program && argv.slice(1).includes(arg)) pids.push(Number(entry.name));
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

/** Connect to `unix:PATH` or `tcp:HOST:PORT` as printed by `listening on`. */
export function connectTo(address: string): Promise<Deno.Conn> {
  if (address.startsWith("unix:")) return Deno.connect({ transport: "unix", path: address.slice(5) });
  const match = /^tcp:(.*):(\d+)$/.exec(address);
  if (!match) throw new TypeError(`Cannot connect to "${address}"`);
  return Deno.connect({ hostname: match[1], port: Number(match[2]) });
}

const te = new TextEncoder();
const td = new TextDecoder();

/** Write all of `text` (or bytes). */
export async function writeText(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  let bytes = typeof data === "string" ? te.encode(data) : data;
  while (bytes.length) bytes = bytes.subarray(await conn.write(bytes));
}

/** Read until EOF (or a reset); returns the text read. */
export async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(65536);
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += td.decode(buffer.subarray(0, n), { stream: true });
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
  return text;
}

/** Reads lines from a connection as they come. */
export class ConnLines {
  #conn: Deno.Conn;
  #buffered = "";
  #buffer = new Uint8Array(65536);
  /** Read lines from `conn` (the caller still owns and closes it). */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }
  /** The next line (without `\n`), or null at EOF. */
  async next(): Promise<string | null> {
    while (true) {
      const nl = this.#buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffered.slice(0, nl);
        this.#buffered = this.#buffered.slice(nl + 1);
        return line;
      }
      const n = await this.#conn.read(this.#buffer);
      if (n === null) return null;
      this.#buffered += td.decode(this.#buffer.subarray(0, n));
    }
  }
}
