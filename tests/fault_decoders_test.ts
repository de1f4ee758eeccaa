/**
 * Fault tests of the decoders against hostile peers: unfinished messages dribbled a byte at
 * a time, headers announcing huge frames, values whose JSON view would explode, and
 * non-canonical headers. Counts are `scaled(short, long)`; `make stress` runs the long form.
 * @module
 */
import {
  assert,
  figure,
  IPCAT,
  ipcat,
  LineCollector,
  scaled,
  spawn,
  startListening,
  startServe,
  tempDir,
  within,
} from "./_helpers.ts";
import { connectTo, readToEnd, writeText } from "./_proc.ts";

const DRIBBLE = new URL("./dribble.py", import.meta.url).pathname;

/**
 * V8 grows its young generation up to 32 MiB under a high allocation rate (one read per byte
 * is one), which would swamp a few MB of pending bytes: capped, RSS growth is what is kept.
 */
const V8_STEADY = { DENO_V8_FLAGS: "--max-semi-space-size=1" };

/** A field of /proc/PID/status, in bytes (VmRSS, VmSize, VmHWM). */
function vm(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  if (!match) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Are the TCP queues of every connection to or from `port` empty (all sent bytes read)? */
function drained(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
    const [, local, remote, , queues] = line.trim().split(/\s+/);
    if (!queues || !(local.endsWith(`:${hex}`) || remote.endsWith(`:${hex}`))) continue;
    if (queues !== "00000000:00000000") return false;
  }
  return true;
}

async function until(test: () => boolean, what: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Round trip of one legit client: how long the next real client waits, in ms. */
async function legitRoundTrip(address: string, framingArgs: string[], message: string): Promise<number> {
  const started = performance.now();
  const result = await within(ipcat(["send", ...framingArgs, address, message]), 30_000, "legit client");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${message}\n`);
  return performance.now() - started;
}

/**
 * Dribble `each` bytes, one send at a time, into `conns` connections that each first sent
 * `header`; returns the server's RSS growth over the second half, per pending byte, once the
 * server has read every byte (the first half warms it up).
 */
async function rssPerPendingByte(pid: number, port: string, conns: number, each: number, header: string) {
  const peer = spawn("python3", [DRIBBLE, "127.0.0.1", port, String(conns), String(each), header], {
    stdin: "piped",
  });
  const lines = new LineCollector(peer.stdout);
  const stdin = peer.stdin.getWriter();
  try {
    const rss: number[] = [];
    for (const expected of ["half", "sent"]) {
      await within(lines.waitFor((line) => line === expected), 120_000, "dribbler");
      await until(() => drained(Number(port)), "the server to read it all");
      rss.push(vm(pid, "VmRSS"));
      if (expected === "half") await stdin.write(new TextEncoder().encode("\n"));
    }
    return (rss[1] - rss[0]) / (conns * Math.floor(each / 2));
  } finally {
    await stdin.close();
    await peer.stderr.cancel();
    await peer.status;
    await lines.done;
  }
}

for (
  const { framing, header, name } of [
    { framing: "lines", header: "", name: "lines" },
    // A str 32 of nearly 1 GiB: its payload never ends.
    { framing: "msgpack", header: "db3f000000", name: "msgpack" },
  ]
) {
  Deno.test(`fault decoders: ${name} message dribbled a byte per write costs about a byte per pending byte`, async () => {
    const conns = scaled(16, 64);
    const each = scaled(64 * 1024, 256 * 1024);
    await using server = await startServe(["-f", framing, "--max-frame", "1G", "tcp:0"], { env: V8_STEADY });
    const port = server.address.split(":").pop()!;
    const pid = server.child.pid;
    await legitRoundTrip(server.address, ["-f", "lines"], "warm").catch(() => {});
    const perByte = await rssPerPendingByte(pid, port, conns, each, header);
    figure(`decoders.${name}.rss_per_pending_byte`, perByte.toFixed(2), "B/B");
    figure(`decoders.${name}.pending_bytes`, conns * each, "B");
    // Doubling keeps at most 2 bytes per byte, and the buffers it outgrew stay until V8's next
    // GC; before the fix this was 70-226. The short form measures 512 KiB, where a few MB of
    // heap noise on a loaded machine weigh more: its bound is looser, still far from the bug.
    const bound = scaled(32, 8);
    assert.ok(perByte < bound, `${perByte.toFixed(1)} bytes of RSS per pending byte (bound ${bound})`);
  });
}

Deno.test("fault decoders: an inspect proxy fed a line a byte per write costs about a byte per pending byte", async () => {
  const conns = scaled(16, 64);
  const each = scaled(64 * 1024, 256 * 1024);
  await using target = await startServe(["--max-frame", "1G", "tcp:0"]);
  await using proxy = await startListening(IPCAT, [
    "inspect",
    "tcp:0",
    "--target",
    target.address,
    "--max-frame",
    "1G",
  ], { env: V8_STEADY });
  const port = proxy.address.split(":").pop()!;
  const perByte = await rssPerPendingByte(proxy.child.pid, port, conns, each, "");
  figure("decoders.inspect_cutter.rss_per_pending_byte", perByte.toFixed(2), "B/B");
  figure("decoders.inspect_cutter.pending_bytes", conns * each, "B");
  // The cutter's pending bytes and its decoder's each grow by doubling; a copied slice per
  // read cost ~100 bytes per byte. As for the decoders above, the short form under a full
  // suite's load gets a looser bound (2.99-12.4 B/B over seven clean-clone and local suites on
  // 2026-11-27), still far from the bug; the long form keeps 12.
  const bound = scaled(32, 12);
  assert.ok(perByte < bound, `${perByte.toFixed(1)} bytes of RSS per pending byte (bound ${bound})`);
});

Deno.test("fault decoders: headers announcing huge frames reserve nothing until the bytes arrive", async () => {
  const conns = scaled(200, 1000);
  await using server = await startServe([
    "-f",
    "length",
    "--echo",
    "--max-connections",
    String(conns + 10),
    "tcp:0",
  ]);
  const pid = server.child.pid;
  const port = Number(server.address.split(":").pop());
  await legitRoundTrip(server.address, ["-f", "length"], "warm");
  const size0 = vm(pid, "VmSize");
  const rss0 = vm(pid, "VmRSS");
  const clients: Deno.Conn[] = [];
  try {
    for (let i = 0; i < conns; i++) {
      const conn = await connectTo(server.address);
      clients.push(conn);
      // 16 MiB - 1 announced (the default --max-frame), then one byte of it.
      await writeText(conn, Uint8Array.from([0x00, 0xff, 0xff, 0xff, 0x78]));
    }
    await until(() => drained(port), "the server to read every header");
    const sizePerConn = (vm(pid, "VmSize") - size0) / conns;
    const rssPerConn = (vm(pid, "VmRSS") - rss0) / conns;
    const next = await legitRoundTrip(server.address, ["-f", "length"], "next");
    figure("decoders.huge_header.connections", conns);
    figure("decoders.huge_header.vmsize_per_connection", Math.round(sizePerConn), "B");
    figure("decoders.huge_header.rss_per_connection", Math.round(rssPerConn), "B");
    figure("decoders.huge_header.next_client", next.toFixed(1), "ms");
    // Before: 16 MiB of address space per connection, so a few hundred exhausted memory.
    assert.ok(sizePerConn < 1024 * 1024, `${Math.round(sizePerConn)} bytes of address space per connection`);
  } finally {
    for (const conn of clients) conn.close();
  }
});

Deno.test("fault decoders: --max-frame past 1G is a usage error, not an allocation failure", async () => {
  for (const value of ["3000G", "2G", "1025M"]) {
    const result = await ipcat(["send", "--max-frame", value, "tcp:1", "hi"]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^ipcat: .*max-frame.*at most 1G/);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  }
  // The ceiling itself is accepted: only a frame that big would be gathered.
  await using server = await startServe(["-f", "length", "--max-frame", "1G", "--echo", "tcp:0"]);
  await legitRoundTrip(server.address, ["-f", "length", "--max-frame", "1G"], "ok");
});

Deno.test("fault decoders: a msgpack value too big for a JSON view prints as $msgpack, fast", async () => {
  const items = scaled(2_000_000, 16_777_215);
  // array 32 of nils: one byte per item on the wire, ~5 bytes and ~50 bytes of objects in JSON.
  const value = new Uint8Array(5 + items).fill(0xc0);
  value.set([0xdd, items >>> 24, (items >>> 16) & 0xff, (items >>> 8) & 0xff, items & 0xff]);
  // The long form's value is just over the default --max-frame (16M).
  await using server = await startServe(["-f", "msgpack", "--max-frame", "32M", "--count", "1", "tcp:0"]);
  const started = performance.now();
  const conn = await connectTo(server.address);
  await writeText(conn, value);
  conn.close();
  const status = await within(server.child.status, 60_000, "serve printing the value");
  const elapsed = performance.now() - started;
  await server.stdout.done;
  assert.equal(status.code, 0);
  assert.deepEqual(server.stdout.lines, [JSON.stringify({ $msgpack: value.toBase64() })]);
  figure("decoders.json_view.fallback_items", items);
  figure("decoders.json_view.fallback_time", elapsed.toFixed(0), "ms");
});

Deno.test("fault decoders: JSON view bounds: 100 000 values and depth 1000 still print as JSON", async () => {
  // The array and its 99 999 nils are 100 000 values.
  const nils = new Uint8Array(5 + 99_999).fill(0xc0);
  nils.set([0xdd, 0, 0x01, 0x86, 0x9f]);
  const deep = new Uint8Array(1001).fill(0x91);
  deep[1000] = 0x01;
  await using server = await startServe(["-f", "msgpack", "--count", "2", "tcp:0"]);
  for (const value of [nils, deep]) {
    const conn = await connectTo(server.address);
    await writeText(conn, value);
    conn.close();
  }
  await within(server.child.status, 30_000, "serve");
  await server.stdout.done;
  assert.equal(server.stdout.lines.length, 2);
  // Connections are served concurrently: either may print first.
  const lines = server.stdout.lines.toSorted((a, b) => a.length - b.length);
  assert.equal(lines[0], "[".repeat(1000) + "1" + "]".repeat(1000));
  assert.equal(lines[1], JSON.stringify(new Array(99_999).fill(null)));
});

Deno.test("fault decoders: inspect records a non-canonical varint frame as one event, no phantom", async () => {
  await using dir = await tempDir();
  const record = `${dir.path}/trace.jsonl`;
  await using target = await startServe(["-f", "length:varint", "--echo", "tcp:0"]);
  await using proxy = await startListening(IPCAT, [
    "inspect",
    "tcp:0",
    "--target",
    target.address,
    "-f",
    "length:varint",
    "--record",
    record,
    "--count",
    "1",
  ]);
  const conn = await connectTo(proxy.address);
  const wire = Uint8Array.from([0x82, 0x80, 0x00, 0x68, 0x69, 0x01, 0x41]);
  await writeText(conn, wire);
  await conn.closeWrite();
  await readToEnd(conn);
  conn.close();
  await within(proxy.child.status, 10_000, "inspect --count 1");
  const events = (await Deno.readTextFile(record)).trim().split("\n").map((l) => JSON.parse(l));
  const c2s = events.filter((e) => e.event === "data" && e.dir === "c2s").map((e) => e.data);
  // Each message with exactly the bytes that carried it: the 3-byte header stays with "hi".
  assert.deepEqual(c2s, [Uint8Array.from([0x82, 0x80, 0x00, 0x68, 0x69]).toBase64(), "AUE="]);
});
