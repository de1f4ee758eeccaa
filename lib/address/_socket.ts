/**
 * A Deno socket (Unix, TCP or TLS) behind ipcat's one connection shape.
 *
 * @module
 */
import type { Connection } from "./types.ts";

/** A Deno socket as a {@linkcode Connection}. */
export class SocketConnection implements Connection {
  #conn: Deno.Conn;
  #closed = false;
  readonly peer: string;

  /** Wrap `conn`; `peer` names the other end in logs. */
  constructor(conn: Deno.Conn, peer: string) {
    this.#conn = conn;
    this.peer = peer;
  }
  read(buffer: Uint8Array): Promise<number | null> {
    return this.#conn.read(buffer);
  }
  write(data: Uint8Array): Promise<number> {
    return this.#conn.write(data);
  }
  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by a stream that finished: nothing left to release.
    }
  }
}
