/**
 * Timeouts and waiting, the same on every command: `--wait` on pipe and inspect,
 * `--idle-timeout` on send, pipe, serve (every mode, --forward too) and inspect's proxy,
 * `serve --once`.
 */
import {
  assert,
  have,
  IPCAT,
  ipcat,
  LineCollector,
  run,
  spawn,
  startListening,
  startServe,
  tempDir,
  within,
} from "./_helpers.ts";
import { connectTo, readToEnd, writeText } from "./_proc.ts";

Deno.test("timeouts: send --idle-timeout against a server that never answers exits 124", async () => {
  // A sink never replies; --keep-open waits for a reply instead of half-closing.
  await using sink = await startServe(["tcp:127.0.0.1:0"]);
  const got = await within(
    ipcat(["send", "--keep-open", "--idle-timeout", "300ms", sink.address, "hi"]),
    10_000,
    "send",
  );
  assert.equal(got.code, 124, got.stderr);
  assert.match(
    got.stderr,
    /^ipcat: tcp:127\.0\.0\.1:\d+: no data either way for 300ms \(raise --idle-timeout\)\n$/,
  );
});

Deno.test("timeouts: send --idle-timeout restarts on every reply: a slow steady server is not cut", async () => {
  // A chunk every 100 ms for 0.8 s, under a 400 ms idle timeout.
  await using server = await startServe([
    "--exec",
    "sh -c 'for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.1; done'",
    "tcp:127.0.0.1:0",
  ]);
  const got = await within(
    ipcat(["send", "-f", "raw", "--idle-timeout", "400ms", server.address, "go"]),
    10_000,
    "send",
  );
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, "1\n2\n3\n4\n5\n6\n7\n8\n");
});

Deno.test("timeouts: pipe --idle-timeout with stdin open and a silent server exits 124", async () => {
  await using sink = await startServe(["tcp:127.0.0.1:0"]);
  const child = spawn(IPCAT, ["pipe", "--idle-timeout", "300ms", sink.address], { stdin: "piped" });
  const out = await within(child.output(), 10_000, "pipe --idle-timeout");
  assert.equal(out.code, 124);
  assert.match(new TextDecoder().decode(out.stderr), /^ipcat: - <-> tcp:.*: no data either way for 300ms/);
});

Deno.test("timeouts: pipe --wait retries until the server appears", async () => {
  await using dir = await tempDir();
  const sock = `unix:${dir.path}/late.sock`;
  const piping = ipcat(["pipe", "--wait", "10s", sock], { stdin: "late\n" });
  // The server starts after the pipe: the pipe is retrying by then, or connects first try.
  await using _server = await startServe(["--echo", sock]);
  const got = await within(piping, 15_000, "pipe --wait");
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, "late\n");
  const none = await ipcat(["pipe", "--wait", "200ms", `unix:${dir.path}/never.sock`]);
  assert.equal(none.code, 69);
  assert.match(none.stderr, /still after waiting 200 ms/);
});

Deno.test("timeouts: inspect --wait (session and proxy target) retries until the server appears", async () => {
  await using dir = await tempDir();
  const sock = `unix:${dir.path}/late.sock`;
  const session = ipcat(["inspect", "--wait", "10s", sock], { stdin: "ping\n" });
  await using _server = await startServe(["--echo", sock]);
  const got = await within(session, 15_000, "inspect --wait");
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /ping/);
  // The proxy's target appears only after the client connected through the proxy.
  const target = `unix:${dir.path}/later.sock`;
  await using proxy = await startListening(IPCAT, [
    "inspect",
    `unix:${dir.path}/p.sock`,
    "--target",
    target,
    "--wait",
    "10s",
  ]);
  const client = ipcat(["send", `unix:${dir.path}/p.sock`, "through"]);
  await using _target = await startServe(["--echo", target]);
  assert.equal((await within(client, 15_000, "send through inspect --wait")).stdout, "through\n");
  assert.equal((await proxy.stop("SIGTERM")).code, 0);
  const none = await ipcat(["inspect", "--wait", "200ms", `unix:${dir.path}/never.sock`]);
  assert.equal(none.code, 69);
  assert.match(none.stderr, /still after waiting 200 ms/);
});

Deno.test("timeouts: inspect proxy --idle-timeout closes a silent connection, logs it, goes on", async () => {
  await using dir = await tempDir();
  await using echo = await startServe(["--echo", "tcp:127.0.0.1:0"]);
  await using proxy = await startListening(IPCAT, [
    "inspect",
    `unix:${dir.path}/p.sock`,
    "--target",
    echo.address,
    "--idle-timeout",
    "300ms",
  ]);
  const silent = await connectTo(`unix:${dir.path}/p.sock`);
  assert.equal(await within(readToEnd(silent), 10_000, "idle close"), "");
  silent.close();
  await proxy.stdout.waitFor(/closed by ipcat: no data either way for 300ms \(--idle-timeout\)/);
  const got = await ipcat(["send", `unix:${dir.path}/p.sock`, "still"]);
  assert.equal(got.stdout, "still\n");
  assert.equal((await proxy.stop("SIGTERM")).code, 0);
});

Deno.test("timeouts: serve --idle-timeout closes a silent client (logged with -v); others are served", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "-v",
    "--echo",
    "--idle-timeout",
    "300ms",
    `unix:${dir.path}/s.sock`,
  ]);
  const silent = await connectTo(`unix:${dir.path}/s.sock`);
  assert.equal(await within(readToEnd(silent), 10_000, "idle close"), "");
  silent.close();
  await server.stderr.waitFor(/conn 1: closed after 300ms with no data \(--idle-timeout\)/);
  const got = await ipcat(["send", `unix:${dir.path}/s.sock`, "next"]);
  assert.equal(got.stdout, "next\n");
  assert.equal((await server.stop()).code, 0);
  assert.ok(!server.stderr.text.includes("error"), server.stderr.text);
});

Deno.test("timeouts: serve --forward --idle-timeout closes both sides of a silent relay", async () => {
  await using dir = await tempDir();
  await using sink = await startServe(["-v", "tcp:127.0.0.1:0"]);
  await using server = await startServe([
    "-v",
    "--forward",
    sink.address,
    "--idle-timeout",
    "300ms",
    `unix:${dir.path}/f.sock`,
  ]);
  const silent = await connectTo(`unix:${dir.path}/f.sock`);
  await writeText(silent, "once\n");
  assert.equal(await within(readToEnd(silent), 10_000, "idle close"), "");
  silent.close();
  await server.stderr.waitFor(/conn 1: closed after 300ms with no data \(--idle-timeout\); 5 B to tcp:/);
  // The target's side was closed too: the sink saw its client go.
  await sink.stderr.waitFor(/conn 1: closed/);
  assert.equal((await server.stop()).code, 0);
});

Deno.test("timeouts: serve --once -f raw > file exits after its first client, like nc -l", async () => {
  await using dir = await tempDir();
  const out = `${dir.path}/out.bin`;
  const child = spawn(IPCAT, ["serve", "--once", "-f", "raw", `unix:${dir.path}/once.sock`]);
  const stderr = new LineCollector(child.stderr);
  const stdout = child.stdout.pipeTo((await Deno.open(out, { write: true, create: true })).writable);
  await stderr.waitFor(/listening on /);
  const sent = have("nc")
    ? await run("nc", ["-N", "-U", `${dir.path}/once.sock`], { stdin: "first client\n" })
    : await ipcat(["send", "-f", "raw", `unix:${dir.path}/once.sock`, "first client\n"]);
  assert.equal(sent.code, 0, sent.stderr);
  const status = await within(child.status, 10_000, "serve --once");
  await stdout;
  await stderr.done;
  assert.equal(status.code, 0, stderr.text);
  assert.equal(await Deno.readTextFile(out), "first client\n");
  assert.throws(() => Deno.lstatSync(`${dir.path}/once.sock`), Deno.errors.NotFound);
});

Deno.test("timeouts: bad --idle-timeout is a usage error on every command", async () => {
  for (
    const args of [["send", "tcp:127.0.0.1:1", "x"], ["pipe", "tcp:127.0.0.1:1"], [
      "serve",
      "tcp:127.0.0.1:0",
    ]]
  ) {
    const got = await ipcat([...args, "--idle-timeout", "soon"]);
    assert.equal(got.code, 2, `${args[0]}: ${got.stderr}`);
    assert.match(got.stderr, /^ipcat: Cannot parse duration "soon"/);
  }
});
