import assert from "node:assert/strict";
import { connect, listen, parseAddress } from "../address/mod.ts";
import type { Connection } from "../address/types.ts";
import { within } from "../../tests/_helpers.ts";
import { relay } from "./relay.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/**
 * A relay between two real Unix socket pairs: `client` ↔ a ⇄ b ↔ `server`. Disposing
 * closes every connection and removes the socket files.
 */
async function relayedPair(): Promise<
  { client: Connection; server: Connection; a: Connection; b: Connection } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "ipcat-relay-", dir: "/tmp" });
  const front = parseAddress(`unix:${dir}/front.sock`);
  const back = parseAddress(`unix:${dir}/back.sock`);
  const frontListener = await listen(front);
  const backListener = await listen(back);
  const client = await connect(front);
  const server = await connect(back);
  const a = await frontListener.accept();
  const b = await backListener.accept();
  frontListener.close();
  backListener.close();
  return {
    client,
    server,
    a,
    b,
    async [Symbol.asyncDispose]() {
      for (const conn of [client, server, a, b]) conn.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function readToEnd(conn: Connection): Promise<string> {
  const buffer = new Uint8Array(64 * 1024);
  let text = "";
  for (let n; (n = await conn.read(buffer)) !== null;) text += td.decode(buffer.subarray(0, n));
  return text;
}

async function readSome(conn: Connection): Promise<string> {
  const buffer = new Uint8Array(64 * 1024);
  const n = await conn.read(buffer);
  return n === null ? "<EOF>" : td.decode(buffer.subarray(0, n));
}

Deno.test("relay: the client half-closes, the server sees EOF and its replies keep flowing", async () => {
  await using pair = await relayedPair();
  const { client, server } = pair;
  const relaying = relay(pair.a, pair.b);
  await client.write(te.encode("request"));
  await client.closeWrite();
  // The half-close reached the server: it reads the request, then EOF.
  assert.equal(await within(readToEnd(server), 5000, "the half-close reaching the server"), "request");
  // Its answer after that EOF still reaches the client, in several writes.
  for (const part of ["one ", "two ", "three"]) {
    await server.write(te.encode(part));
    assert.equal(await readSome(client), part);
  }
  await server.closeWrite();
  assert.equal(await readSome(client), "<EOF>");
  assert.deepEqual(await relaying, { forward: 7, backward: 13 });
});

Deno.test("relay: the server half-closes first, the client keeps sending until it is done", async () => {
  await using pair = await relayedPair();
  const { client, server } = pair;
  const relaying = relay(pair.a, pair.b);
  await server.write(te.encode("hello\n"));
  await server.closeWrite();
  assert.equal(await within(readToEnd(client), 5000, "the half-close reaching the client"), "hello\n");
  // 1 MiB after the server's EOF: every byte arrives.
  const big = new Uint8Array(1 << 20).fill(0x61);
  const receiving = readToEnd(server);
  let at = 0;
  while (at < big.length) at += await client.write(big.subarray(at));
  await client.closeWrite();
  assert.equal((await receiving).length, big.length);
  assert.deepEqual(await relaying, { forward: big.length, backward: 6 });
});
