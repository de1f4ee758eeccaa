/**
 * End-to-end tests of `serve` and `send` (issue 2), driving bin/ipcat over real sockets
 * with real peers (socat, nc, python3).
 */
import { assert, IPCAT, ipcat, run, spawn, startServe, tempDir, within } from "./_helpers.ts";
import { connectTo, readToEnd, writeText } from "./_proc.ts";

const te = new TextEncoder();

const FRAMINGS = [
  "lines",
  "length",
  "length:u8",
  "length:u16be",
  "length:u16le",
  "length:u32le",
  "length:u64be",
  "length:u64le",
  "length:varint",
  "netstring",
];

Deno.test("send and serve --echo: every framing round-trips text, binary and empty messages", async () => {
  await using dir = await tempDir();
  for (const framing of FRAMINGS) {
    await using server = await startServe(["--echo", "-f", framing, `${dir.path}/${framing}.sock`]);
    const text = await ipcat(["send", "-f", framing, server.address, "hello", "two words"]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, "hello\ntwo words\n", framing);
    // Binary, including bytes 00, 0a and ff; empty messages where the framing allows them.
    const binary = framing === "lines" ? ["00ff7f", "c3a9"] : ["00ff0a7f", "", "0a0a"];
    const hex = await ipcat(["send", "-f", framing, "-e", "hex", server.address, ...binary]);
    assert.equal(hex.code, 0, hex.stderr);
    assert.equal(hex.stdout, binary.map((m) => m + "\n").join(""), framing);
  }
});

Deno.test("send and serve --echo: msgpack with JSON in and out, and base64", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", "-f", "msgpack", `${dir.path}/m.sock`]);
  const json = await ipcat([
    "send",
    "-f",
    "msgpack",
    server.address,
    '{"a": [1, 2.5, null, "x"]}',
    "42",
    '"s"',
  ]);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stdout, '{"a":[1,2.5,null,"x"]}\n42\n"s"\n');
  const lines = await ipcat(["send", "-f", "msgpack", server.address], { stdin: '{"n":1}\n{"n":2}\n' });
  assert.equal(lines.stdout, '{"n":1}\n{"n":2}\n', lines.stderr);
  // Raw msgpack bytes in hex: fixarray [1, 2].
  const hex = await ipcat(["send", "-f", "msgpack", "-e", "base64", server.address, "kgEC"]);
  assert.equal(hex.stdout, "kgEC\n", hex.stderr);
});

Deno.test("send: messages from stdin, one per line; --keep-open stops after one reply each", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", `${dir.path}/e.sock`]);
  const lines = Array.from({ length: 5000 }, (_, i) => `message ${i}`);
  const piped = await ipcat(["send", server.address], { stdin: lines.join("\n") + "\n" });
  assert.equal(piped.stdout, lines.join("\n") + "\n");
  const kept = await ipcat(["send", "--keep-open", server.address], { stdin: "a\nb\nc\n" });
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(kept.stdout, "a\nb\nc\n");
  const two = await ipcat(["send", "--keep-open", "--replies", "2", server.address, "x", "y", "z"]);
  assert.equal(two.stdout, "x\ny\n");
  // Under length framing all of stdin is one message.
  await using lserver = await startServe(["--echo", "-f", "length", `${dir.path}/l.sock`]);
  const whole = await ipcat(["send", "-f", "length", "-e", "text", lserver.address], { stdin: "one\ntwo\n" });
  assert.equal(whole.stdout, "one\ntwo\n\n");
});

Deno.test("send: lines pass through as bytes: --replies cuts mid-read, a last line gets its newline", async () => {
  // A server that answers with many lines in one write, the last one unterminated.
  await using dir = await tempDir();
  const path = `${dir.path}/many.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const serving = (async () => {
    for (let i = 0; i < 3; i++) {
      const conn = await listener.accept();
      const reply = new TextEncoder().encode("r1\nr2\r\n\nr4\nr5");
      // `send -n` (stdin empty) may have closed before the reply: that write fails, as it may.
      await conn.write(reply).catch(() => {});
      conn.close();
    }
  })();
  const all = await ipcat(["send", "-n", `unix:${path}`]);
  assert.equal(all.stdout, "", all.stderr);
  const whole = await ipcat(["send", `unix:${path}`, "q"]);
  assert.equal(whole.stdout, "r1\nr2\r\n\nr4\nr5\n", whole.stderr);
  const three = await ipcat(["send", "--replies", "3", `unix:${path}`, "q"]);
  assert.equal(three.stdout, "r1\nr2\r\n\n", three.stderr);
  await serving;
  listener.close();
  // stdin passes as it is: \r stays, empty lines are messages, a last line gets its \n.
  await using echo = await startServe(["--echo", "-f", "raw", `${dir.path}/raw.sock`]);
  const passed = await ipcat(["send", echo.address], { stdin: "a\r\n\n\nb" });
  assert.equal(passed.stdout, "a\r\n\n\nb\n", passed.stderr);
});

Deno.test("serve --echo: replies are each message framed anew, whatever header or split it came with", async () => {
  await using dir = await tempDir();
  const echo = async (framing: string, chunks: (string | Uint8Array)[]) => {
    await using server = await startServe(["--echo", "-f", framing, `${dir.path}/${framing}.sock`]);
    const conn = await connectTo(server.address);
    try {
      const reading = readToEnd(conn);
      for (const chunk of chunks) await writeText(conn, chunk);
      await conn.closeWrite();
      return await reading;
    } finally {
      conn.close();
    }
  };
  // A varint header written longer than it need be comes back in its short form.
  assert.equal(
    await echo("length:varint", [new Uint8Array([0x85, 0x00, ...te.encode("hello"), 0x02, 0x68, 0x69])]),
    "\x05hello\x02hi",
  );
  // A last line without its newline is answered with one.
  assert.equal(await echo("lines", ["a\nb"]), "a\nb\n");
  // Lines cut anywhere across writes, two clients interleaved: each gets its own lines back.
  const text = Array.from({ length: 300 }, (_, i) => `line ${i} ${"x".repeat(i % 17)}`).join("\n") + "\n";
  const pieces = Array.from({ length: Math.ceil(text.length / 7) }, (_, i) => text.slice(i * 7, i * 7 + 7));
  await using server = await startServe(["--echo", `${dir.path}/two.sock`]);
  const [a, b] = [await connectTo(server.address), await connectTo(server.address)];
  try {
    const replies = [readToEnd(a), readToEnd(b)];
    for (const piece of pieces) {
      await writeText(a, piece);
      await writeText(b, piece.toUpperCase());
    }
    await a.closeWrite();
    await b.closeWrite();
    assert.deepEqual(await Promise.all(replies), [text, text.toUpperCase()]);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("send --no-reply writes and exits; serve prints what arrived", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--count", "2", `${dir.path}/s.sock`]);
  const sent = await ipcat(["send", "-n", server.address, "first", "second"]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "");
  const status = await server.child.status;
  await server.stdout.done;
  assert.equal(status.code, 0);
  assert.deepEqual(server.stdout.lines, ["first", "second"]);
});

Deno.test("interop: socat and nc -U clients into serve; stdout carries data only", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["-v", `${dir.path}/sink.sock`]);
  const path = server.address.replace(/^unix:/, "");
  const viaSocat = await run("socat", ["-", `UNIX-CONNECT:${path}`], { stdin: "from socat\n" });
  assert.equal(viaSocat.code, 0);
  const viaNc = await run("nc", ["-NU", path], { stdin: "from nc\nsecond line" });
  assert.equal(viaNc.code, 0);
  await server.stdout.waitFor(/second line/);
  assert.deepEqual(server.stdout.lines, ["from socat", "from nc", "second line"]);
  // The verbose log went to stderr, not stdout.
  await server.stderr.waitFor(/conn 2/);
});

Deno.test("interop: send against a socat echo server and a Python length-prefixed server", async () => {
  await using dir = await tempDir();
  const echoPath = `${dir.path}/socat.sock`;
  const socat = spawn("socat", [`UNIX-LISTEN:${echoPath},fork`, "EXEC:cat"]);
  try {
    const reply = await ipcat(["send", "--wait", "5s", echoPath, "via socat", "line two"]);
    assert.equal(reply.code, 0, reply.stderr);
    assert.equal(reply.stdout, "via socat\nline two\n");
  } finally {
    socat.kill();
    await socat.status;
  }
  // The Python server upper-cases each 4-byte big-endian length-prefixed message.
  const script = `
import socket, struct, sys, os
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(); print("listening on unix:" + path, file=sys.stderr, flush=True)
c, _ = s.accept()
buf = b""
while True:
    data = c.recv(65536)
    if not data: break
    buf += data
    while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
        n = struct.unpack(">I", buf[:4])[0]; msg = buf[4:4+n]; buf = buf[4+n:]
        c.sendall(struct.pack(">I", len(msg)) + msg.upper())
c.close()
`;
  const pyPath = `${dir.path}/py.sock`;
  const py = spawn("python3", ["-c", script, pyPath]);
  try {
    const reply = await ipcat([
      "send",
      "--wait",
      "5s",
      "-f",
      "length",
      pyPath,
      "hello",
      "",
      "x".repeat(70000),
    ]);
    assert.equal(reply.code, 0, reply.stderr);
    assert.equal(reply.stdout, `HELLO\n\n${"X".repeat(70000)}\n`);
  } finally {
    await py.status;
  }
});

Deno.test("send: missing socket and refused connection exit 69 with one line", async () => {
  await using dir = await tempDir();
  const missing = await ipcat(["send", `${dir.path}/nope.sock`, "hi"]);
  assert.equal(missing.code, 69);
  assert.match(missing.stderr, /^ipcat: .*no such socket.*\n$/);
  // A stale socket file: exists, nobody listening.
  const stale = `${dir.path}/stale.sock`;
  const l = Deno.listen({ transport: "unix", path: stale });
  const linked = `${dir.path}/stale-keep.sock`;
  Deno.linkSync(stale, linked);
  l.close();
  const refused = await ipcat(["send", linked, "hi"]);
  assert.equal(refused.code, 69);
  assert.match(refused.stderr, /^ipcat: .*refused.*\n$/);
  const tcp = await ipcat(["send", "tcp:127.0.0.1:1", "hi"]);
  assert.equal(tcp.code, 69);
  assert.equal(tcp.stderr.split("\n").length, 2);
});

Deno.test("send --wait succeeds when the server appears later; --timeout exits 124", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/late.sock`;
  // The server starts half a second after the client: the situation --wait is for.
  const late = spawn("sh", ["-c", `sleep 0.5; exec "$0" serve --echo --count 1 "$1"`, IPCAT, path]);
  const waited = await ipcat(["send", "--wait", "2s", path, "hello"]);
  assert.equal(waited.code, 0, waited.stderr);
  assert.equal(waited.stdout, "hello\n");
  assert.equal((await late.output()).code, 0);

  const noWait = await ipcat(["send", "--wait", "100ms", path, "x"]);
  assert.equal(noWait.code, 69);

  await using sink = await startServe([`${dir.path}/sink.sock`]);
  const timedOut = await ipcat(["send", "--keep-open", "--timeout", "300ms", sink.address, "no reply"]);
  assert.equal(timedOut.code, 124);
  assert.match(timedOut.stderr, /^ipcat: .*[Tt]imed out.*\n$/);
});

Deno.test("serve: oversize and truncated frames close that connection; the server keeps serving", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--echo",
    "-f",
    "length",
    "--max-frame",
    "1k",
    `${dir.path}/f.sock`,
  ]);
  const path = server.address.replace(/^unix:/, "");
  // Oversize: a 4-byte prefix announcing 1 MiB.
  const big = await run("python3", [
    "-c",
    `import socket,sys;s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1]);s.sendall(b"\\x00\\x10\\x00\\x00"+b"x"*100);print(repr(s.recv(10)))`,
    path,
  ]);
  assert.equal(big.stdout.trim(), "b''", "connection closed without a reply");
  await server.stderr.waitFor(/exceeds --max-frame/);
  // Truncated: the client half-closes in the middle of a frame.
  const cut = await ipcat(["send", "-f", "raw", server.address], { stdin: "\x00\x00\x00\x09abc" });
  assert.equal(cut.stdout, "");
  await server.stderr.waitFor(/Truncated frame/);
  const errorLines = server.stderr.lines.filter((l) => l.startsWith("ipcat:"));
  assert.equal(errorLines.length, 2, server.stderr.text);
  // And a well-behaved client is still served.
  const ok = await ipcat(["send", "-f", "length", server.address, "still here"]);
  assert.equal(ok.stdout, "still here\n");
});

Deno.test("send: a malformed reply is exit 65 with one line", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/bad.sock`;
  const py = spawn("python3", [
    "-c",
    `import socket,sys;s=socket.socket(socket.AF_UNIX);s.bind(sys.argv[1]);s.listen();print("listening",file=sys.stderr,flush=True);c,_=s.accept();c.recv(100);c.sendall(b"5:hello!");c.close()`,
    path,
  ]);
  const reply = await ipcat(["send", "--wait", "5s", "-f", "netstring", path, "hi"]);
  assert.equal(reply.code, 65);
  assert.match(reply.stderr, /^ipcat: unix:\S+bad\.sock: Malformed netstring.*\n$/);
  await py.status;
});

Deno.test("serve: socket file safety: stale replaced, live is 69, a regular file is untouched", async () => {
  await using dir = await tempDir();
  const stale = `${dir.path}/stale.sock`;
  Deno.linkSync(
    (() => {
      const tmp = `${dir.path}/tmp.sock`;
      const l = Deno.listen({ transport: "unix", path: tmp });
      Deno.linkSync(tmp, `${dir.path}/tmp2.sock`);
      l.close();
      return `${dir.path}/tmp2.sock`;
    })(),
    stale,
  );
  await using _server = await startServe(["--echo", stale]);
  assert.equal((await ipcat(["send", stale, "ok"])).stdout, "ok\n");

  const live = await ipcat(["serve", stale]);
  assert.equal(live.code, 69);
  assert.match(live.stderr, /^ipcat: .*listening there.*\n$/);

  const file = `${dir.path}/precious.sock`;
  const content = new Uint8Array([1, 2, 3, 0, 255]);
  await Deno.writeFile(file, content, { mode: 0o640 });
  const before = await Deno.stat(file);
  const refused = await ipcat(["serve", file]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /not a socket/);
  assert.deepEqual(await Deno.readFile(file), content);
  const after = await Deno.stat(file);
  assert.equal(after.mode, before.mode);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime());
});

Deno.test("serve: SIGINT, SIGTERM and --count remove the socket file; --mode sets its mode", async () => {
  await using dir = await tempDir();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const path = `${dir.path}/${signal}.sock`;
    const server = await startServe([path]);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const status = await server.stop(signal);
    assert.equal(status.code, 0, server.stderr.text);
    assert.equal(await exists(path), false, `${signal} left the socket behind`);
  }
  const path = `${dir.path}/count.sock`;
  const server = await startServe(["--count", "3", "--echo", "--mode", "0660", path]);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o660);
  const reply = await ipcat(["send", path, "a", "b", "c", "d"]);
  assert.equal(reply.stdout, "a\nb\nc\n");
  assert.equal((await server.child.status).code, 0);
  await server.stop();
  assert.equal(await exists(path), false);
});

Deno.test("serve: replies to every message sent before EOF arrive before the close", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", "-f", "netstring", `${dir.path}/r.sock`]);
  const count = 20000;
  const wire = Array.from({ length: count }, (_, i) => `${String(i).length}:${i},`).join("");
  // socat half-closes after stdin EOF and waits for the server to close (-t 5).
  const result = await run("socat", ["-t", "5", "-", `UNIX-CONNECT:${server.address.slice(5)}`], {
    stdin: wire,
  });
  assert.equal(result.stdout.length, wire.length);
  assert.equal(result.stdout, wire);
});

Deno.test("serve: lines pass as bytes: --count cuts mid-read, \\r and empty lines stay, a last line gets its newline", async () => {
  await using dir = await tempDir();
  // Five lines in one write; --count 3 prints exactly three.
  await using counted = await startServe(["--count", "3", `${dir.path}/c.sock`]);
  const wire = "one\r\n\nthree\nfour\nfive\n";
  assert.equal((await run("socat", ["-u", "-", `UNIX-CONNECT:${dir.path}/c.sock`], { stdin: wire })).code, 0);
  assert.equal((await counted.child.status).code, 0);
  await counted.stdout.done;
  assert.deepEqual(counted.stdout.lines, ["one\r", "", "three"]);
  // Echo: the same bytes back; an unfinished last line comes back with its newline.
  await using _echo = await startServe(["--echo", "--count", "4", `${dir.path}/e.sock`]);
  const back = await run("socat", ["-", `UNIX-CONNECT:${dir.path}/e.sock`], { stdin: "a\r\n\0b\n\nlast" });
  assert.equal(back.stdout, "a\r\n\0b\n\nlast\n");
  // A line over --max-frame: the lines before it in the same read are still printed.
  await using bounded = await startServe(["--max-frame", "3", `${dir.path}/m.sock`]);
  await run("socat", ["-u", "-", `UNIX-CONNECT:${dir.path}/m.sock`], { stdin: "ok\nabcdef\nxy\n" });
  await bounded.stderr.waitFor(/Line of 6 bytes exceeds --max-frame 3 \(at byte 3\)/);
  await bounded.stdout.waitFor(/^ok$/);
  assert.ok(!bounded.stdout.text.includes("xy"), bounded.stdout.text);
});

Deno.test("serve: concurrent senders never interleave inside a message", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--count", "4000", `${dir.path}/c.sock`]);
  const long = (c: string) => Array.from({ length: 1000 }, () => c.repeat(500)).join("\n") + "\n";
  const senders = ["a", "b", "c", "d"].map((c) => ipcat(["send", "-n", server.address], { stdin: long(c) }));
  for (const r of await Promise.all(senders)) assert.equal(r.code, 0, r.stderr);
  await server.child.status;
  await server.stdout.done;
  assert.equal(server.stdout.lines.length, 4000);
  for (const line of server.stdout.lines) assert.match(line, /^(a{500}|b{500}|c{500}|d{500})$/);
});

Deno.test("usage errors exit 2 with one line naming the fix", async () => {
  for (
    const [args, pattern] of [
      [["send", "uix:/tmp/a", "x"], /did you mean unix:/],
      [["send", "-f", "lenght", "/tmp/a.sock", "x"], /Unknown framing/],
      [["send", "-e", "hexx", "/tmp/a.sock", "x"], /Unknown encoding/],
      [["send", "--timeout", "soon", "/tmp/a.sock", "x"], /Cannot parse duration/],
      [["serve", "tcp:host:port"], /expected tcp:HOST:PORT/],
      [["serve", "--mode", "999", "/tmp/a.sock"], /--mode/],
      [["serve", `/tmp/${"x".repeat(120)}.sock`], /at most 107/],
      [["frobnicate"], /no command/],
    ] as const
  ) {
    const r = await ipcat([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
  const bad = await ipcat(["send", "-e", "hex", "/tmp/none.sock", "zz"]);
  assert.equal(bad.code, 65, bad.stderr);
});

Deno.test("serve tcp:0 reports the real port; --help and --version work", async () => {
  await using server = await startServe(["--echo", "tcp:0"]);
  assert.match(server.address, /^tcp:127\.0\.0\.1:\d+$/);
  assert.notEqual(server.address, "tcp:127.0.0.1:0");
  const reply = await ipcat(["send", server.address.replace(/^tcp:127\.0\.0\.1:/, "tcp:"), "over tcp"]);
  assert.equal(reply.stdout, "over tcp\n");
  const help = await ipcat(["send", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Examples:/);
  assert.match((await ipcat(["--version"])).stdout, /^ipcat \d+\.\d+\.\d+ \(deno [\d.]+\)\n$/);
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("send: under msgpack, hex input must be exactly one value (exit 65 before connecting)", async () => {
  for (const hex of ["0102", "92", "c1"]) {
    const r = await ipcat(["send", "-f", "msgpack", "-e", "hex", "/tmp/ipcat-none.sock", hex]);
    assert.equal(r.code, 65, `${hex}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
  }
});

Deno.test("stdout closed early (| head -1): serve stops cleanly, send exits 0", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/head.sock`;
  // The serve pipeline ends once head has its line and serve notices stdout is gone.
  const pipeline = spawn("bash", [
    "-c",
    `set -o pipefail; "$0" serve "$1" 2>"$1.log" | head -1; echo "serve exit \${PIPESTATUS[0]}"`,
    IPCAT,
    path,
  ]);
  const first = await ipcat(["send", "--wait", "5s", "-n", path], { stdin: "one\ntwo\n" });
  assert.equal(first.code, 0, first.stderr);
  // A later message finds stdout closed (once head has exited) and serve stops.
  let ended = false;
  const output = pipeline.output().finally(() => ended = true);
  for (let i = 0; i < 100 && !ended; i++) {
    const more = await ipcat(["send", "-n", path], { stdin: "more\n" });
    assert.ok(more.code === 0 || more.code === 69, more.stderr);
  }
  const out = new TextDecoder().decode((await output).stdout);
  assert.equal(out, "one\nserve exit 0\n");
  assert.equal(await exists(path), false);

  await using echo = await startServe(["--echo", `${dir.path}/e.sock`]);
  const head = await run("bash", [
    "-c",
    `seq 100000 | "$0" send --keep-open "$1" | head -2; exit \${PIPESTATUS[1]}`,
    IPCAT,
    echo.address,
  ]);
  assert.equal(head.code, 0, head.stderr);
  assert.equal(head.stdout, "1\n2\n");
  assert.equal(head.stderr, "");
});

Deno.test("msgpack JSON view: 64-bit integers keep every digit; odd map keys and ext values print", async () => {
  await using dir = await tempDir();
  await using echo = await startServe(["--echo", "-f", "msgpack", `${dir.path}/e.sock`]);
  const big = '{"big":9007199254740993,"neg":-9223372036854775808,"u":18446744073709551615}';
  const round = await ipcat(["send", "-f", "msgpack", echo.address, big]);
  assert.equal(round.stdout, big + "\n", round.stderr);
  const tooBig = await ipcat(["send", "-f", "msgpack", echo.address, "18446744073709551616"]);
  assert.equal(tooBig.code, 65);
  // ext 8 with a 3-byte payload, and a timestamp (ext -1), round-trip as exact bytes.
  const ext = await ipcat([
    "send",
    "-f",
    "msgpack",
    "-e",
    "hex",
    echo.address,
    "c70305616263",
    "d6ff00000001",
  ]);
  assert.equal(ext.stdout, "c70305616263\nd6ff00000001\n", ext.stderr);

  await using sink = await startServe(["-f", "msgpack", "--count", "5", `${dir.path}/s.sock`]);
  // 1, 2, {true: 1}, {nil: nil}, ext 5 "abc" — sent as one write.
  const sent = await ipcat([
    "send",
    "-n",
    "-f",
    "raw",
    "-e",
    "hex",
    sink.address,
    "010281c30181c0c0c70305616263",
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  await sink.child.status;
  await sink.stdout.done;
  assert.deepEqual(sink.stdout.lines, ["1", "2", '{"true":1}', '{"null":null}', '{"type":5,"data":"YWJj"}']);
});

Deno.test("send: a Unix server that closes early: replies printed, then exit 1 with the count", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/early.sock`;
  const early = (p: string) =>
    spawn("python3", [
      "-c",
      `import socket,sys;s=socket.socket(socket.AF_UNIX);s.bind(sys.argv[1]);s.listen();c,_=s.accept();c.recv(10);c.sendall(b"bye\\n");c.close()`,
      p,
    ]);
  const big = Array.from({ length: 200000 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const server = early(path);
  const replied = await ipcat(["send", "--wait", "5s", path], { stdin: big });
  assert.equal(replied.code, 1, replied.stderr);
  assert.equal(replied.stdout, "bye\n");
  assert.match(
    replied.stderr,
    /^ipcat: Cannot send to .*closed the connection after \d+ of at least \d+ bytes.*\n$/,
  );
  await server.status;

  const path2 = `${dir.path}/early2.sock`;
  const server2 = early(path2);
  const unsent = await ipcat(["send", "-n", "--wait", "5s", path2], { stdin: big });
  assert.equal(unsent.code, 1);
  assert.match(unsent.stderr, /^ipcat: Cannot send to .*closed the connection.*\n$/);
  await server2.status;
});

Deno.test("send: a newline in a later message is exit 65 at once (it spun forever, deaf to signals)", async () => {
  await using dir = await tempDir();
  await using sink = await startServe([`${dir.path}/s.sock`]);
  for (const args of [[sink.address, "a", "b\nc"], ["-e", "hex", sink.address, "61", "0a"]]) {
    const r = await within(ipcat(["send", ...args]), 20_000, `send ${args.join(" ")}`);
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /newline, which "lines" framing cannot carry/);
  }
});

Deno.test("send: --max-frame bounds outgoing messages too; the ones before still go", async () => {
  await using dir = await tempDir();
  await using sink = await startServe([`${dir.path}/s.sock`]);
  const r = await ipcat(["send", "-n", "--max-frame", "3", sink.address], { stdin: "abc\nabcdef\nxy\n" });
  assert.equal(r.code, 65);
  assert.match(r.stderr, /^ipcat: Message 2 is 6 bytes, over --max-frame 3.*\n$/);
  // A line too long to be a message even in hex names the --max-frame given (it named 2N+2).
  const long = await ipcat(["send", "-n", "--max-frame", "3", sink.address], {
    stdin: "ab\n" + "x".repeat(20),
  });
  assert.equal(long.code, 65);
  assert.match(long.stderr, /^ipcat: Line of \d+ bytes exceeds --max-frame 3 \(at byte 3\)/);
  await sink.stdout.waitFor(/^abc$/);
  const bare = await ipcat([]);
  assert.equal(bare.code, 2);
  assert.equal(bare.stdout, "");
  assert.match(bare.stderr, /no command given/);
});

Deno.test("serve: messages before a bad frame in the same read are still handled", async () => {
  await using dir = await tempDir();
  await using sink = await startServe(["-f", "length", `${dir.path}/s.sock`]);
  // One write: a good frame "hi", then a prefix announcing 2 GiB.
  const wire = new Uint8Array([0, 0, 0, 2, 104, 105, 0x7f, 0xff, 0xff, 0xff]);
  const sent = await run("socat", ["-u", "-", `UNIX-CONNECT:${sink.address.slice(5)}`], { stdin: wire });
  assert.equal(sent.code, 0);
  await sink.stderr.waitFor(/exceeds --max-frame/);
  await sink.stdout.waitFor(/^hi$/);
});
