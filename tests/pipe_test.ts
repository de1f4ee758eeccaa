/**
 * End-to-end tests of `ipcat pipe` against real peers: Python servers (tests/pipe_peer.py),
 * socat, `ipcat serve`, and child processes.
 */
import {
  assert,
  have,
  IPCAT,
  ipcat,
  LineCollector,
  run,
  spawn,
  startPeer,
  startServe,
  tempDir,
  until,
  within,
} from "./_helpers.ts";

const PEER = new URL("./pipe_peer.py", import.meta.url).pathname;
const te = new TextEncoder();
const td = new TextDecoder();

/** A tests/pipe_peer.py server in `mode`, started and listening on `path`. */
function peer(mode: string, path: string) {
  return startPeer("python3", [PEER, mode, path], { stdin: "piped" });
}

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Run a shell snippet (test data plumbing only; ipcat itself never runs a shell). */
function sh(script: string, env: Record<string, string> = {}) {
  return run("sh", ["-c", script], { env: { ...Deno.env.toObject(), IPCAT, ...env } });
}

Deno.test("pipe: 256 MiB both ways at once through an echo peer, byte for byte", {
  ignore: !have("socat") || !have("sha256sum"),
}, async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/echo.sock`;
  const data = `${dir.path}/data`;
  await sh(`head -c 268435456 /dev/urandom > "${data}"`);
  // socat echoes through cat: both directions run at the same time, under backpressure.
  const echo = spawn("socat", [`UNIX-LISTEN:${sock}`, "EXEC:cat"]);
  try {
    await until(() => Deno.stat(sock).then(() => true, () => false), 5000, "the socat socket");
    const result = await sh(
      `set -e; a=$(sha256sum < "$DATA" | cut -d' ' -f1); b=$("$IPCAT" pipe "unix:$SOCK" < "$DATA" | sha256sum | cut -d' ' -f1); echo "$a $b"`,
      { DATA: data, SOCK: sock },
    );
    assert.equal(result.code, 0, result.stderr);
    const [sent, received] = result.stdout.trim().split(" ");
    assert.match(sent, /^[0-9a-f]{64}$/);
    assert.equal(received, sent);
  } finally {
    try {
      echo.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await echo.status;
    await echo.stdout.cancel();
    await echo.stderr.cancel();
  }
});

Deno.test("pipe: two-address form joins an exec child to a unix server, 16 MiB intact", {
  ignore: !have("socat") || !have("sha256sum"),
}, async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/sink.sock`;
  const data = `${dir.path}/data`;
  const copy = `${dir.path}/copy`;
  await sh(`head -c 16777216 /dev/urandom > "${data}"`);
  const sink = spawn("socat", ["-u", `UNIX-LISTEN:${sock}`, `CREATE:${copy}`]);
  await until(() => Deno.stat(sock).then(() => true, () => false), 5000, "the socat socket");
  const result = await ipcat(["pipe", `exec:cat ${data}`, `unix:${sock}`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await sink.output()).code, 0);
  const sums = await sh(`sha256sum < "${data}"; sha256sum < "${copy}"`);
  const [sent, received] = sums.stdout.trim().split("\n");
  assert.match(sent, /^[0-9a-f]{64}/);
  assert.equal(received, sent);
});

Deno.test("pipe: half-close: the server reads to EOF, replies, and ipcat exits 0", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using server = await peer("reply-after-eof", sock);
  const result = await ipcat(["pipe", `unix:${sock}`], { stdin: "x".repeat(100_000) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "got 100000 bytes\n");
  assert.equal(result.stderr, "");
  await server.stdout.waitFor(/^closed$/);
});

Deno.test("pipe: the far side closes first: its bytes are written; stdin still ends the pipe, exit 0", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using _server = await peer("bye-first", sock);
  // From a pipe, the far side's EOF cannot be told from a half-close: ipcat waits for stdin.
  const child = spawn(IPCAT, ["pipe", `unix:${sock}`], { stdin: "piped" });
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  await within(stdout.waitFor(/^bye$/), 10_000, "the server's bye");
  await child.stdin.close();
  const status = await within(child.status, 10_000, "ipcat after stdin ended");
  await Promise.all([stdout.done, stderr.done]);
  assert.equal(status.code, 0, stderr.text);
  assert.equal(stdout.text, "bye");
});

Deno.test("pipe: exec: as the second side, stdin through a child and back", async () => {
  const result = await ipcat(["pipe", "exec:tr a-z A-Z"], { stdin: "hello\nworld\n" });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "HELLO\nWORLD\n");
});

Deno.test("pipe -v: an exec: child that fails is reaped and its exit status logged", async () => {
  const failing = await ipcat(["pipe", "-v", "exec:sh -c 'cat; exit 3'"], { stdin: "x" });
  assert.equal(failing.code, 0, failing.stderr);
  assert.equal(failing.stdout, "x");
  assert.match(failing.stderr, /^ipcat: exec:sh -c 'cat; exit 3' exited with 3$/m);
  // A child that succeeds is not news.
  const fine = await ipcat(["pipe", "-v", "exec:cat"], { stdin: "x" });
  assert.equal(fine.code, 0, fine.stderr);
  assert.doesNotMatch(fine.stderr, /exited with/);
});

Deno.test("pipe: exec: as the first side, - as the second", async () => {
  const result = await ipcat(["pipe", "exec:sh -c 'read line; echo \"got $line\"'", "-"], {
    stdin: "ping\n",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "got ping\n");
});

Deno.test("pipe: an exec child that exits is reaped while the pipe goes on (no zombie)", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using server = await peer("hold", sock);
  const child = spawn(IPCAT, ["pipe", "exec:echo hi", `unix:${sock}`]);
  const stderr = new LineCollector(child.stderr);
  // The server sees EOF once `echo` has exited and its output was forwarded.
  await server.stdout.waitFor(/^eof$/);
  const children = async () => {
    const found: string[] = [];
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === child.pid) found.push(`${entry.name} ${state}`);
    }
    return found;
  };
  await until(async () => (await children()).length === 0, 5000, "the exec child to be reaped");
  assert.deepEqual(await children(), []);
  // Let the server close: the pipe ends with both directions done.
  const writer = server.child.stdin.getWriter();
  await writer.write(te.encode("go\n"));
  writer.releaseLock();
  const status = await within(child.status, 10_000, "ipcat after the server closed");
  const out = new Uint8Array(await new Response(child.stdout).arrayBuffer());
  await stderr.done;
  assert.equal(status.code, 0, stderr.text);
  assert.equal(out.length, 0);
});

Deno.test("pipe: --from lines --to length against a length-prefixed Python server", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using server = await peer("length-reverse", sock);
  const result = await ipcat(["pipe", "--from", "lines", "--to", "length", `unix:${sock}`], {
    stdin: "hello\nworld\n\nlast without newline",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "olleh\ndlrow\n\nenilwen tuohtiw tsal\n");
  await server.stdout.waitFor(/^eof$/);
});

Deno.test("pipe: -e hex --to length carries binary payloads both ways", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using _server = await peer("length-reverse", sock);
  const result = await ipcat(["pipe", "-e", "hex", "--to", "length", `unix:${sock}`], {
    stdin: "000a0dff\n\n41 42 43\n",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "ff0d0a00\n\n434241\n");
});

Deno.test("pipe: --from length --to lines against a lines Python server", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using _server = await peer("lines-upper", sock);
  const input = concat(frame(te.encode("abc")), frame(te.encode("")), frame(te.encode("x y")));
  const result = await ipcat(["pipe", "--from", "length", "--to", "lines", `unix:${sock}`], { stdin: input });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdoutBytes,
    concat(frame(te.encode("ABC")), frame(te.encode("")), frame(te.encode("X Y"))),
  );
});

Deno.test("pipe: -e base64 with the socket side framed by netstring", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/echo.sock`;
  await using _server = await startServe(["--echo", "-f", "netstring", "-q", sock]);
  const result = await ipcat(["pipe", "-e", "base64", "--to", "netstring", sock], { stdin: "AAEC\naGk=\n" });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "AAEC\naGk=\n");
});

/** Run `ipcat pipe ARGS SOCK` into an `ipcat serve` line sink; return the result and what it got. */
async function intoSink(args: string[], stdin: string | Uint8Array, expectLines: string[]) {
  await using dir = await tempDir();
  const sock = `${dir.path}/sink.sock`;
  await using server = await startServe(["-v", sock]);
  const result = await ipcat(["pipe", ...args, sock], { stdin });
  await server.stderr.waitFor(/clos/, "the sink to see the connection close");
  for (const line of expectLines) await server.stdout.waitFor((l) => l === line, line);
  return { result, received: [...server.stdout.lines] };
}

Deno.test("pipe: a malformed frame on stdin: exit 65, one line, everything before it delivered", async () => {
  const { result, received } = await intoSink(
    ["--from", "netstring", "--to", "lines"],
    "5:hello,3:abc,x:zz,",
    ["hello", "abc"],
  );
  assert.equal(result.code, 65);
  assert.deepEqual(received, ["hello", "abc"]);
  assert.match(result.stderr, /^ipcat: [^\n]*netstring[^\n]*at byte 14[^\n]*\n$/);
});

Deno.test("pipe: an oversize frame on stdin: exit 65 after delivering the frames before it", async () => {
  const input = concat(frame(te.encode("ok")), frame(new Uint8Array(100)));
  const { result, received } = await intoSink(
    ["--from", "length", "--to", "lines", "--max-frame", "10"],
    input,
    ["ok"],
  );
  assert.equal(result.code, 65);
  assert.deepEqual(received, ["ok"]);
  assert.match(result.stderr, /^ipcat: [^\n]*exceeds --max-frame 10[^\n]*\n$/);
});

Deno.test("pipe: a bad hex line: exit 65 after delivering the lines before it", async () => {
  const { result, received } = await intoSink(["-e", "hex", "--to", "lines"], "6869\n4142\nzz\n4344\n", [
    "hi",
    "AB",
  ]);
  assert.equal(result.code, 65);
  assert.deepEqual(received, ["hi", "AB"]);
  assert.match(result.stderr, /^ipcat: [^\n]*"zz"[^\n]*at byte 10[^\n]*\n$/);
});

Deno.test("pipe: a malformed frame from the far side: exit 65, what came before is on stdout", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using _server = await peer("bad-netstring", sock);
  const child = spawn(IPCAT, ["pipe", "--from", "lines", "--to", "netstring", `unix:${sock}`], {
    stdin: "piped",
  });
  const out = await within(child.output(), 10_000, "ipcat after a bad frame");
  assert.equal(out.code, 65);
  assert.equal(td.decode(out.stdout), "ok\n");
  assert.match(td.decode(out.stderr), /^ipcat: [^\n]*netstring[^\n]*\n$/);
});

Deno.test("pipe: usage errors exit 2", async () => {
  for (
    const args of [
      ["pipe", "-", "-"],
      ["pipe", "-e", "hex", "/tmp/x.sock"],
      ["pipe", "-e", "hex", "--from", "length", "--to", "lines", "/tmp/x.sock"],
      ["pipe", "-e", "hex", "unix:/tmp/a.sock", "unix:/tmp/b.sock"],
      ["pipe", "exec:"],
      ["pipe", "exec:echo 'unterminated"],
      ["pipe", "--from", "nope", "/tmp/x.sock"],
    ]
  ) {
    const result = await ipcat(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});

Deno.test("serve rejects - and exec: as listen addresses with a usage error", async () => {
  for (const address of ["-", "exec:cat"]) {
    const result = await ipcat(["serve", address]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^ipcat: Cannot listen on/);
  }
});

Deno.test("pipe: a missing socket is exit 69, a missing exec: command too", async () => {
  await using dir = await tempDir();
  assert.equal((await ipcat(["pipe", `${dir.path}/none.sock`])).code, 69);
  const result = await ipcat(["pipe", "exec:ipcat-no-such-command"]);
  assert.equal(result.code, 69);
  assert.match(result.stderr, /not found/);
});

Deno.test("pipe: SIGINT exits 130 with one line on stderr", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using server = await peer("hold", sock);
  const child = spawn(IPCAT, ["pipe", `unix:${sock}`], { stdin: "piped" });
  await server.stdout.waitFor(/^connected$/);
  const stderr = new LineCollector(child.stderr);
  // The SIGINT listener is installed before connecting, so the server seeing us is enough.
  child.kill("SIGINT");
  const status = await within(child.status, 10_000, "ipcat after SIGINT");
  await child.stdout.cancel();
  await child.stdin.close().catch(() => {});
  await stderr.done;
  assert.equal(status.code, 130);
  assert.equal(stderr.text, "ipcat: Interrupted");
});

Deno.test("pipe: --progress -v prints a final summary on stderr, data untouched", async () => {
  const result = await ipcat(["pipe", "--progress", "exec:cat"], { stdin: "abc" });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "abc");
  assert.match(result.stderr, /^ipcat: - > exec:cat 3 B in [\d.]+s .* \| exec:cat > - 3 B in/);
});

Deno.test("pipe: interoperates with nc -l as the far side", { ignore: !have("nc") }, async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/nc.sock`;
  const nc = spawn("nc", ["-lU", sock], { stdin: "piped" });
  const ncOut = new LineCollector(nc.stdout);
  await until(() => Deno.stat(sock).then(() => true, () => false), 5000, "nc's socket");
  const piping = ipcat(["pipe", "--from", "lines", "--to", "lines", sock], { stdin: "one\ntwo\n" });
  await ncOut.waitFor((l) => l === "two", "two");
  // nc ends once its stdin ends too; then ipcat sees EOF from it and exits.
  await nc.stdin.close().catch(() => {});
  await nc.status;
  await ncOut.done;
  await nc.stderr.cancel();
  const result = await within(piping, 10_000, "ipcat after nc closed");
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(ncOut.lines, ["one", "two"]);
});

Deno.test("pipe: a child that closes stdout but ignores SIGTERM is killed, and ipcat exits", async () => {
  const result = await within(
    ipcat(["pipe", `exec:sh -c 'trap "" TERM; exec sleep 30 >&-'`], { stdin: "x" }),
    15_000,
    "ipcat with a child ignoring SIGTERM",
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "");
});
