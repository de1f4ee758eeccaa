/**
 * `udp:` and `unixgram:` end to end: one datagram is one message, a server session per
 * sender, replies to the sender, `send`'s reply wait, size limits, against socat, nc -u and
 * Python datagram sockets.
 * @module
 */
import { assert, have, ipcat, run, startServe, tempDir, until, within } from "./_helpers.ts";

/** A UDP port free right now (bound, then released; tests run without --unstable-net). */
async function freeUdpPort(): Promise<number> {
  const py = await run("python3", [
    "-c",
    "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
  ]);
  return Number(py.stdout);
}

Deno.test("udp: serve --echo answers each datagram to its sender; send waits for one reply per message", async () => {
  await using server = await startServe(["--echo", "udp:127.0.0.1:0"]);
  const result = await ipcat(["send", server.address, "hello", "world"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "hello\nworld\n");
});

Deno.test("udp: nc -u and a Python datagram socket are served by serve --echo and --handle", async () => {
  await using server = await startServe(["--handle", "tr a-z A-Z", "udp:127.0.0.1:0"]);
  const port = server.address.split(":").pop()!;
  const py = await run("python3", [
    "-c",
    `import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
s.sendto(b"from python", ("127.0.0.1", ${port})); print(s.recvfrom(100)[0].decode())`,
  ]);
  assert.equal(py.stdout, "FROM PYTHON\n", py.stderr);
  if (have("nc")) {
    const nc = await within(
      run("nc", ["-u", "-w1", "127.0.0.1", port], { stdin: "via nc\n" }),
      20_000,
      "nc -u",
    );
    assert.equal(nc.stdout, "VIA NC\n");
  }
});

Deno.test("udp: send to socat UDP-RECVFROM gets its reply", { ignore: !have("socat") }, async () => {
  const port = await freeUdpPort();
  const socat = new Deno.Command("socat", {
    args: [`UDP-RECVFROM:${port},bind=127.0.0.1,fork`, "EXEC:tr a-z A-Z"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // socat binds shortly after it starts: --wait does not apply to UDP, so retry the send.
    let result = await ipcat(["send", "--timeout", "500ms", `udp:${port}`, "abc"]);
    for (let i = 0; i < 20 && result.code === 124; i++) {
      result = await ipcat(["send", "--timeout", "500ms", `udp:${port}`, "abc"]);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "ABC\n");
  } finally {
    socat.kill("SIGKILL");
    await socat.status;
  }
});

Deno.test("udp: a service that does not answer: 124 after the default 2s; --no-reply exits 0", async () => {
  await using server = await startServe(["udp:127.0.0.1:0"]);
  const started = Date.now();
  const waited = await ipcat(["send", server.address, "one"]);
  assert.equal(waited.code, 124, waited.stderr);
  assert.match(waited.stderr, /^ipcat: udp:127\.0\.0\.1:\d+: timed out after 2s \(.*--no-reply.*\)\n$/);
  assert(Date.now() - started >= 1900);
  const sent = await ipcat(["send", "--no-reply", server.address, "two"]);
  assert.equal(sent.code, 0, sent.stderr);
  await server.stdout.waitFor((line) => line === "two");
  assert.deepEqual(server.stdout.lines, ["one", "two"]);
});

Deno.test("udp: --replies N stops after N datagrams, not one per message", async () => {
  await using server = await startServe(["--echo", "udp:127.0.0.1:0"]);
  const result = await ipcat(["send", "--replies", "1", server.address, "x", "y"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "x\n");
});

Deno.test("udp: -f is a usage error; the size limit is 65,507 bytes", async () => {
  const framed = await ipcat(["send", "-f", "lines", "udp:127.0.0.1:9", "x"]);
  assert.equal(framed.code, 2);
  assert.match(framed.stderr, /^ipcat: -f does not apply to udp:127\.0\.0\.1:9: udp: carries whole messages/);
  await using server = await startServe(["udp:127.0.0.1:0"]);
  const over = await ipcat(["send", "--no-reply", server.address, "a".repeat(65_508)]);
  assert.equal(over.code, 65);
  assert.match(over.stderr, /a message of 65508 bytes is over this transport's limit of 65507\n$/);
  const fits = await ipcat(["send", "--no-reply", server.address, "a".repeat(65_507)]);
  assert.equal(fits.code, 0, fits.stderr);
  await server.stdout.waitFor((line) => line.length === 65_507);
});

Deno.test("udp: pipe carries datagrams both ways and ends 2s after stdin with no reply", async () => {
  await using server = await startServe(["--echo", "udp:127.0.0.1:0"]);
  const result = await within(ipcat(["pipe", server.address, "-"], { stdin: "p1\np2\n" }), 20_000, "pipe");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "p1\np2\n");
});

Deno.test("unixgram: serve takes datagrams from socat UNIX-SENDTO, Python and send, and removes its socket", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/g.sock`;
  await using server = await startServe([`unixgram:${path}`]);
  if (have("socat")) {
    const socat = await run("socat", ["-u", "-", `UNIX-SENDTO:${path}`], { stdin: "from socat" });
    assert.equal(socat.code, 0, socat.stderr);
    await server.stdout.waitFor((line) => line === "from socat");
  }
  const py = await run("python3", [
    "-c",
    `import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"from python", "${path}")`,
  ]);
  assert.equal(py.code, 0, py.stderr);
  await server.stdout.waitFor((line) => line === "from python");
  const sent = await ipcat(["send", "--no-reply", `unixgram:${path}`, "from ipcat"]);
  assert.equal(sent.code, 0, sent.stderr);
  await server.stdout.waitFor((line) => line === "from ipcat");
  const status = await server.stop();
  assert.equal(status.code, 0);
  assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound);
});

Deno.test("unixgram: --echo replies to the sender's own socket; send's temporary socket is removed", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/e.sock`;
  await using server = await startServe(["--echo", "-v", `unixgram:${path}`]);
  const result = await ipcat(["send", `unixgram:${path}`, "a", "b"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "a\nb\n");
  const open = await server.stderr.waitFor(/open from unixgram:/);
  const clientPath = open.replace(/^.*open from unixgram:/, "");
  assert.throws(() => Deno.lstatSync(clientPath), Deno.errors.NotFound);

  const py = await run("python3", [
    "-c",
    `import socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("${dir.path}/py.sock")
s.settimeout(10); s.sendto(b"py", "${path}"); print(s.recvfrom(100)[0].decode())`,
  ]);
  assert.equal(py.stdout, "py\n", py.stderr);
  const piped = await within(ipcat(["pipe", `unixgram:${path}`, "-"], { stdin: "p1\np2\n" }), 20_000, "pipe");
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, "p1\np2\n");
});

Deno.test("unixgram: a sender with no address of its own gets one plain line in the log, in every mode that answers; others are answered", async () => {
  await using dir = await tempDir();
  for (const mode of [["--echo"], ["--handle", "cat"], ["--handle-stream", "cat"], ["--exec", "cat"]]) {
    const path = `${dir.path}/${mode[0].slice(2)}.sock`;
    await using server = await startServe([...mode, `unixgram:${path}`]);
    const unbound = await run("python3", [
      "-c",
      `import socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"x", "${path}")`,
    ]);
    assert.equal(unbound.code, 0, unbound.stderr);
    const line = await server.stderr.waitFor(/cannot answer/);
    assert.match(
      line,
      /^ipcat: conn \d+: .*cannot answer a sender whose socket has no address .*bind the sender/,
    );
    assert.doesNotMatch(server.stderr.text, /os error|Invalid argument|Uncaught/, mode.join(" "));
    // The server goes on: a sender bound to a path, and one bound to an abstract name, are answered.
    const result = await ipcat(["send", `unixgram:${path}`, "still here"]);
    assert.equal(result.stdout, "still here\n", `${mode.join(" ")}: ${result.stderr}`);
    const abstract = await run("python3", [
      "-c",
      `import socket; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("\\0ipcat-test-${
        mode[0].slice(2)
      }")
s.settimeout(10); s.sendto(b"abstract", "${path}"); print(s.recvfrom(100)[0].decode())`,
    ]);
    assert.equal(abstract.stdout, "abstract\n", `${mode.join(" ")}: ${abstract.stderr}${server.stderr.text}`);
  }
});

Deno.test("unixgram: send to socat UNIX-RECVFROM gets its reply", { ignore: !have("socat") }, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/r.sock`;
  const socat = new Deno.Command("socat", {
    args: [`UNIX-RECVFROM:${path},fork`, "EXEC:tr a-z A-Z"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await until(
      () => {
        try {
          return Deno.lstatSync(path).isSocket === true;
        } catch {
          return false;
        }
      },
      10_000,
      "socat's socket",
    );
    const result = await ipcat(["send", `unixgram:${path}`, "abc"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "ABC\n");
  } finally {
    socat.kill("SIGKILL");
    await socat.status;
  }
});

Deno.test("unixgram: no socket is 69; a live one is not taken over; a stale one is replaced", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.sock`;
  const missing = await ipcat(["send", `unixgram:${path}`, "x"]);
  assert.equal(missing.code, 69);
  assert.match(missing.stderr, /^ipcat: Cannot connect to unixgram:.*: no such socket \(/);
  const live = await startServe([`unixgram:${path}`]);
  const busy = await ipcat(["serve", `unixgram:${path}`]);
  assert.equal(busy.code, 69);
  assert.match(busy.stderr, /another socket is bound there/);
  const silent = await ipcat(["send", "--timeout", "200ms", `unixgram:${path}`, "x"]);
  assert.equal(silent.code, 124, silent.stderr);
  await live.stop("SIGKILL"); // the file stays: stale now
  assert(Deno.lstatSync(path).isSocket);
  await using _server = await startServe(["--echo", `unixgram:${path}`]);
  const result = await ipcat(["send", `unixgram:${path}`, "back"]);
  assert.equal(result.stdout, "back\n", result.stderr);
});

Deno.test("udp: send from stdin sends one datagram per line, as README says", async () => {
  await using server = await startServe(["--echo", "udp:127.0.0.1:0"]);
  const sent = await within(ipcat(["send", "-v", server.address], { stdin: "a\nb\n" }), 20_000, "send");
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "a\nb\n");
  assert.match(sent.stderr, /sent 2 messages, received 2 replies/);
});
