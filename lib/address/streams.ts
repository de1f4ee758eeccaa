/**
 * Web Streams over a {@linkcode Connection}, for the rare caller that wants them: ipcat's own
 * paths use `read`/`write` on reused buffers, measured ~1.7× faster than streams on the hot
 * paths. Kept out of `mod.ts`: referencing the stream classes at module load makes Deno
 * load its streams implementation (~3 ms at startup).
 *
 * @example
 * ```ts
 * import { connect, listen, parseAddress } from "./mod.ts";
 * import { toStreams } from "./streams.ts";
 *
 * const address = parseAddress(`unix:${await Deno.makeTempDir()}/a.sock`);
 * const listener = await listen(address);
 * const { readable, writable } = toStreams(await connect(address));
 * const server = await listener.accept();
 * await writable.getWriter().close(); // half-closes: the server reads EOF
 * console.log(await server.read(new Uint8Array(1))); // null
 * server.close();
 * await readable.cancel(); // closes the connection
 * listener.close();
 * ```
 * @module
 */
import type { Connection } from "./types.ts";

/** The two stream faces of one connection. */
export interface ConnectionStreams {
  /** The bytes the peer sends; cancelling it closes the connection. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer; closing it half-closes (`closeWrite`), aborting it closes the connection. */
  readonly writable: WritableStream<Uint8Array>;
}

/** Read size of the stream face: one socket buffer's worth. */
const CHUNK_SIZE = 64 * 1024;

/** Wrap `conn` as Web Streams. Each chunk read is a fresh buffer, so a reader may keep it. */
export function toStreams(conn: Connection): ConnectionStreams {
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffer = new Uint8Array(CHUNK_SIZE);
      const n = await conn.read(buffer);
      if (n === null) controller.close();
      else controller.enqueue(buffer.subarray(0, n));
    },
    cancel() {
      conn.close();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      for (let done = 0; done < chunk.length;) done += await conn.write(chunk.subarray(done));
    },
    close() {
      return conn.closeWrite();
    },
    abort() {
      conn.close();
    },
  });
  return { readable, writable };
}
