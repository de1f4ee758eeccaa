/**
 * `ipcat replay`, `inspect --from` and the recording's meta line, end to end: recordings made
 * through the real proxy from redis-cli into redis-server, replayed against the same and a
 * different Redis, concurrent connections, `--ignore`, `--update`, `--timing recorded`, and
 * corrupt recordings.
 * @module
 */
import {
  assert,
  have,
  ipcat,
  LineCollector,
  run,
  spawn,
  startListening,
  startServe,
  tempDir,
  within,
} from "./_helpers.ts";
import { connectTo, ConnLines, writeText } from "./_proc.ts";
import { IPCAT } from "./_helpers.ts";

const HAVE_REDIS = have("redis-server") && have("redis-cli");

/** A port free right now on loopback (redis-server needs a number; it cannot report port 0). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** redis-server on a free loopback port, no persistence; stopped on dispose. */
async function startRedis(dir: string): Promise<{ port: number } & AsyncDisposable> {
  const port = freePort();
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ]);
  const out = new LineCollector(child.stdout);
  const err = new LineCollector(child.stderr);
  await within(out.waitFor(/Ready to accept connections/), 10_000, "redis-server start");
  return {
    port,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
      await Promise.all([out.done, err.done]);
    },
  };
}

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const result = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** Run the proxy for `count` connections, let `clients` talk through it, wait for it to exit. */
async function record(
  target: string,
  file: string,
  count: number,
  clients: (proxy: string) => Promise<void>,
  extra: string[] = [],
): Promise<void> {
  await using proxy = await startListening(IPCAT, [
    "inspect",
    "tcp:127.0.0.1:0",
    "--target",
    target,
    "--record",
    file,
    "--count",
    String(count),
    ...extra,
  ]);
  await clients(proxy.address);
  const status = await within(proxy.child.status, 10_000, "proxy exit after --count");
  assert.equal(status.code, 0, proxy.stderr.text);
}

Deno.test({
  name: "replay: redis-cli recorded through the proxy; same Redis exit 0, different data exit 1 with a diff",
  ignore: !HAVE_REDIS,
  async fn() {
    await using dir = await tempDir();
    await using a = await startRedis(dir.path);
    await using b = await startRedis(dir.path);
    await redisCli(a.port, "set", "greeting", "hello");
    await redisCli(b.port, "set", "greeting", "howdy");
    const rec = `${dir.path}/redis.jsonl`;
    await record(`tcp:127.0.0.1:${a.port}`, rec, 1, async (proxy) => {
      const port = proxy.split(":").at(-1)!;
      assert.equal(await redisCli(Number(port), "get", "greeting"), "hello");
    });
    const [meta] = (await Deno.readTextFile(rec)).split("\n").map((l) => l && JSON.parse(l));
    assert.deepEqual(
      { event: meta.event, version: meta.version, framing: meta.framing, target: meta.target },
      { event: "meta", version: 1, framing: "lines", target: `tcp:127.0.0.1:${a.port}` },
    );

    // No ADDR, no -f: both come from the meta line.
    const same = await ipcat(["replay", rec]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /^identical: 1 connection, 2 replies as recorded/);
    assert.equal(same.stdout.trim().split("\n").length, 1);

    const other = await ipcat(["replay", rec, `tcp:127.0.0.1:${b.port}`]);
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stdout, /^#1 < message 2 differs\n {2}recorded: hello\\r\n {2}answered: howdy\\r\n/);
    assert.match(other.stdout, /different: 1 of 1 connections/);

    // Raw: compared as one byte stream, the offset named.
    const raw = await ipcat(["replay", "-f", "raw", rec, `tcp:127.0.0.1:${b.port}`]);
    assert.equal(raw.code, 1);
    assert.match(raw.stdout, /^#1 < byte 5 differs/);

    // --update: the golden file now holds what b answers; replaying passes on b, fails on a.
    const update = await ipcat(["replay", "--update", rec, `tcp:127.0.0.1:${b.port}`]);
    assert.equal(update.code, 0, update.stderr);
    assert.match(
      update.stdout,
      /^updated .*: 1 connection, 2 replies; 1 connection\(s\) answered differently/,
    );
    assert.equal((await Deno.stat(rec)).mode! & 0o777, 0o600);
    assert.equal((await ipcat(["replay", rec, `tcp:127.0.0.1:${b.port}`])).code, 0);
    const back = await ipcat(["replay", rec]);
    assert.equal(back.code, 1);
    assert.match(back.stdout, /recorded: howdy\\r\n {2}answered: hello\\r/);
  },
});

Deno.test("replay: two concurrent connections keep their interleaving; --conn picks one", async () => {
  await using dir = await tempDir();
  await using echo = await startServe(["--echo", "-f", "lines", `unix:${dir.path}/echo.sock`]);
  const rec = `${dir.path}/two.jsonl`;
  await record(echo.address, rec, 2, async (proxy) => {
    const one = await connectTo(proxy);
    const two = await connectTo(proxy);
    const lines1 = new ConnLines(one), lines2 = new ConnLines(two);
    await writeText(one, "first\n");
    assert.equal(await lines1.next(), "first");
    await writeText(two, "second\n");
    assert.equal(await lines2.next(), "second");
    await writeText(one, "third\n");
    assert.equal(await lines1.next(), "third");
    await one.closeWrite();
    await two.closeWrite();
    assert.equal(await lines1.next(), null);
    assert.equal(await lines2.next(), null);
    one.close();
    two.close();
  });
  const events = (await Deno.readTextFile(rec)).trim().split("\n").map((l) => JSON.parse(l));
  const order = events.filter((e) => e.event !== "meta").map((e) => `${e.conn}${e.event[0]}${e.dir ?? ""}`);
  assert.deepEqual(order.slice(0, 8), ["1o", "2o", "1dc2s", "1ds2c", "2dc2s", "2ds2c", "1dc2s", "1ds2c"]);

  const same = await ipcat(["replay", rec]);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.match(same.stdout, /identical: 2 connections, 3 replies/);

  await using upper = await startServe(["--handle", "tr a-z A-Z", "-f", "lines", `unix:${dir.path}/up.sock`]);
  const differ = await ipcat(["replay", rec, upper.address]);
  assert.equal(differ.code, 1);
  assert.match(differ.stdout, /#1 < message 1 differs\n {2}recorded: first\n {2}answered: FIRST\n/);
  assert.match(differ.stdout, /#2 < message 1 differs\n {2}recorded: second\n {2}answered: SECOND\n/);
  const only2 = await ipcat(["replay", "--conn", "2", rec, upper.address]);
  assert.equal(only2.code, 1);
  assert.doesNotMatch(only2.stdout, /#1/);
  assert.match(only2.stdout, /different: 1 of 1 connections/);

  // The offline view: the live log's format, --conn too.
  const view = await ipcat(["inspect", "--from", rec, "--conn", "2"]);
  assert.equal(view.code, 0, view.stderr);
  const lines = view.stdout.trimEnd().split("\n").map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3} /, ""));
  assert.deepEqual(lines, [
    `#2 open recorded -> ${echo.address}`,
    "#2 > 6B second",
    "#2 < 6B second",
    "#2 close closed; > 7B < 7B",
  ]);
  const hex = await ipcat(["inspect", "--from", rec, "--conn", "1", "--format", "hex", "-f", "raw"]);
  assert.match(hex.stdout, /#1 > 6B\n {2}00000000 {2}66 69 72 73 74 0a/);
});

Deno.test("replay: --ignore masks a timestamp; --timing recorded keeps the gaps, --speed shortens them", async () => {
  await using dir = await tempDir();
  await using clock = await startServe([
    "--handle",
    "sh -c 'cat; date +%s%N'",
    "-f",
    "lines",
    `unix:${dir.path}/t.sock`,
  ]);
  const rec = `${dir.path}/clock.jsonl`;
  await record(clock.address, rec, 1, async (proxy) => {
    const conn = await connectTo(proxy);
    const lines = new ConnLines(conn);
    await writeText(conn, "now\n");
    assert.match((await lines.next())!, /^now\d+$/);
    await conn.closeWrite();
    assert.equal(await lines.next(), null);
    conn.close();
  });
  const plain = await ipcat(["replay", rec]);
  assert.equal(plain.code, 1, plain.stdout);
  assert.match(plain.stdout, /#1 < message 1 differs\n {2}recorded: now\d+\n {2}answered: now\d+\n/);
  const masked = await ipcat(["replay", "--ignore", "\\d{10,}", rec]);
  assert.equal(masked.code, 0, masked.stdout);

  // A hand-written recording (no meta line: format before version 1) with a 1.2 s gap.
  await using echo = await startServe(["--echo", `unix:${dir.path}/e.sock`]);
  const gap = `${dir.path}/gap.jsonl`;
  const b64 = (s: string) => btoa(s);
  await Deno.writeTextFile(
    gap,
    [
      { t: 1000, conn: 1, event: "open" },
      { t: 1000, conn: 1, event: "data", dir: "c2s", data: b64("a\n") },
      { t: 1001, conn: 1, event: "data", dir: "s2c", data: b64("a\n") },
      { t: 2200, conn: 1, event: "data", dir: "c2s", data: b64("b\n") },
      { t: 2201, conn: 1, event: "data", dir: "s2c", data: b64("b\n") },
      { t: 2202, conn: 1, event: "close" },
    ].map((e) => JSON.stringify(e) + "\n").join(""),
  );
  const timed = async (args: string[]) => {
    const start = performance.now();
    const result = await ipcat(["replay", ...args, gap, echo.address]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    return performance.now() - start;
  };
  assert.ok((await timed(["--timing", "recorded"])) >= 1200);
  const halved = await timed(["--timing", "recorded", "--speed", "2"]);
  assert.ok(halved >= 600 && halved < 1200, `--speed 2 took ${halved} ms`);
  // No meta line and no ADDR: the one-line usage error.
  const noAddr = await ipcat(["replay", gap]);
  assert.equal(noAddr.code, 2);
  assert.match(
    noAddr.stderr,
    /^ipcat: replay needs an address: ".*" has no meta line naming its target \(ipcat replay RECORDING ADDR\)\n$/,
  );
});

Deno.test("replay and inspect --from: a corrupt or truncated recording line is exit 65 naming the line", async () => {
  await using dir = await tempDir();
  const good = [
    '{"t":1,"event":"meta","version":1,"framing":"lines","target":"unix:/nonexistent.sock"}',
    '{"t":1,"conn":1,"event":"open"}',
    '{"t":2,"conn":1,"event":"data","dir":"c2s","data":"aGkK"}',
  ];
  const cases: [string, string[], RegExp][] = [
    ["corrupt", [...good.slice(0, 2), "{oops", ...good.slice(2)], /line 3 is not valid JSON/],
    ["truncated", [...good, '{"t":3,"conn":1,"event":"da'], /line 4 is cut short/],
    [
      "bad base64",
      [...good, '{"t":3,"conn":1,"event":"data","dir":"s2c","data":"!!"}'],
      /line 4 has "data" that is not base64/,
    ],
    [
      "future",
      ['{"t":1,"event":"meta","version":9,"framing":"raw","target":"tcp:x:1"}'],
      /line 1 has format version 9/,
    ],
  ];
  for (const [what, lines, expected] of cases) {
    const file = `${dir.path}/${what.replace(" ", "-")}.jsonl`;
    await Deno.writeTextFile(file, lines.join("\n"));
    for (
      const args of [["replay", file], ["inspect", "--from", file], [
        "replay",
        file,
        "--to-pcap",
        `${file}.pcap`,
      ]]
    ) {
      const result = await ipcat(args);
      assert.equal(result.code, 65, `${what} ${args[0]}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
      assert.match(result.stderr, /^ipcat: Cannot read recording ".*": line \d+ /);
    }
  }
});
