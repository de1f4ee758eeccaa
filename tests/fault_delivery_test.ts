/**
 * Fault tests of the delivery rule: every byte ipcat takes from its input is delivered, or
 * ipcat says how much was and exits non-zero; a peer's half-close ends only its direction.
 * Hostile peers are Python servers (tests/delivery_peer.py).
 */
import {
  assert,
  figure,
  IPCAT,
  ipcat,
  run,
  scaled,
  spawn,
  startListening,
  startPeer,
  startServe,
  tempDir,
  within,
} from "./_helpers.ts";

const PEER = new URL("./delivery_peer.py", import.meta.url).pathname;
const MiB = 1024 * 1024;

/** A tests/delivery_peer.py server in `mode`, listening on `path`. */
function peer(mode: string, path: string, ...args: string[]) {
  return startPeer("python3", [PEER, mode, path, ...args]);
}

/** `head -c BYTES /dev/zero | ipcat ARGS`: stdin is a real pipe, as in a shell. */
function fromPipe(bytes: number, args: string[]) {
  const quoted = args.map((arg) => `'${arg}'`).join(" ");
  return within(
    run("sh", ["-c", `head -c ${bytes} /dev/zero | '${IPCAT}' ${quoted}`]),
    120_000,
    `ipcat ${args[0]}`,
  );
}

for (const command of [["pipe"], ["send", "-f", "raw"]]) {
  const name = command.join(" ");
  Deno.test(`delivery: ${name} to a server that greets and half-closes: all of stdin arrives, exit 0`, async () => {
    await using dir = await tempDir();
    const sock = `${dir.path}/s.sock`;
    await using server = await peer("greet-shut", sock);
    const size = scaled(16 * MiB, 256 * MiB);
    const started = performance.now();
    const result = await fromPipe(size, [...command, `unix:${sock}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "hello\n");
    assert.equal(result.stderr, "");
    assert.equal(await server.stdout.waitFor(/^got /), `got ${size}`);
    figure(`${name}: bytes delivered after the peer's half-close (of ${size})`, size, "B");
    figure(
      `${name}: time to deliver ${size / MiB} MiB after a half-close`,
      Math.round(performance.now() - started),
      "ms",
    );
  });

  Deno.test(`delivery: ${name} to a server that closes after 1 MiB: exit 1, one line with the count`, async () => {
    await using dir = await tempDir();
    const sock = `${dir.path}/s.sock`;
    await using server = await peer("close-after", sock, String(MiB));
    const result = await fromPipe(scaled(16 * MiB, 256 * MiB), [...command, `unix:${sock}`]);
    assert.equal(result.code, 1, result.stderr);
    const match = result.stderr.match(
      /^ipcat: Cannot send to unix:\S+: it closed the connection after (\d+) of at least (\d+) bytes were delivered \(the rest was not sent\)\n$/,
    );
    assert.ok(match, result.stderr);
    await server.stdout.waitFor(/^read 1048576$/);
    const delivered = Number(match[1]);
    assert.ok(delivered >= MiB && delivered <= Number(match[2]), result.stderr);
    figure(`${name}: bytes reported delivered to a peer that read 1 MiB`, delivered, "B");
  });
}

Deno.test("delivery: pipe from a terminal: the far side's EOF still ends the session, as nc does", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using _server = await peer("greet-shut", sock);
  // stdin is a pty nobody types on: only the far side's EOF can end this.
  const script = "import os,subprocess,sys\nm,s=os.openpty()\n" +
    "p=subprocess.run(sys.argv[1:],stdin=s,capture_output=True)\n" +
    "sys.stdout.write('%d %r %r' % (p.returncode, p.stdout, p.stderr))";
  const result = await within(
    run("python3", ["-c", script, IPCAT, "pipe", `unix:${sock}`]),
    10_000,
    "pipe on a tty",
  );
  assert.equal(result.stdout, "0 b'hello\\n' b''");
});

Deno.test("delivery: pipe from a pipe: after the far side's full close, more input is exit 1", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using _server = await peer("close-after", sock, "0");
  const child = spawn(IPCAT, ["pipe", `unix:${sock}`], { stdin: "piped" });
  const writer = child.stdin.getWriter();
  const out = child.output();
  // ipcat keeps reading stdin after the far side's EOF: its next write finds the peer gone.
  const chunk = new Uint8Array(64 * 1024);
  const feeding = (async () => {
    for (let i = 0; i < 64; i++) await writer.write(chunk);
    await writer.close();
  })().catch(() => {});
  const result = await within(out, 10_000, "ipcat after the server closed");
  await feeding;
  assert.equal(result.code, 1);
  assert.match(
    new TextDecoder().decode(result.stderr),
    /^ipcat: Cannot send to unix:\S+: it closed the connection after \d+ of at least \d+ bytes/,
  );
});

Deno.test("delivery: inspect proxy: the server's half-close does not cut the client's direction", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using server = await peer("greet-shut", sock);
  await using proxy = await startListening(IPCAT, [
    "inspect",
    `${dir.path}/p.sock`,
    "--target",
    `unix:${sock}`,
  ]);
  const size = scaled(4 * MiB, 64 * MiB);
  const result = await fromPipe(size, ["pipe", proxy.address]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "hello\n");
  assert.equal(await server.stdout.waitFor(/^got /), `got ${size}`);
});

Deno.test("delivery: send to a server that answers some messages then closes at EOF: says so; -v counts", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  {
    await using _server = await peer("first-then-eof", sock);
    const result = await ipcat(["send", sock, "a", "b", "c"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "re a\n");
    assert.match(
      result.stderr,
      /^ipcat: unix:\S+: 1 reply to 3 messages: the server closed the connection before answering the rest \(.*try --keep-open\)\n$/,
    );
  }
  await Deno.remove(sock);
  {
    await using _server = await peer("first-then-eof", sock);
    const result = await ipcat(["send", "-v", "--keep-open", sock, "a", "b", "c"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "re a\nre b\nre c\n");
    assert.match(result.stderr, /^ipcat: unix:\S+: sent 3 messages, received 3 replies\n$/m);
    assert.doesNotMatch(result.stderr, /before answering/);
  }
  // A sink never answers: no note, unless -v.
  await using sink = await startServe([`${dir.path}/sink.sock`]);
  const quiet = await ipcat(["send", sink.address, "x", "y"]);
  assert.equal(quiet.stderr, "");
});

Deno.test("delivery: serve > /dev/full stops, says so, exits 1; a closed stdout stays exit 0", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  await using sink = await startListening("sh", ["-c", `exec '${IPCAT}' serve '${sock}' > /dev/full`]);
  await ipcat(["send", sink.address, "lost"]);
  const status = await within(sink.child.status, 10_000, "serve after a failed write");
  await sink.stderr.done;
  assert.equal(status.code, 1, sink.stderr.text);
  assert.match(sink.stderr.text, /\nipcat: Cannot write to stdout: no space left on device \(stopped; .*\)$/);

  const closed = `${dir.path}/c.sock`;
  await using head = await startListening("sh", ["-c", `'${IPCAT}' serve '${closed}' | head -c 0`]);
  await ipcat(["send", head.address, "one", "two"]);
  await ipcat(["send", head.address, "three"]).catch(() => {});
  const headStatus = await within(head.child.status, 10_000, "serve after stdout closed");
  assert.equal(headStatus.code, 0, head.stderr.text);
});

Deno.test("delivery: framing mismatch: the error names the address and suggests the framing", async () => {
  await using dir = await tempDir();
  await using echo = await startServe(["--echo", `${dir.path}/lines.sock`]);
  // A length client to a lines server: the echoed bytes end in a newline, not a frame.
  const send = await ipcat(["send", "-f", "length", echo.address, "hello"]);
  assert.equal(send.code, 65);
  assert.match(send.stderr, /^ipcat: unix:\S+lines\.sock: .*is unix:\S+ speaking lines\? try -f lines\)\n$/);

  await using length = await startServe(["-f", "length", `${dir.path}/length.sock`]);
  await ipcat(["send", length.address, "hello"]);
  const logged = await length.stderr.waitFor(/Frame of/);
  assert.match(
    logged,
    /^ipcat: conn 1: unix:\S+: Frame of \d+ bytes .*is the client speaking lines\? try -f lines\)$/,
  );

  // pipe names the flag of the side that failed.
  await using text = await startServe(["--echo", `${dir.path}/text.sock`]);
  const piped = await ipcat(["pipe", "--from", "lines", "--to", "length", text.address], { stdin: "hi\n" });
  assert.equal(piped.code, 65);
  assert.match(piped.stderr, /^ipcat: unix:\S+text\.sock: .*try --to lines\)\n$/);
});
