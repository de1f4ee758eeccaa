/**
 * `inspect --pcap` and `replay --to-pcap`, end to end: curl through the proxy to Python's
 * http.server, the capture read back by tshark (requests and URIs, per-stream byte totals
 * equal to the recording), the converted recording byte-identical to the live capture, and
 * the recording's safe-open rules applied to the pcap file.
 * @module
 */
import {
  assert,
  have,
  IPCAT,
  LineCollector,
  run,
  spawn,
  startListening,
  tempDir,
  within,
} from "./_helpers.ts";

const HAVE_PEERS = have("tshark") && have("curl") && have("python3");

async function tshark(...args: string[]): Promise<string> {
  const result = await run("tshark", args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

Deno.test({
  name: "inspect --pcap: curl to http.server, tshark lists the requests, byte totals equal the recording",
  ignore: !HAVE_PEERS,
  async fn() {
    await using dir = await tempDir();
    await Deno.mkdir(`${dir.path}/www`);
    await Deno.writeTextFile(`${dir.path}/www/a.txt`, "alpha\n");
    await Deno.writeTextFile(`${dir.path}/www/b.txt`, "bravo ".repeat(20_000));
    const http = spawn("python3", [
      "-u",
      "-m",
      "http.server",
      "--bind",
      "127.0.0.1",
      "--directory",
      dir.path,
      "0",
    ], {});
    const out = new LineCollector(http.stdout);
    const err = new LineCollector(http.stderr);
    try {
      const line = await within(out.waitFor(/Serving HTTP on .* port \d+/), 10_000, "http.server start");
      const port = /port (\d+)/.exec(line)![1];
      const rec = `${dir.path}/http.jsonl`, pcap = `${dir.path}/http.pcap`;
      await using proxy = await startListening(IPCAT, [
        "inspect",
        "tcp:127.0.0.1:0",
        "--target",
        `tcp:127.0.0.1:${port}`,
        "-f",
        "raw",
        "--record",
        rec,
        "--pcap",
        pcap,
        "--pcap-port",
        "80",
        "--count",
        "2",
      ]);
      const base = `http://${proxy.address.slice(4)}`;
      for (const path of ["/www/a.txt", "/www/b.txt?x=1"]) {
        const got = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", base + path]);
        assert.equal(got.stdout, "200", got.stderr);
      }
      assert.equal((await within(proxy.child.status, 10_000, "proxy exit")).code, 0, proxy.stderr.text);
      assert.equal((await Deno.stat(pcap)).mode! & 0o777, 0o600);

      const uris = await tshark("-r", pcap, "-Y", "http.request", "-T", "fields", "-e", "http.request.uri");
      assert.deepEqual(uris.trim().split("\n"), ["/www/a.txt", "/www/b.txt?x=1"]);

      // Payload bytes per stream and direction, as tshark counts them, against the recording's.
      const fromPcap = new Map<string, number>();
      const fields = await tshark(
        "-r",
        pcap,
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.dstport",
        "-e",
        "tcp.len",
      );
      for (const row of fields.trim().split("\n")) {
        const [stream, dport, len] = row.split("\t");
        const key = `${Number(stream) + 1} ${dport === "80" ? "c2s" : "s2c"}`;
        fromPcap.set(key, (fromPcap.get(key) ?? 0) + Number(len));
      }
      const fromRecording = new Map<string, number>();
      for (const line of (await Deno.readTextFile(rec)).trim().split("\n")) {
        const e = JSON.parse(line);
        if (e.event !== "data") continue;
        const key = `${e.conn} ${e.dir}`;
        fromRecording.set(key, (fromRecording.get(key) ?? 0) + Uint8Array.fromBase64(e.data).length);
      }
      assert.deepEqual(fromPcap, fromRecording);
      assert.ok(fromRecording.get("2 s2c")! > 120_000);
      // No malformed packets, no analysis warnings (bad sequence numbers, lost segments).
      const expert = await tshark("-r", pcap, "-Y", "_ws.malformed || tcp.analysis.flags");
      assert.equal(expert.trim(), "");

      // The same recording converted afterwards is the same capture, byte for byte.
      const converted = `${dir.path}/converted.pcap`;
      const convert = await run(IPCAT, ["replay", rec, "--to-pcap", converted, "--pcap-port", "80"]);
      assert.equal(convert.code, 0, convert.stderr);
      assert.deepEqual(await Deno.readFile(converted), await Deno.readFile(pcap));
      assert.equal((await Deno.stat(converted)).mode! & 0o777, 0o600);
      // Not appended to: a second conversion to the same file is refused.
      const again = await run(IPCAT, ["replay", rec, "--to-pcap", converted]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^ipcat: Cannot open --to-pcap file ".*": it is not empty; .*\n$/);
    } finally {
      http.kill("SIGKILL");
      await http.status;
      await Promise.all([out.done, err.done]);
    }
  },
});

Deno.test("inspect --pcap: a symlink at the name is refused like --record's, before listening", async () => {
  await using dir = await tempDir();
  const victim = `${dir.path}/victim`;
  await Deno.writeTextFile(victim, "keep");
  await Deno.symlink(victim, `${dir.path}/cap.pcap`);
  const result = await run(IPCAT, [
    "inspect",
    `unix:${dir.path}/p.sock`,
    "--target",
    `unix:${dir.path}/none.sock`,
    "--pcap",
    `${dir.path}/cap.pcap`,
  ]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^ipcat: Cannot open --pcap file ".*": it is a symbolic link; not following it\n$/,
  );
  assert.equal(await Deno.readTextFile(victim), "keep");
});
