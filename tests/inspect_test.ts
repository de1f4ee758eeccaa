/**
 * End-to-end tests of `ipcat inspect`: the proxy between real peers in every framing, the
 * recording, concurrent connections, a log that falls behind, takeover of a live socket
 * (SIGTERM, --count, SIGKILL + --restore), and the interactive session over a pipe and a
 * pseudo-terminal (tmux).
 */
import { encode as msgpack } from "@msgpack/msgpack";
import { parseFraming } from "../lib/framing/mod.ts";
import {
  assert,
  have,
  IPCAT,
  ipcat,
  LineCollector,
  run,
  type Running,
  spawn,
  startListening,
  tempDir,
  until,
  within,
} from "./_helpers.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/**
 * A Unix-socket client: sends the chunks, and in lockstep mode waits for each chunk's echo
 * before sending the next, so the proxy is sure to read them separately. Then it
 * half-closes and prints everything it received, as hex.
 */
const PY_CLIENT = `
import socket, sys
path, mode, chunks = sys.argv[1], sys.argv[2], [bytes.fromhex(h) for h in sys.argv[3:]]
if path.startswith("tcp:"):
    host, port = path[4:].rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
else:
    s = socket.socket(socket.AF_UNIX); s.connect(path)
got = b""
for i, c in enumerate(chunks):
    s.sendall(c)
    if mode == "lockstep":
        while len(got) < sum(map(len, chunks[:i + 1])):
            d = s.recv(65536)
            if not d: break
            got += d
s.shutdown(socket.SHUT_WR)
while True:
    d = s.recv(65536)
    if not d: break
    got += d
sys.stdout.write(got.hex())
`;

/** An echo server on a Unix socket; "push MSG" lines go to every other client instead. */
const PY_SERVER = `
import socket, sys, threading
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(16)
clients = []
lock = threading.Lock()
def serve(c):
    with lock: clients.append(c)
    buf = b""
    while True:
        d = c.recv(65536)
        if not d: break
        buf += d
        while b"\\n" in buf:
            line, buf = buf.split(b"\\n", 1)
            if line.startswith(b"push "):
                with lock:
                    for o in clients:
                        if o is not c: o.sendall(line[5:] + b"\\n")
            else:
                c.sendall(line + b"\\n")
    with lock: clients.remove(c)
    c.close()
print("listening on unix:" + path, file=sys.stderr, flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Two connections at once, in threads, each sending binary messages of its own. */
const PY_TWO_CLIENTS = `
import socket, struct, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
def client(tag):
    s = socket.create_connection((host, int(port)))
    for i in range(40):
        body = bytes([tag, i]) + bytes(range(256))[: 60 + i]
        s.sendall(struct.pack(">I", len(body)) + body)
        want = 4 + len(body); got = b""
        while len(got) < want: got += s.recv(65536)
        assert got == struct.pack(">I", len(body)) + body
    s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
ts = [threading.Thread(target=client, args=(t,)) for t in (0xA1, 0xB2)]
[t.start() for t in ts]; [t.join() for t in ts]
print("ok")
`;

function hex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/** Start a long-running process that is ready once `path` exists. */
async function startUntilSocket(cmd: string, args: string[], path: string) {
  const child = spawn(cmd, args);
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  await until(
    async () => {
      try {
        return (await Deno.lstat(path)).isSocket === true;
      } catch {
        return false;
      }
    },
    10_000,
    `${cmd} to create ${path}`,
  );
  return {
    child,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
      await Promise.all([stdout.done, stderr.done]);
    },
  };
}

/** socat as a framing-agnostic echo server: every byte comes back. */
function socatEcho(path: string) {
  return startUntilSocket("socat", [`UNIX-LISTEN:${path},fork`, "EXEC:cat"], path);
}

async function pyClient(
  address: string,
  mode: "lockstep" | "burst",
  chunks: Uint8Array[],
): Promise<Uint8Array> {
  const result = await run("python3", ["-c", PY_CLIENT, address, mode, ...chunks.map(hex)]);
  assert.equal(result.code, 0, result.stderr);
  return Uint8Array.fromHex(result.stdout);
}

function startInspect(args: string[], env?: Record<string, string>): Promise<Running> {
  return startListening(IPCAT, ["inspect", ...args], { env });
}

interface Recorded {
  t: number;
  conn: number;
  event: string;
  dir?: string;
  data?: string;
}

async function readRecording(path: string): Promise<Recorded[]> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  // Each run starts with its meta line (format version 1): framing and target, checked here once.
  const meta = JSON.parse(lines.shift()!);
  assert.deepEqual(Object.keys(meta).sort(), ["event", "framing", "t", "target", "version"]);
  assert.equal(meta.event, "meta");
  return lines.filter((line) => !line.includes('"event":"meta"')).map((line) => {
    const value = JSON.parse(line) as Recorded;
    const keys = Object.keys(value).sort().join(",");
    if (value.event === "data") assert.equal(keys, "conn,data,dir,event,t");
    else assert.equal(keys, "conn,event,t", line);
    assert.ok(["open", "data", "close"].includes(value.event));
    assert.equal(typeof value.t, "number");
    return value;
  });
}

/** The base64 data of one connection and direction, concatenated. */
function recordedBytes(events: Recorded[], conn: number, dir: "c2s" | "s2c"): Uint8Array {
  const parts = events.filter((e) => e.conn === conn && e.dir === dir).map((e) =>
    Uint8Array.fromBase64(e.data!)
  );
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

function splitInto(bytes: Uint8Array, pieces: number): Uint8Array[] {
  const size = Math.ceil(bytes.length / pieces);
  const out = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** Messages for a framing: text, binary, and one of 10 KB. */
function messagesFor(framing: string): { messages: Uint8Array[]; shown: string[] } {
  const big = Uint8Array.from({ length: 10 * 1024 }, (_, i) => (i * 7) % 251);
  if (framing === "msgpack") {
    return {
      messages: [msgpack({ a: 1, b: [true, null] }), msgpack("hello"), msgpack(big)],
      shown: ['{"a":1,"b":[true,null]}', '"hello"', '"'],
    };
  }
  const binary = Uint8Array.from([0x62, 0x00, 0x01, 0xfe, 0xff]);
  const bigNoNewline = framing === "lines" ? big.map((b) => (b === 10 ? 11 : b)) : big;
  return { messages: [te.encode("hello world"), binary, bigNoNewline], shown: ["hello world", "", ""] };
}

const FRAMINGS = ["raw", "lines", "length", "length:varint", "netstring", "msgpack"];

for (const framing of FRAMINGS) {
  Deno.test(`inspect proxy (${framing}): bytes unchanged both ways, log and recording complete`, async () => {
    await using dir = await tempDir();
    const svc = `${dir.path}/svc.sock`;
    const proxyPath = `${dir.path}/proxy.sock`;
    const record = `${dir.path}/rec.jsonl`;
    await using _echo = await socatEcho(svc);
    const proxy = await startInspect([
      proxyPath,
      "--target",
      svc,
      "-f",
      framing,
      "--record",
      record,
      "--no-color",
    ]);
    try {
      const { messages, shown } = messagesFor(framing);
      const wire = parseFraming(framing).encode(messages);
      // The 10 KB message arrives at the proxy in 7 reads.
      const head = parseFraming(framing).encode(messages.slice(0, -1)).length;
      const chunks = [wire.subarray(0, head), ...splitInto(wire.subarray(head), 7)];
      assert.equal(chunks.length, 8);

      const direct = await pyClient(svc, "lockstep", chunks);
      const proxied = await pyClient(proxyPath, "lockstep", chunks);
      assert.deepEqual(proxied, direct);
      assert.deepEqual(proxied, wire);

      // ipcat itself as the client, through the proxy and directly.
      if (framing !== "raw") {
        const args = framing === "msgpack" ? ['{"x":[1,2]}', '"two"'] : ["one", "two"];
        const viaProxy = await ipcat(["send", "-f", framing, proxyPath, ...args]);
        const viaDirect = await ipcat(["send", "-f", framing, svc, ...args]);
        assert.equal(viaProxy.code, 0, viaProxy.stderr);
        assert.equal(viaProxy.stdout, viaDirect.stdout);
        assert.equal(viaProxy.stdout, framing === "msgpack" ? '{"x":[1,2]}\n"two"\n' : "one\ntwo\n");

        // ipcat on both ends: send -> inspect -> serve --echo, all in this framing.
        const svc2 = `${dir.path}/svc2.sock`;
        const record2 = `${dir.path}/rec2.jsonl`;
        await using _server = await startListening(IPCAT, ["serve", "--echo", "-f", framing, svc2]);
        await using proxy2 = await startInspect([
          `${dir.path}/p2.sock`,
          "--target",
          svc2,
          "-f",
          framing,
          "--record",
          record2,
        ]);
        const both = await ipcat(["send", "-f", framing, `${dir.path}/p2.sock`, ...args]);
        assert.equal(both.stdout, viaDirect.stdout);
        assert.equal((await proxy2.stop("SIGTERM")).code, 0);
        const sent = parseFraming(framing).encode(
          framing === "msgpack" ? [msgpack({ x: [1, 2] }), msgpack("two")] : args.map((a) => te.encode(a)),
        );
        const recorded2 = await readRecording(record2);
        assert.deepEqual(recordedBytes(recorded2, 1, "c2s"), sent);
        assert.deepEqual(recordedBytes(recorded2, 1, "s2c"), sent);
        assert.equal(
          proxy2.stdout.lines.filter((l) => / #1 [<>] \d+B /.test(l)).length,
          4,
          proxy2.stdout.text,
        );
      }
      const status = await proxy.stop("SIGTERM");
      assert.equal(status.code, 0, proxy.stderr.text);

      // The log: every message of connection 1, each direction, one event per message.
      const log = proxy.stdout.lines;
      const events = (arrow: string) => log.filter((l) => new RegExp(`^\\S+ #1 ${arrow} \\d+B`).test(l));
      if (framing === "raw") {
        assert.equal(events(">").length, chunks.length);
      } else {
        for (const arrow of [">", "<"]) {
          const sizes = events(arrow).map((l) => Number(/ (\d+)B/.exec(l)![1]));
          assert.deepEqual(sizes, messages.map((m) => m.length), `${arrow} events:\n${log.join("\n")}`);
        }
        for (const text of shown.filter((s) => s !== "")) {
          assert.ok(events(">").some((l) => l.includes(` ${text}`)), `no "${text}" in:\n${log.join("\n")}`);
        }
      }
      assert.ok(log.some((l) => /#1 open /.test(l)));
      assert.ok(log.some((l) => /#1 close client closed first; > \d+B < \d+B/.test(l)), log.join("\n"));

      // The recording: every documented field, and the data adds up to exactly what was sent.
      const recorded = await readRecording(record);
      assert.deepEqual(recordedBytes(recorded, 1, "c2s"), wire);
      assert.deepEqual(recordedBytes(recorded, 1, "s2c"), wire);
      const first = recorded.filter((e) => e.conn === 1);
      assert.equal(first[0].event, "open");
      assert.equal(first.at(-1)!.event, "close");
      if (framing !== "raw") {
        assert.equal(first.filter((e) => e.dir === "c2s").length, messages.length);
      }
    } finally {
      await proxy.stop("SIGKILL");
    }
  });
}

Deno.test("inspect proxy over TCP: two concurrent connections are kept apart, events whole", async () => {
  await using dir = await tempDir();
  const svc = `${dir.path}/svc.sock`;
  await using _echo = await socatEcho(svc);
  await using proxy = await startInspect(["tcp:0", "--target", svc, "-f", "length", "--format", "hex"]);
  const port = proxy.address.replace(/^tcp:/, "");
  const result = await run("python3", ["-c", PY_TWO_CLIENTS, port]);
  assert.equal(result.code, 0, result.stderr);
  await proxy.stop("SIGTERM");

  // Rebuild every message from the log's hexdumps: each must be whole, on its own connection.
  const byConn = new Map<number, number[]>();
  const lines = proxy.stdout.lines;
  for (let i = 0; i < lines.length; i++) {
    const head = /^\S+ #(\d+) > (\d+)B$/.exec(lines[i]);
    if (!head) continue;
    const bytes: number[] = [];
    for (let j = i + 1; j < lines.length && lines[j].startsWith("  "); j++) {
      const m = /^ {2}[0-9a-f]{8} {2}(.{48})/.exec(lines[j]);
      if (m) bytes.push(...m[1].trim().split(/\s+/).map((h) => parseInt(h, 16)));
    }
    assert.equal(
      bytes.length,
      Number(head[2]),
      `event at line ${i} is not whole:\n${lines.slice(i, i + 8).join("\n")}`,
    );
    const conn = Number(head[1]);
    if (!byConn.has(conn)) byConn.set(conn, []);
    byConn.get(conn)!.push(bytes[0]);
  }
  assert.equal(byConn.size, 2);
  const tags = [...byConn.values()].map((tagsOfConn) => new Set(tagsOfConn));
  for (const set of tags) assert.equal(set.size, 1, "a connection's log shows another's messages");
  assert.notDeepEqual(tags[0], tags[1]);
  assert.deepEqual([...byConn.values()].map((v) => v.length), [40, 40]);
});

Deno.test("inspect proxy: a log nobody reads falls behind, the traffic does not", async () => {
  await using dir = await tempDir();
  const svc = `${dir.path}/svc.sock`;
  const proxyPath = `${dir.path}/proxy.sock`;
  await using _echo = await socatEcho(svc);
  // stdout is piped but not read until the traffic is over: the pipe fills up.
  const child = new Deno.Command(IPCAT, {
    args: ["inspect", proxyPath, "--target", svc, "--no-color"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new LineCollector(child.stderr);
  try {
    await stderr.waitFor(/listening on/);
    const lines = Array.from({ length: 30_000 }, (_, i) => `message ${i} ${"x".repeat(100)}`).join("\n") +
      "\n";
    // From a file: run() feeds stdin before reading stdout, which would deadlock on 3 MB.
    const input = `${dir.path}/input.txt`;
    await Deno.writeTextFile(input, lines);
    const sent = await run("sh", ["-c", `"${IPCAT}" send --timeout 30s -f raw "${proxyPath}" < "${input}"`]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout, lines);
    child.kill("SIGTERM");
    const log = td.decode(await new Response(child.stdout).arrayBuffer());
    assert.match(log, /log fell behind: \d+ events skipped/);
    assert.match(log, /#1 close client closed first; > 3\d{6}B < 3\d{6}B/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await stderr.done;
  }
});

async function inode(path: string): Promise<number | null> {
  return (await Deno.lstat(path)).ino;
}

Deno.test("inspect --intercept: clients keep working, SIGTERM mid-traffic puts the socket back", async () => {
  await using dir = await tempDir();
  const svc = `${dir.path}/app.sock`;
  await using server = await startListening(IPCAT, ["serve", "--echo", "--mode", "0660", svc]);
  const original = await inode(svc);

  const inspector = await startInspect(["--intercept", svc, "--no-color"]);
  try {
    assert.equal(inspector.address, `unix:${svc}`);
    assert.notEqual(await inode(svc), original);
    assert.equal((await Deno.lstat(svc)).mode! & 0o777, 0o660);
    assert.equal(await inode(`${svc}.ipcat-original`), original);

    // An unmodified client of the service now goes through the inspector.
    const reply = await ipcat(["send", svc, "through"]);
    assert.equal(reply.stdout, "through\n");
    await inspector.stdout.waitFor(/#1 < 7B through/);

    // A client in the middle of a conversation when the inspector is told to stop.
    const talker = new Deno.Command("python3", {
      args: [
        "-c",
        `
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"one\\n"); print(s.recv(100).decode().strip(), flush=True)
sys.stdin.readline()
try:
    s.sendall(b"two\\n"); r = s.recv(100)
except OSError as e: r = b""
print("after:" + r.decode().strip(), flush=True)
`,
        svc,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const talk = new LineCollector(talker.stdout);
    const talkErr = new LineCollector(talker.stderr);
    await talk.waitFor(/^one$/);
    await inspector.stdout.waitFor(/#2 < 3B one/);

    const status = await inspector.stop("SIGTERM");
    assert.equal(status.code, 0, inspector.stderr.text);
    assert.ok(inspector.stderr.lines.some((l) => l.includes(`restored ${svc}`)));
    await inspector.stdout.waitFor(/#2 close closed by ipcat \(stopping\)/);
    const writer = talker.stdin.getWriter();
    await writer.write(te.encode("\n"));
    await writer.close();
    await talker.status;
    await Promise.all([talk.done, talkErr.done]);

    // The service's own socket is back, and a new client reaches it directly.
    assert.equal(await inode(svc), original);
    await assert.rejects(Deno.lstat(`${svc}.ipcat-original`), Deno.errors.NotFound);
    const direct = await ipcat(["send", svc, "direct"]);
    assert.equal(direct.stdout, "direct\n");
    assert.equal(direct.code, 0);
  } finally {
    await inspector.stop("SIGKILL");
  }
  await server.stop("SIGTERM");
});

Deno.test("inspect --intercept --count: exits after N connections and restores", async () => {
  await using dir = await tempDir();
  const svc = `${dir.path}/app.sock`;
  await using server = await startListening("python3", ["-c", PY_SERVER, svc]);
  const original = await inode(svc);
  await using inspector = await startInspect(["--intercept", svc, "--count", "2", "-f", "lines"]);
  for (const word of ["first", "second"]) {
    const got = await pyClient(svc, "burst", [te.encode(`${word}\n`)]);
    assert.equal(td.decode(got), `${word}\n`);
  }
  const status = await within(inspector.child.status, 10_000, "inspect --count 2 to exit by itself");
  assert.equal(status.code, 0, inspector.stderr.text);
  assert.equal(await inode(svc), original);
  assert.match(inspector.stdout.text, /#2 > 6B second/);
  assert.equal((await pyClient(svc, "burst", [te.encode("third\n")])).length, 6);
  assert.doesNotMatch(inspector.stdout.text, /third/);
  await server.stop("SIGTERM");
});

Deno.test("inspect --intercept: SIGINT restores the socket and exits 130", async () => {
  await using dir = await tempDir();
  const svc = `${dir.path}/app.sock`;
  await using server = await startListening(IPCAT, ["serve", "--echo", svc]);
  const original = await inode(svc);
  await using inspector = await startInspect(["--intercept", svc]);
  const status = await inspector.stop("SIGINT");
  assert.equal(status.code, 130, inspector.stderr.text);
  assert.equal(await inode(svc), original);
  assert.equal((await ipcat(["send", svc, "ok"])).stdout, "ok\n");
  await server.stop("SIGTERM");
});

Deno.test("inspect --intercept refuses what it must not touch, --restore undoes an interrupted run", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/plain.sock`;
  await Deno.writeTextFile(file, "not a socket");
  const notSocket = await ipcat(["inspect", "--intercept", file]);
  assert.equal(notSocket.code, 1);
  assert.match(notSocket.stderr, /is not a socket; leaving it untouched/);
  assert.equal(await Deno.readTextFile(file), "not a socket");

  const missing = await ipcat(["inspect", "--intercept", `${dir.path}/none.sock`]);
  assert.equal(missing.code, 69);
  assert.match(missing.stderr, /no such socket/);

  const svc = `${dir.path}/app.sock`;
  await using server = await startListening(IPCAT, ["serve", "--echo", svc]);
  const original = await inode(svc);
  // An inspector killed with SIGKILL cannot restore anything.
  const killed = await startInspect(["--intercept", svc]);
  await killed.stop("SIGKILL");
  assert.equal(await inode(`${svc}.ipcat-original`), original);

  const again = await ipcat(["inspect", "--intercept", svc]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`ipcat inspect --restore ${svc}`));

  const restored = await ipcat(["inspect", "--restore", svc]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stderr, /restored/);
  assert.equal(await inode(svc), original);
  assert.equal((await ipcat(["send", svc, "back"])).stdout, "back\n");

  const nothing = await ipcat(["inspect", "--restore", svc]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /Nothing to restore/);
  await server.stop("SIGTERM");
});

Deno.test("inspect ADDR from a pipe: escapes, hexdumps, replies, end of input", async () => {
  await using dir = await tempDir();
  const svc = `${dir.path}/app.sock`;
  await using server = await startListening(IPCAT, ["serve", "--echo", "-f", "netstring", svc]);
  const result = await ipcat(["inspect", "-f", "netstring", "--no-color", svc], {
    stdin: "hello\\tworld\nbin\\x00\\xff\nbad \\q escape\nline\\nbreak\n",
  });
  assert.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  assert.match(out, /^\S+ > 11B hello\\tworld$/m);
  assert.match(out, /^\S+ < 11B hello\\tworld$/m);
  assert.match(out, /^\S+ < 5B\n {2}00000000 {2}62 69 6e 00 ff +\|bin\.\.\|\n {2}00000005$/m);
  assert.match(out, /not sent: Cannot parse escape "\\q"/);
  assert.match(out, /^\S+ < 10B line\\nbreak$/m);
  assert.match(out, /close end of input, then closed by the far side/);
  await server.stop("SIGTERM");
});

Deno.test("inspect ADDR: -e hex input, msgpack as JSON, the far side closing ends the session", async () => {
  await using dir = await tempDir();
  const svc = `${dir.path}/app.sock`;
  await using server = await startListening(IPCAT, ["serve", "--echo", "-f", "length", svc]);
  const hexSession = await ipcat(["inspect", "-f", "length", "-e", "hex", svc], { stdin: "68 69\n00ff\n" });
  assert.match(hexSession.stdout, /< 2B hi$/m);
  assert.match(hexSession.stdout, /< 2B\n {2}00000000 {2}00 ff/m);
  await server.stop("SIGTERM");

  const mp = `${dir.path}/mp.sock`;
  await using mpServer = await startListening(IPCAT, ["serve", "--echo", "-f", "msgpack", mp]);
  const json = await ipcat(["inspect", "-f", "msgpack", mp], { stdin: '{"a":[1,"x"]}\n' });
  assert.match(json.stdout, /< 7B \{"a":\[1,"x"\]\}$/m);
  await mpServer.stop("SIGTERM");

  // A sink that exits after one message: the session ends while stdin is still open.
  const sink = `${dir.path}/sink.sock`;
  await using sinkServer = await startListening(IPCAT, ["serve", "--count", "1", sink]);
  const session = new Deno.Command(IPCAT, {
    args: ["inspect", sink],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = new LineCollector(session.stdout);
  const err = new LineCollector(session.stderr);
  const writer = session.stdin.getWriter();
  await writer.write(te.encode("only\n"));
  await out.waitFor(/close closed by the far side/);
  const status = await session.status;
  assert.equal(status.code, 0, err.text);
  await writer.close().catch(() => {});
  await Promise.all([out.done, err.done]);
  await sinkServer.stop("SIGTERM");
});

/** A tmux client for a server of its own: a killed server's name is never reused, so no race. */
let tmuxServers = 0;
function tmuxServer() {
  const name = `ipcat-test-${Deno.pid}-${++tmuxServers}`;
  return (...args: string[]) => run("tmux", ["-L", name, ...args]);
}

Deno.test({
  name: "inspect ADDR on a terminal (tmux): prompt, editing, history, messages arriving while typing",
  ignore: !have("tmux"),
  async fn() {
    const tmux = tmuxServer();
    await using dir = await tempDir();
    const svc = `${dir.path}/app.sock`;
    const exitFile = `${dir.path}/exit`;
    await using server = await startListening("python3", ["-c", PY_SERVER, svc]);
    const started = await tmux(
      "new-session",
      "-d",
      "-x",
      "150",
      "-y",
      "40",
      `NO_COLOR=1 ${IPCAT} inspect ${svc}; echo EXIT=$? > ${exitFile}; sleep 30`,
    );
    assert.equal(started.code, 0, started.stderr);
    const pane = async () => (await tmux("capture-pane", "-p")).stdout;
    const see = (test: RegExp, what: string) =>
      until(async () => test.test(await pane()), 10_000, what).catch(async (error) => {
        throw new Error(`${error.message}; pane:\n${await pane()}`);
      });
    try {
      await see(/send>\s*$/m, "the prompt");
      await tmux("send-keys", "hello", "Enter");
      await see(/< 5B hello$/m, "the echo of hello");
      // Edit: type abX, backspace, c, left, Z -> abZc
      await tmux("send-keys", "abX", "BSpace", "c", "Left", "Z", "Enter");
      await see(/< 4B abZc$/m, "the edited line echoed");
      // History: up recalls abZc.
      await tmux("send-keys", "Up", "Enter");
      await until(
        async () => ((await pane()).match(/< 4B abZc$/gm) ?? []).length === 2,
        10_000,
        "the recalled line",
      );
      // A message arrives while a line is half typed: the line survives, below it.
      await tmux("send-keys", "partial");
      await see(/send> partial$/m, "the half-typed line");
      const pushed = await ipcat(["send", svc, "push tock"]);
      assert.equal(pushed.code, 0, pushed.stderr);
      await see(/< 4B tock\nsend> partial$/m, "tock above the half-typed line");
      await tmux("send-keys", "Enter");
      await see(/< 7B partial$/m, "the finished line echoed");
      await tmux("send-keys", "C-d");
      assert.equal(await exitStatusIn(exitFile), "EXIT=0");
    } finally {
      await tmux("kill-server");
    }
    await server.stop("SIGTERM");
  },
});

Deno.test({
  name: "inspect ADDR on a terminal (tmux): Ctrl-C exits 130",
  ignore: !have("tmux"),
  async fn() {
    const tmux = tmuxServer();
    await using dir = await tempDir();
    const svc = `${dir.path}/app.sock`;
    const exitFile = `${dir.path}/exit`;
    await using server = await startListening(IPCAT, ["serve", "--echo", svc]);
    await tmux("new-session", "-d", `${IPCAT} inspect ${svc}; echo EXIT=$? > ${exitFile}; sleep 30`);
    try {
      await until(async () => /send>/.test((await tmux("capture-pane", "-p")).stdout), 10_000, "the prompt");
      await tmux("send-keys", "typed", "C-c");
      assert.equal(await exitStatusIn(exitFile), "EXIT=130");
    } finally {
      await tmux("kill-server");
    }
    await server.stop("SIGTERM");
  },
});

Deno.test({
  name: "inspect colours by direction on a terminal only, and never with --no-color or NO_COLOR",
  ignore: !have("tmux"),
  async fn() {
    await using dir = await tempDir();
    const svc = `${dir.path}/app.sock`;
    await using server = await startListening(IPCAT, ["serve", "--echo", svc]);
    const GREEN = "\x1b[32m";
    // A session on a terminal: its stdout is the terminal.
    const show = async (env: string, flags: string) => {
      const tmux = tmuxServer();
      const exitFile = `${dir.path}/exit-${flags.length}-${env.length}`;
      const started = await tmux(
        "new-session",
        "-d",
        `${env} ${IPCAT} inspect ${flags} ${svc}; echo EXIT=$? > ${exitFile}; sleep 30`,
      );
      assert.equal(started.code, 0, started.stderr);
      try {
        await until(
          async () => /send>/.test((await tmux("capture-pane", "-p")).stdout),
          10_000,
          "the prompt",
        ).catch(async (error) => {
          throw new Error(
            `${error.message}; pane: ${JSON.stringify((await tmux("capture-pane", "-p")).stdout)}`,
          );
        });
        await tmux("send-keys", "hi", "Enter");
        await until(
          async () => /< 2B hi/.test((await tmux("capture-pane", "-p")).stdout),
          10_000,
          "the echo",
        );
        return (await tmux("capture-pane", "-p", "-e")).stdout;
      } finally {
        await tmux("kill-server");
      }
    };
    assert.ok((await show("env -u NO_COLOR", "")).includes(GREEN));
    assert.ok(!(await show("env -u NO_COLOR", "--no-color")).includes(GREEN));
    assert.ok(!(await show("env NO_COLOR=1", "")).includes(GREEN));
    // Not a terminal: no colour even without NO_COLOR.
    const piped = await run("env", ["-u", "NO_COLOR", IPCAT, "inspect", svc], { stdin: "hi\n" });
    assert.match(piped.stdout, /> 2B hi/);
    assert.ok(!piped.stdout.includes("\x1b["));
    await server.stop("SIGTERM");
  },
});

Deno.test("inspect usage errors exit 2", async () => {
  const none = await ipcat(["inspect"]);
  assert.equal(none.code, 2);
  const format = await ipcat(["inspect", "/tmp/x.sock", "--target", "/tmp/y.sock", "--format", "pretty"]);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /Unknown --format "pretty"/);
  const both = await ipcat(["inspect", "/tmp/x.sock", "--intercept", "/tmp/y.sock"]);
  assert.equal(both.code, 2);
});

/** Wait for a tmux session's shell to write `EXIT=<status>` to `file`, and return that line. */
async function exitStatusIn(file: string): Promise<string> {
  const read = () => Deno.readTextFile(file).catch(() => "");
  await until(async () => (await read()).includes("EXIT="), 10_000, "the session to end");
  return (await read()).trim();
}
