/**
 * End-to-end tests of `serve --handle-stream CMD` (one coprocess per connection) against the
 * real binary, with `cat`, `jq` and a Python loop as the coprocess.
 */
import { assert, have, ipcat, startServe, tempDir, until, within } from "./_helpers.ts";
import { childrenOf, connectTo, ConnLines, processesRunning, readToEnd, writeText } from "./_proc.ts";

// Answers each line with its own pid and the line upper-cased, flushing per line.
const PY_LOOP = `python3 -u -c "import os,sys
for line in sys.stdin: print(os.getpid(), line.strip().upper())"`;

Deno.test("--handle-stream: one process per connection answers every message, in order", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--handle-stream", PY_LOOP, `${dir.path}/s.sock`]);
  const first = await ipcat(["send", server.address, "a", "b", "c"]);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.trim().split("\n").map((line) => line.split(" "));
  assert.deepEqual(lines.map(([, text]) => text), ["A", "B", "C"]);
  // The same process answered all three; the next connection gets a process of its own.
  assert.equal(new Set(lines.map(([pid]) => pid)).size, 1);
  const second = await ipcat(["send", server.address, "d"]);
  const [pid] = second.stdout.split(" ");
  assert.notEqual(pid, lines[0][0]);
  // Client EOF closed each coprocess's stdin: none is left running.
  await until(() => childrenOf(server.child.pid).length === 0, 5000, "the coprocesses to exit");
});

Deno.test("--handle-stream: a pipelined connection gets one reply per message (cat, 20,000 lines)", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--handle-stream", "cat", `${dir.path}/s.sock`]);
  const input = Array.from({ length: 20_000 }, (_, i) => `message ${i}\n`).join("");
  const result = await within(
    ipcat(["send", "--keep-open", server.address], { stdin: input }),
    30_000,
    "send",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, input);
});

Deno.test(
  "--handle-stream: jq --unbuffered -c answers as a JSON coprocess",
  { ignore: !have("jq") },
  async () => {
    await using dir = await tempDir();
    await using server = await startServe([
      "--handle-stream",
      "jq --unbuffered -c {n:(.n+1)}",
      `${dir.path}/s.sock`,
    ]);
    const conn = await connectTo(server.address);
    const lines = new ConnLines(conn);
    // Each reply arrives while the connection stays open: the coprocess is not waiting for EOF.
    await writeText(conn, '{"n":1}\n');
    assert.equal(await within(lines.next(), 10_000, "first reply"), '{"n":2}');
    await writeText(conn, '{"n":41}\n');
    assert.equal(await within(lines.next(), 10_000, "second reply"), '{"n":42}');
    conn.close();
  },
);

Deno.test("--handle-stream: environment carries the connection id, peer and framing", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle-stream",
    `sh -c 'while read -r m; do echo "$IPCAT_CONN|$IPCAT_PEER|$IPCAT_FRAMING|$m"; done'`,
    `${dir.path}/s.sock`,
  ]);
  const result = await ipcat(["send", server.address, "x"]);
  assert.equal(result.stdout, `1|${server.address}|lines|x\n`);
});

Deno.test("--handle-stream: replies are framed like the messages (netstring)", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle-stream",
    "tr a-z A-Z",
    "-f",
    "netstring",
    `${dir.path}/s.sock`,
  ]);
  const conn = await connectTo(server.address);
  await writeText(conn, "2:hi,3:you,");
  await conn.closeWrite();
  assert.equal(await readToEnd(conn), "2:HI,3:YOU,");
  conn.close();
});

Deno.test("--handle-stream: a message holding a newline closes that connection; others go on", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--handle-stream", "cat", "-f", "netstring", `${dir.path}/s.sock`]);
  const conn = await connectTo(server.address);
  await writeText(conn, "2:ok,3:a\nb,2:no,");
  // The reply before the bad message is delivered, then the connection ends.
  assert.equal(await within(readToEnd(conn), 10_000, "close"), "2:ok,");
  conn.close();
  await server.stderr.waitFor(
    /^ipcat: conn 1: a message holds a newline; --handle-stream passes one message per line; closing$/,
  );
  const next = await ipcat(["send", "-f", "netstring", server.address, "fine"]);
  assert.equal(next.stdout, "fine\n");
});

Deno.test("--handle-stream: a coprocess that exits early ends its connection after its replies", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle-stream",
    "sh -c 'read -r m; echo got $m; exit 3'",
    `${dir.path}/s.sock`,
  ]);
  const conn = await connectTo(server.address);
  await writeText(conn, "one\n");
  assert.equal(await within(readToEnd(conn), 10_000, "close"), "got one\n");
  conn.close();
  await server.stderr.waitFor(/^ipcat: conn 1: \/\S+\/sh \(pid \d+\) exited with status 3$/);
  const next = await ipcat(["send", server.address, "two"]);
  assert.equal(next.stdout, "got two\n");
});

Deno.test("--handle-stream: a reply line over --max-frame is not sent; that connection closes", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle-stream",
    `sh -c 'while read -r n; do head -c "$n" /dev/zero | tr "\\0" x; echo; done'`,
    "--max-frame",
    "100",
    `${dir.path}/s.sock`,
  ]);
  const conn = await connectTo(server.address);
  await writeText(conn, "10\n200\n");
  assert.equal(await within(readToEnd(conn), 10_000, "close"), "x".repeat(10) + "\n");
  conn.close();
  await server.stderr.waitFor(
    /conn 1: handler reply is larger than --max-frame \(100 bytes\); not sent, closing/,
  );
});

Deno.test("--handle-stream: a client that goes away gets its coprocess terminated", async () => {
  await using dir = await tempDir();
  const marker = `41.${Deno.pid}`;
  // Writes without end and ignores its stdin: only a failed write to the client stops it.
  await using server = await startServe(["--handle-stream", `yes ${marker}`, `${dir.path}/s.sock`]);
  const conn = await connectTo(server.address);
  assert.equal(await within(new ConnLines(conn).next(), 10_000, "first line"), marker);
  conn.close();
  await until(() => processesRunning("yes", marker).length === 0, 5000, "the coprocess to be terminated");
  await until(() => childrenOf(server.child.pid).length === 0, 5000, "the coprocess to be reaped");
});

Deno.test("--handle-stream: SIGTERM closes each coprocess's stdin, delivers its replies, exits 0", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--handle-stream", PY_LOOP, `${dir.path}/s.sock`]);
  const conn = await connectTo(server.address);
  const lines = new ConnLines(conn);
  await writeText(conn, "a\n");
  assert.match((await within(lines.next(), 10_000, "reply")) ?? "", / A$/);
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0, server.stderr.text);
  assert.equal(await lines.next(), null);
  conn.close();
});

Deno.test("--handle-stream: --count N passes N messages, then exits 0", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--handle-stream", "cat", "--count", "2", `${dir.path}/s.sock`]);
  const result = await ipcat(["send", server.address, "a", "b", "c"]);
  assert.equal(result.stdout, "a\nb\n");
  assert.equal((await server.child.status).code, 0);
});

Deno.test("--handle-stream: usage errors are exit 2 at startup", async () => {
  await using dir = await tempDir();
  const missing = await ipcat(["serve", "--handle-stream", "no-such-program-xyz", `${dir.path}/s.sock`]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^ipcat: Cannot run "no-such-program-xyz": not found on PATH/);
  const both = await ipcat(["serve", "--handle-stream", "cat", "--handle", "cat", `${dir.path}/s.sock`]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /Cannot combine --handle and --handle-stream/);
  const jobs = await ipcat(["serve", "--handle-stream", "cat", "--jobs", "2", `${dir.path}/s.sock`]);
  assert.equal(jobs.code, 2);
  assert.match(jobs.stderr, /--jobs only applies to --handle/);
});
