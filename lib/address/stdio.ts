/**
 * `-`: ipcat's own stdin and stdout as one connection, for `pipe`.
 *
 * Reading stdin fast is the hard part. `Deno.stdin.readSync` into one reused buffer runs at
 * the speed of C, async reads at ~60% of it (measured here), but `readSync` on a pipe blocks the
 * whole event loop until data arrives: a shell loop that waits for a reply before writing its
 * next line would deadlock. So the bulk path ({@linkcode StdioConnection.readView}) runs
 * `readSync` in a worker that fills a ring of shared buffers, and the main thread writes them
 * out as they fill. A regular file never blocks, so it is read on the main thread directly.
 *
 * @example
 * ```ts
 * import { connect, parseAddress } from "./mod.ts";
 *
 * const address = parseAddress("-"); // { scheme: "stdio", text: "-" }
 * const conn = await connect(address); // stdin → conn.read, conn.write → stdout
 * await conn.write(new TextEncoder().encode("hello\n"));
 * conn.close();
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";
import type { Address, Connection, Transport } from "./types.ts";

/** The `-` address. */
export interface StdioAddress extends Address {
  /** Always `stdio`. */
  readonly scheme: "stdio";
}

/** One read's worth: the size measured fastest here for reading a pipe. */
const SLOT_SIZE = 256 * 1024;
/** Slots in the ring: the worker reads ahead this far, then waits (backpressure). */
const SLOTS = 4;
// Slot states besides a byte count (a filled slot). Inlined in the worker source below.
const EMPTY = -1;
const EOF = -2;
const FAILED = -3;

/**
 * The worker's whole program, shipped as source text so `deno compile` needs no extra file.
 * It runs alone in its isolate: no imports, no closures, constants written out.
 */
function stdinWorker() {
  self.addEventListener("message", (event: Event) => {
    const { data, states, slotSize } = (event as MessageEvent).data as {
      data: SharedArrayBuffer;
      states: Int32Array;
      slotSize: number;
    };
    for (let slot = 0;; slot = (slot + 1) % states.length) {
      let state;
      // -1: empty. Wait for the main thread to hand the slot back.
      while ((state = Atomics.load(states, slot)) !== -1) Atomics.wait(states, slot, state);
      let n: number | null;
      try {
        n = Deno.stdin.readSync(new Uint8Array(data, slot * slotSize, slotSize));
      } catch {
        n = -3;
      }
      // -2: EOF, -3: read failed.
      Atomics.store(states, slot, n === null ? -2 : n);
      Atomics.notify(states, slot);
      if (n === null || n === -3) return;
    }
  });
}

/** Is stdin a regular file (which `readSync` reads without ever waiting on a writer)? */
function stdinIsFile(): boolean {
  try {
    return Deno.statSync("/dev/stdin").isFile;
  } catch {
    return false;
  }
}

/** Reads stdin in a worker into a ring of shared slots; yields each slot as a view. */
class StdinRing {
  #worker: Worker;
  #url: string;
  #data = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
  #states = new Int32Array(new SharedArrayBuffer(SLOTS * 4)).fill(EMPTY);
  #slot = 0;
  #held = false;

  constructor() {
    this.#url = URL.createObjectURL(
      new Blob([`(${stdinWorker.toString()})();`], { type: "text/javascript" }),
    );
    this.#worker = new Worker(this.#url, { type: "module" });
    this.#worker.postMessage({ data: this.#data, states: this.#states, slotSize: SLOT_SIZE });
  }

  /** The next chunk, valid until the next call; null at EOF. */
  async next(): Promise<Uint8Array | null> {
    const states = this.#states;
    if (this.#held) {
      Atomics.store(states, this.#slot, EMPTY);
      Atomics.notify(states, this.#slot);
      this.#slot = (this.#slot + 1) % SLOTS;
      this.#held = false;
    }
    let n = Atomics.load(states, this.#slot);
    while (n === EMPTY) {
      const wait = Atomics.waitAsync(states, this.#slot, EMPTY);
      if (wait.async) await wait.value;
      n = Atomics.load(states, this.#slot);
    }
    if (n === EOF || n === FAILED) {
      this.close();
      if (n === FAILED) throw new Error("Cannot read stdin");
      return null;
    }
    this.#held = true;
    return new Uint8Array(this.#data, this.#slot * SLOT_SIZE, n);
  }

  close(): void {
    this.#worker.terminate();
    URL.revokeObjectURL(this.#url);
  }
}

/**
 * stdin and stdout as a {@linkcode Connection}. `closeWrite` closes stdout, so whoever
 * reads it sees EOF.
 */
export class StdioConnection implements Connection {
  readonly peer = "-";
  #ring: StdinRing | null = null;
  #buffer: Uint8Array | null = null;
  #stdoutClosed = false;

  /** Async reads: never block the event loop, fine for framed (CPU-bound) paths. */
  read(buffer: Uint8Array): Promise<number | null> {
    return Deno.stdin.read(buffer);
  }

  /** The bulk path: see the module doc for why a worker, and when not. */
  async readView(): Promise<Uint8Array | null> {
    if (this.#ring) return await this.#ring.next();
    if (!this.#buffer) {
      this.#buffer = new Uint8Array(SLOT_SIZE);
      if (!Deno.stdin.isTerminal() && !stdinIsFile()) {
        this.#ring = new StdinRing();
        return await this.#ring.next();
      }
    }
    const n = Deno.stdin.isTerminal()
      ? await Deno.stdin.read(this.#buffer)
      : Deno.stdin.readSync(this.#buffer);
    return n === null ? null : this.#buffer.subarray(0, n);
  }

  write(data: Uint8Array): Promise<number> {
    return Deno.stdout.write(data);
  }

  closeWrite(): Promise<void> {
    if (!this.#stdoutClosed) {
      this.#stdoutClosed = true;
      try {
        Deno.stdout.close();
      } catch {
        // Already closed: the reader has its EOF.
      }
    }
    return Promise.resolve();
  }

  close(): void {
    this.#ring?.close();
    this.#ring = null;
  }
}

/** `-`: stdin/stdout (connect only: `pipe` reads and writes it, nobody listens on it). */
export const stdioTransport: Transport<StdioAddress> = {
  scheme: "stdio",
  syntax: ["-"],
  help: "stdin/stdout (pipe)",
  standardStreams: true,
  bare: (text) => text === "-",
  parse(rest) {
    if (rest !== "-" && rest !== "") {
      throw new UsageError(`Cannot parse address "stdio:${rest}": stdio takes nothing`, "write -");
    }
    return { scheme: "stdio", text: "-" };
  },
  connect: () => Promise.resolve(new StdioConnection()),
};
