import assert from "node:assert/strict";
import { connect, listen, parseAddress } from "../address/mod.ts";
import type { Address, Connection } from "../address/types.ts";
import { within } from "../../tests/_helpers.ts";
import type { LogLevel } from "../log.ts";
import { Server, type Session } from "./server.ts";

const te = new TextEncoder();
const td = new TextDecoder();

async function socketDir(): Promise<{ address: Address } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "ipcat-server-", dir: "/tmp" });
  return {
    address: parseAddress(`unix:${path}/s.sock`),
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Everything `conn` sends until EOF (or a reset, which counts as the end). */
async function readToEnd(conn: Connection): Promise<string> {
  const buffer = new Uint8Array(1024);
  let text = "";
  try {
    for (let n; (n = await conn.read(buffer)) !== null;) text += td.decode(buffer.subarray(0, n));
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
  return text;
}

Deno.test("Server numbers sessions in accept order and closes each when its handler returns", async () => {
  await using dir = await socketDir();
  const server = new Server(await listen(dir.address), { log: () => {} });
  const serving = server.run(async (session) => {
    await session.conn.write(te.encode(`you are ${session.id}\n`));
  });
  for (const id of [1, 2, 3]) {
    const client = await connect(dir.address);
    // EOF after the greeting: the server closed the connection when the handler returned.
    assert.equal(await readToEnd(client), `you are ${id}\n`);
    client.close();
  }
  server.stop();
  await serving;
});

Deno.test("Server.stop closes idle connections at once and lets busy ones finish their batch", async () => {
  await using dir = await socketDir();
  const server = new Server(await listen(dir.address), { log: () => {} });
  const handlers: Session[] = [];
  const bothIn = Promise.withResolvers<void>();
  const serving = server.run(async (session) => {
    handlers.push(session);
    if (handlers.length === 2) bothIn.resolve();
    if (session.id === 1) {
      // Idle: waiting for a message that never comes.
      await readToEnd(session.conn).catch(() => "");
      return;
    }
    session.busy = true;
    await new Promise((resolve) => session.stopping.addEventListener("abort", resolve));
    await session.conn.write(te.encode("reply after stop\n"));
  });
  const idle = await connect(dir.address);
  const busy = await connect(dir.address);
  await bothIn.promise;
  server.stop();
  assert.equal(await within(readToEnd(idle), 5000, "the idle connection closing on stop"), "");
  assert.equal(await readToEnd(busy), "reply after stop\n");
  await serving;
  idle.close();
  busy.close();
  // The listener is closed: nobody new gets in.
  await assert.rejects(connect(dir.address));
});

Deno.test("Server.take counts messages against count and stops once it is reached", async () => {
  await using dir = await socketDir();
  const server = new Server(await listen(dir.address), { log: () => {}, count: 3 });
  const allowed: number[] = [];
  const serving = server.run((session) => {
    allowed.push(server.take(2));
    if (!session.stopping.aborted) allowed.push(server.take(2));
    allowed.push(server.take(2));
    return Promise.resolve();
  });
  const client = await connect(dir.address);
  // run() resolves by itself: the count stopped the server.
  await serving;
  client.close();
  assert.deepEqual(allowed, [2, 1, 0]);
  assert.equal(server.stopping.aborted, true);
});

Deno.test("Server with maxConnections lets the next client wait until a connection ends", async () => {
  await using dir = await socketDir();
  const limitReached = Promise.withResolvers<void>();
  const log = (level: LogLevel, line: string) => {
    if (level === "info" && line === "--max-connections 1 reached; new connections wait") {
      limitReached.resolve();
    }
  };
  const server = new Server(await listen(dir.address), { log, maxConnections: 1 });
  const release = Promise.withResolvers<void>();
  const started: number[] = [];
  const secondStarted = Promise.withResolvers<void>();
  const serving = server.run(async (session) => {
    started.push(session.id);
    if (session.id === 1) await release.promise;
    else secondStarted.resolve();
    await session.conn.write(te.encode(`${session.id}\n`));
  });
  const first = await connect(dir.address);
  const second = await connect(dir.address);
  // Once the limit is logged the loop waits for a free slot: the second client is connected
  // (in the backlog) but not served while the first holds the slot.
  await within(limitReached.promise, 5000, "the limit line");
  assert.deepEqual(started, [1]);
  release.resolve();
  assert.equal(await readToEnd(first), "1\n");
  await secondStarted.promise;
  assert.equal(await readToEnd(second), "2\n");
  server.stop();
  await serving;
  first.close();
  second.close();
});
