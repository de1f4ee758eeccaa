/**
 * End-to-end tests of `serve --handle`, `--exec` and `--broadcast` against the real binary.
 */
import { assert, ipcat, startServe, tempDir, until } from "./_helpers.ts";
import { childrenOf, connectTo, ConnLines, processesRunning, readToEnd, writeText } from "./_proc.ts";

const td = new TextDecoder();

// --handle ----------------------------------------------------------------------------------

Deno.test("--handle: each message's reply is the handler's stdout, one trailing newline trimmed", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--handle", "tr a-z A-Z", `${dir.path}/s.sock`]);
  const result = await ipcat(["send", server.address, "hello", "two words"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "HELLO\nTWO WORDS\n");
});

Deno.test("--handle: environment carries the connection id, peer and framing", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle",
    `sh -c 'printf "%s|%s|%s" "$IPCAT_CONN" "$IPCAT_PEER" "$IPCAT_FRAMING"'`,
    "-f",
    "netstring",
    `${dir.path}/s.sock`,
  ]);
  const first = await ipcat(["send", "-f", "netstring", server.address, "x"]);
  const second = await ipcat(["send", "-f", "netstring", server.address, "y"]);
  assert.equal(first.stdout, `1|${server.address}|netstring\n`);
  assert.equal(second.stdout, `2|${server.address}|netstring\n`);
});

Deno.test("--handle: TCP peers are host:port in IPCAT_PEER", async () => {
  await using server = await startServe(["--handle", `sh -c 'printf %s "$IPCAT_PEER"'`, "tcp:0"]);
  const result = await ipcat(["send", server.address, "x"]);
  assert.match(result.stdout, /^tcp:127\.0\.0\.1:\d+\n$/);
});

Deno.test("--handle: a program that cannot be started is exit 2 at startup", async () => {
  await using dir = await tempDir();
  const missing = await ipcat(["serve", "--handle", "no-such-program-xyz --flag", `${dir.path}/s.sock`]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /ipcat: Cannot run "no-such-program-xyz": not found on PATH/);
  await Deno.writeTextFile(`${dir.path}/script`, "echo hi\n");
  const notExecutable = await ipcat(["serve", "--exec", `${dir.path}/script`, `${dir.path}/s.sock`]);
  assert.equal(notExecutable.code, 2);
  assert.match(notExecutable.stderr, /not an executable file/);
  assert.doesNotMatch(notExecutable.stderr, /listening on/);
});

Deno.test("--handle: modes are exclusive, and mode options need their mode", async () => {
  for (
    const args of [
      ["--handle", "cat", "--echo"],
      ["--handle", "cat", "--exec", "cat"],
      ["--broadcast", "--exec", "cat"],
      ["--broadcast", "--echo"],
      ["--jobs", "2"],
      ["--exec", "cat", "--count", "1"],
      ["--broadcast", "--handle-timeout", "1s"],
    ]
  ) {
    const result = await ipcat(["serve", ...args, "tcp:0"]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, /^ipcat: /);
  }
  const badDuration = await ipcat(["serve", "--handle", "cat", "--handle-timeout", "soon", "tcp:0"]);
  assert.equal(badDuration.code, 2);
  assert.match(badDuration.stderr, /Cannot parse duration "soon"/);
});

Deno.test("--handle: replies keep request order when handlers finish out of order", async () => {
  await using dir = await tempDir();
  // Each handler sleeps for the number it is given, then reports on stderr and stdout.
  await using server = await startServe([
    "--handle",
    `sh -c 'read n; sleep "$n"; echo "finished $n" >&2; echo "reply $n"'`,
    "--jobs",
    "3",
    `${dir.path}/s.sock`,
  ]);
  const result = await ipcat(["send", server.address, "0.6", "0.3", "0"]);
  assert.equal(result.stdout, "reply 0.6\nreply 0.3\nreply 0\n");
  // They ran at once and finished in the other order.
  await server.stderr.waitFor(/finished 0\.6/);
  const finished = server.stderr.lines.filter((l) => l.includes("finished")).map((l) =>
    l.replace(/.*finished /, "")
  );
  assert.deepEqual(finished, ["0", "0.3", "0.6"]);
  assert.ok(server.stderr.lines.includes("ipcat: conn 1: finished 0"), server.stderr.text);
});

Deno.test("--handle: --jobs bounds handlers running at once across connections", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/running`);
  // Each handler marks itself running, counts the marks, and unmarks when done.
  const script = `touch "$R/$$"; n=$(ls "$R" | wc -l); sleep 0.1; rm "$R/$$"; echo $n`;
  await using server = await startServe(
    ["--handle", `sh -c '${script}'`, "--jobs", "2", `${dir.path}/s.sock`],
    { env: { R: `${dir.path}/running` } },
  );
  const clients = await Promise.all(
    [1, 2, 3].map(() => ipcat(["send", server.address, "a", "b", "c"])),
  );
  const counts = clients.flatMap((c) => c.stdout.trim().split("\n").map(Number));
  assert.equal(counts.length, 9);
  assert.ok(Math.max(...counts) <= 2, `more than 2 at once: ${counts}`);
});

Deno.test("--handle: stderr is prefixed with the connection id; failures are logged, reply still sent", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle",
    `sh -c 'echo partial; echo "something broke" >&2; exit 3'`,
    `${dir.path}/s.sock`,
  ]);
  const result = await ipcat(["send", server.address, "x"]);
  assert.equal(result.stdout, "partial\n");
  await server.stderr.waitFor(/^ipcat: conn 1: something broke$/);
  await server.stderr.waitFor(/^ipcat: conn 1: handler \(pid \d+\) exited with status 3$/);
  const killed = await ipcat(["send", server.address, "y"]);
  assert.equal(killed.code, 0);
});

Deno.test("--handle: a handler killed by a signal is logged", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle",
    `sh -c 'echo before; kill -9 $$'`,
    `${dir.path}/s.sock`,
  ]);
  const result = await ipcat(["send", server.address, "x"]);
  assert.equal(result.stdout, "before\n");
  await server.stderr.waitFor(/conn 1: handler \(pid \d+\) killed by SIGKILL/);
});

Deno.test("--handle: a reply over --max-frame is not sent; that connection closes, others go on", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle",
    `sh -c 'read n; head -c "$n" /dev/zero | tr "\\0" x'`,
    "--max-frame",
    "100",
    `${dir.path}/s.sock`,
  ]);
  const result = await ipcat(["send", server.address, "3", "1000", "4"]);
  assert.equal(result.stdout, "xxx\n");
  await server.stderr.waitFor(/conn 1: handler reply is larger than --max-frame \(100 bytes\); not sent/);
  const next = await ipcat(["send", server.address, "100"]);
  assert.equal(next.stdout, "x".repeat(100) + "\n");
});

Deno.test("--handle: --handle-timeout terminates the handler and what it started", async () => {
  await using dir = await tempDir();
  const marker = `31.${Deno.pid}`;
  await using server = await startServe([
    "--handle",
    // The shell ignores SIGTERM: SIGKILL has to follow.
    `sh -c 'trap "" TERM; echo started; sleep ${marker}; echo never'`,
    "--handle-timeout",
    "200ms",
    `${dir.path}/s.sock`,
  ]);
  const result = await ipcat(["send", server.address, "x"]);
  assert.equal(result.stdout, "started\n");
  await server.stderr.waitFor(/conn 1: handler \(pid \d+\) ran longer than 200ms; terminating it/);
  await until(() => processesRunning("sleep", marker).length === 0, 5000, "the handler's sleep to go");
  assert.deepEqual(childrenOf(server.child.pid), []);
});

Deno.test("--handle: length framing carries multi-line replies as one message", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle",
    "sh -c 'cat; echo; echo second line'",
    "-f",
    "length",
    `${dir.path}/s.sock`,
  ]);
  const result = await ipcat(["send", "-f", "length", "-e", "base64", server.address, btoa("first")]);
  assert.equal(atob(result.stdout.trim()), "first\nsecond line\n");
});

Deno.test("--handle: under msgpack a reply that is not one value closes the connection", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--handle",
    "sh -c 'cat; cat /dev/null; printf \"\\\\300\"'",
    "-f",
    "msgpack",
    `${dir.path}/s.sock`,
  ]);
  // Reply = the request (one value) then nil: two values.
  const result = await ipcat(["send", "-f", "msgpack", server.address, '"hi"']);
  assert.equal(result.stdout, "");
  await server.stderr.waitFor(/conn 1: handler reply is not exactly one MessagePack value/);
});

Deno.test("--handle: --count N answers N messages, then exits 0 and removes the socket", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.sock`;
  await using server = await startServe(["--handle", "tr a-z A-Z", "--count", "2", path]);
  const result = await ipcat(["send", server.address, "a", "b"]);
  assert.equal(result.stdout, "A\nB\n");
  const status = await server.child.status;
  assert.equal(status.code, 0);
  assert.equal(await Deno.lstat(path).then(() => true, () => false), false);
});

Deno.test("--handle: SIGTERM finishes the reply in flight, then exits 0 with no handler left", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.sock`;
  await using server = await startServe([
    "--handle",
    `sh -c 'echo running >&2; sleep 0.5; echo done'`,
    path,
  ]);
  const idle = await connectTo(server.address);
  const client = ipcat(["send", server.address, "x"]);
  await server.stderr.waitFor(/conn 2: running/);
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  assert.equal((await client).stdout, "done\n");
  // The idle connection was closed, not waited for.
  assert.equal(await readToEnd(idle), "");
  idle.close();
  assert.equal(await Deno.lstat(path).then(() => true, () => false), false);
});

// --exec ------------------------------------------------------------------------------------

Deno.test("--exec: the connection's raw bytes go through CMD; client EOF closes CMD's stdin", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--exec",
    "sh -c 'tr a-z A-Z; echo \"[$IPCAT_CONN]\"'",
    `${dir.path}/s.sock`,
  ]);
  const conn = await connectTo(server.address);
  await writeText(conn, "no framing\nhere");
  await conn.closeWrite();
  assert.equal(await readToEnd(conn), "NO FRAMING\nHERE[1]\n");
  conn.close();
});

Deno.test("--exec: CMD's exit closes the connection after its output is delivered", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--exec",
    "sh -c 'head -c 100000 /dev/zero; echo bye'",
    `${dir.path}/s.sock`,
  ]);
  const conn = await connectTo(server.address);
  // The client never half-closes: CMD's exit alone ends the exchange.
  const text = await readToEnd(conn);
  assert.equal(text.length, 100004);
  assert.ok(text.endsWith("bye\n"));
  conn.close();
  await until(() => childrenOf(server.child.pid).length === 0, 5000, "no child left");
});

Deno.test("--exec: a client that goes away gets CMD terminated", async () => {
  await using dir = await tempDir();
  const marker = `ipcat-exec-${Deno.pid}`;
  await using server = await startServe(["--exec", `yes ${marker}`, `${dir.path}/s.sock`]);
  const conn = await connectTo(server.address);
  const lines = new ConnLines(conn);
  assert.equal(await lines.next(), marker);
  assert.equal(processesRunning("yes", marker).length, 1);
  conn.close();
  await until(() => processesRunning("yes", marker).length === 0, 5000, "yes to be terminated");
  await until(() => childrenOf(server.child.pid).length === 0, 5000, "no zombie");
  // And the server goes on.
  const next = await connectTo(server.address);
  assert.equal(await new ConnLines(next).next(), marker);
  next.close();
});

Deno.test("--exec: SIGTERM terminates every CMD and exits 0", async () => {
  await using dir = await tempDir();
  const marker = `32.${Deno.pid}`;
  await using server = await startServe(["--exec", `sh -c 'echo up; sleep ${marker}'`, `${dir.path}/s.sock`]);
  const a = await connectTo(server.address);
  const b = await connectTo(server.address);
  assert.equal(await new ConnLines(a).next(), "up");
  assert.equal(await new ConnLines(b).next(), "up");
  await until(() => processesRunning("sleep", marker).length === 2, 5000, "both sleeps running");
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  assert.equal(processesRunning("sleep", marker).length, 0);
  a.close();
  b.close();
});

// --broadcast -------------------------------------------------------------------------------

Deno.test("--broadcast: each message reaches every other client, not the sender; -v logs joins", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--broadcast", "-v", `${dir.path}/s.sock`]);
  const conns = await Promise.all([1, 2, 3].map(() => connectTo(server.address)));
  await server.stderr.waitFor(/conn 3: joined \(3 connected\)/);
  const [a, b, c] = conns.map((conn) => new ConnLines(conn));
  await writeText(conns[0], "from a\n");
  assert.equal(await b.next(), "from a");
  assert.equal(await c.next(), "from a");
  await writeText(conns[1], "from b\n");
  assert.equal(await a.next(), "from b");
  assert.equal(await c.next(), "from b");
  conns[2].close();
  await server.stderr.waitFor(/conn 3: left \(2 connected\)/);
  await writeText(conns[0], "again\n");
  assert.equal(await b.next(), "again");
  // A sends nothing more: EOF leaves the hub and the server closes it.
  await conns[0].closeWrite();
  assert.equal(await a.next(), null);
  conns[0].close();
  conns[1].close();
});

Deno.test("--broadcast: messages are re-framed in the server's framing", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--broadcast", "-v", "-f", "netstring", `${dir.path}/s.sock`]);
  const receiver = await connectTo(server.address);
  await server.stderr.waitFor(/conn 1: joined/);
  // `send` posts and half-closes; the hub relays before closing it.
  const post = await ipcat(["send", "-f", "netstring", server.address, "one", "two,three"]);
  assert.equal(post.code, 0, post.stderr);
  const buffer = new Uint8Array(100);
  let got = "";
  while (got.length < "3:one,9:two,three,".length) {
    const n = await receiver.read(buffer);
    if (n === null) break;
    got += td.decode(buffer.subarray(0, n));
  }
  assert.equal(got, "3:one,9:two,three,");
  receiver.close();
});

Deno.test("--broadcast: a client that does not read is disconnected; the others get everything", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--broadcast", "-v", "--queue", "8", `${dir.path}/s.sock`]);
  const slow = await connectTo(server.address); // never reads
  const reader = await connectTo(server.address);
  const sender = await connectTo(server.address);
  await server.stderr.waitFor(/conn 3: joined/);
  const line = "x".repeat(64 * 1024 - 8);
  const lines = new ConnLines(reader);
  // ~13 MB in lockstep: far more than socket buffers plus 8 queued messages for the one that
  // never reads, while the reader is never more than one message behind.
  for (let i = 0; i < 200; i++) {
    const message = `${String(i).padStart(6, "0")} ${line}`;
    await writeText(sender, message + "\n");
    assert.equal(await lines.next(), message);
  }
  await server.stderr.waitFor(/conn 1: too slow, 8 messages queued \(--queue\); disconnected/);
  slow.close();
  reader.close();
  sender.close();
});

Deno.test("--broadcast: --count N stops after N messages relayed", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--broadcast", "-v", "--count", "2", `${dir.path}/s.sock`]);
  const receiver = await connectTo(server.address);
  await server.stderr.waitFor(/conn 1: joined/);
  const post = await ipcat(["send", server.address, "a", "b", "c"]);
  assert.equal(post.code, 0);
  assert.equal(await readToEnd(receiver), "a\nb\n");
  assert.equal((await server.child.status).code, 0);
  receiver.close();
});

Deno.test("--broadcast: --queue takes N, BYTES or N,BYTES; a message over the byte bound still goes alone", async () => {
  await using dir = await tempDir();
  for (const bad of [["--queue", "1,2"], ["--queue", "64X"], ["--queue", "0"], ["--slow", "never"]]) {
    const result = await ipcat(["serve", "--broadcast", ...bad, `${dir.path}/bad.sock`]);
    assert.equal(result.code, 2, `${bad.join(" ")}: ${result.stderr}`);
  }
  for (const modeless of [["--queue", "8"], ["--slow", "block"]]) {
    const result = await ipcat(["serve", ...modeless, `${dir.path}/bad.sock`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ipcat: --(queue|slow) only applies to --broadcast/);
  }
  await using server = await startServe(["--broadcast", "-v", "--queue", "1k,4", `${dir.path}/s.sock`]);
  const receiver = await connectTo(server.address);
  await server.stderr.waitFor(/conn 1: joined/);
  const big = "y".repeat(8192);
  const post = await ipcat(["send", server.address, big, "small"]);
  assert.equal(post.code, 0, post.stderr);
  const lines = new ConnLines(receiver);
  assert.equal(await lines.next(), big);
  assert.equal(await lines.next(), "small");
  receiver.close();
});
