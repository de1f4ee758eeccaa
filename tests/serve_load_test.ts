/**
 * `serve` under load and against misbehaving peers: many clients, running out of file
 * descriptors, --max-connections, clients that vanish mid-message, mid-reply or mid-handler.
 */
import { assert, IPCAT, ipcat, startListening, startServe, tempDir, until } from "./_helpers.ts";
import { childrenOf, connectTo, ConnLines, fdCount, writeText } from "./_proc.ts";

/** `clients` connections at once, each doing `trips` sequential round trips; returns failures. */
async function echoLoad(address: string, clients: number, trips: number): Promise<string[]> {
  const failures: string[] = [];
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    let conn: Deno.Conn | undefined;
    try {
      conn = await connectTo(address);
      const lines = new ConnLines(conn);
      for (let t = 0; t < trips; t++) {
        const message = `client ${c} trip ${t}`;
        await writeText(conn, message + "\n");
        const reply = await lines.next();
        if (reply !== message) throw new Error(`expected "${message}", got "${reply}"`);
      }
    } catch (error) {
      failures.push(`client ${c}: ${(error as Error).message}`);
    } finally {
      conn?.close();
    }
  }));
  return failures;
}

Deno.test("load: 1,000 concurrent clients × 100 round trips against --echo, zero failures", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", `${dir.path}/s.sock`]);
  const failures = await echoLoad(server.address, 1000, 100);
  assert.deepEqual(failures.slice(0, 5), []);
  assert.equal(failures.length, 0);
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

Deno.test("load: out of file descriptors, the accept loop backs off and serves again", async () => {
  await using dir = await tempDir();
  await using server = await startListening("sh", [
    "-c",
    `ulimit -n 256; exec "${IPCAT}" serve --echo "${dir.path}/s.sock"`,
  ]);
  // More clients than descriptors: the first ~240 are accepted, the rest wait in the backlog.
  const conns = await Promise.all(Array.from({ length: 400 }, () => connectTo(server.address)));
  await server.stderr.waitFor(
    /accept failed: too many open files \(ulimit -n reached\); new connections wait, retrying/,
  );
  // The ones already accepted are still served meanwhile.
  await writeText(conns[0], "still here\n");
  assert.equal(await new ConnLines(conns[0]).next(), "still here");
  for (const conn of conns) conn.close();
  // Once descriptors free up it accepts again and serves new clients.
  const failures = await echoLoad(server.address, 20, 5);
  assert.deepEqual(failures, []);
  await server.stderr.waitFor(/accepting connections again/);
  assert.ok(server.child.pid > 0);
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0, server.stderr.text);
  // One line per episode, not one per retry.
  const logged = server.stderr.lines.filter((l) => l.includes("accept failed"));
  assert.equal(logged.length, 1, logged.join("\n"));
});

Deno.test("load: --max-connections N makes connection N+1 wait, with a log line", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", "--max-connections", "2", `${dir.path}/s.sock`]);
  const a = await connectTo(server.address);
  const b = await connectTo(server.address);
  await writeText(a, "a\n");
  await writeText(b, "b\n");
  assert.equal(await new ConnLines(a).next(), "a");
  assert.equal(await new ConnLines(b).next(), "b");
  const c = await connectTo(server.address);
  await writeText(c, "c\n");
  const cLines = new ConnLines(c);
  const cReply = cLines.next();
  await server.stderr.waitFor(/--max-connections 2 reached; new connections wait/);
  a.close();
  assert.equal(await cReply, "c");
  b.close();
  c.close();
});

Deno.test("faults: clients vanishing mid-message, mid-reply or mid-handler leak no descriptor or process", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle",
    `sh -c 'read n; sleep "$n"; head -c 300000 /dev/zero'`,
    "-f",
    "lines",
    "--max-frame",
    "1M",
    `${dir.path}/s.sock`,
  ]);
  const pid = server.child.pid;
  // Warm up: a full exchange, so lazily opened descriptors are already counted.
  const warm = await ipcat(["send", server.address, "0"]);
  assert.equal(warm.stdout.length, 300001);
  await until(() => childrenOf(pid).length === 0, 5000, "warm-up handler reaped");
  const before = fdCount(pid);

  for (let round = 0; round < 5; round++) {
    // Mid-message: half a line, then gone.
    const a = await connectTo(server.address);
    await writeText(a, "0.1 and no newline");
    a.close();
    // While its handler runs.
    const b = await connectTo(server.address);
    await writeText(b, "0.3\n");
    await until(() => childrenOf(pid).length > 0, 5000, "handler started");
    b.close();
    // Mid-reply: reads a little of a reply larger than the socket buffer, then gone.
    const c = await connectTo(server.address);
    await writeText(c, "0\n");
    await c.read(new Uint8Array(1000));
    c.close();
  }
  await until(() => childrenOf(pid).length === 0, 10000, "every handler reaped");
  await until(() => fdCount(pid) <= before, 10000, `descriptors back to ${before}`);
  // And it still serves.
  const after = await ipcat(["send", server.address, "0"]);
  assert.equal(after.stdout.length, 300001);
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

Deno.test("faults: --echo, --broadcast, --exec leak no descriptor or process when clients vanish", async () => {
  for (const mode of [["--echo"], ["--broadcast"], ["--exec", "cat"]]) {
    await using dir = await tempDir();
    await using server = await startServe([...mode, `${dir.path}/s.sock`]);
    const pid = server.child.pid;
    const warm = await ipcat(["send", server.address, "x"]);
    assert.equal(warm.code, 0);
    await until(() => fdCount(pid) > 0);
    const before = fdCount(pid);
    const conns = await Promise.all(Array.from({ length: 50 }, () => connectTo(server.address)));
    for (const [i, conn] of conns.entries()) {
      await writeText(conn, i % 2 ? "half a mess" : "whole\nhalf");
      conn.close();
    }
    await until(() => fdCount(pid) <= before, 10000, `${mode}: descriptors back to ${before}`);
    await until(() => childrenOf(pid).length === 0, 10000, `${mode}: no child left`);
    const after = await ipcat(["send", server.address, "y"]);
    assert.equal(after.code, 0);
  }
});
