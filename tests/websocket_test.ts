/**
 * End-to-end tests of `ws:` addresses against peers nobody here wrote: Python's `websockets`,
 * Node's `ws`, curl, and Deno's own WebSocket client in the test process.
 */
import {
  assert,
  figure,
  IPCAT,
  ipcat,
  LineCollector,
  makeCerts,
  run,
  scaled,
  spawn,
  startListening,
  startServe,
  tempDir,
  within,
} from "./_helpers.ts";

const PYTHON = "/usr/bin/python3";
const PEERS = new URL("./", import.meta.url).pathname;
const haveNodeWs = (() => {
  try {
    Deno.statSync(new URL("../.deno/peers/node_modules/ws", import.meta.url));
    return true;
  } catch {
    return false;
  }
})();

/** Start a peer server script that prints `port N`; disposed with SIGKILL. */
async function peerServer(cmd: string, script: string) {
  const child = spawn(cmd, [`${PEERS}${script}`, "server"]);
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  const line = await stdout.waitFor(/^port \d+/, "port line", 15_000);
  return {
    url: `ws://127.0.0.1:${line.split(" ")[1]}/`,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
      await Promise.all([stdout.done, stderr.done]);
    },
  };
}

/** A Deno WebSocket client that collects messages (text as strings, binary as hex). */
function client(url: string) {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const got: string[] = [];
  let wake = () => {};
  socket.onmessage = (e) => {
    got.push(typeof e.data === "string" ? e.data : `bin:${new Uint8Array(e.data).toHex()}`);
    wake();
  };
  const opened = new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
  const next = async (n: number) => {
    while (got.length < n) await new Promise<void>((resolve) => wake = resolve);
    return got.slice(0, n);
  };
  return { socket, got, opened, closed, next };
}

Deno.test("ws: send to a Python websockets server: text and binary, a fragmented message, close codes, a vanishing peer", async () => {
  await using peer = await peerServer(PYTHON, "ws_peer.py");
  const text = await within(ipcat(["send", "--keep-open", peer.url, "héllo", "fragment"]), 20_000, "send");
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, "héllo\nfragmented\n");

  const binary = await within(
    ipcat(["send", "--keep-open", "-e", "hex", peer.url, "00ff10"]),
    20_000,
    "send",
  );
  assert.equal(binary.code, 0, binary.stderr);
  assert.equal(binary.stdout, "00ff10\n");

  const closed = await within(ipcat(["send", "--keep-open", peer.url, "close4000"]), 20_000, "send");
  assert.equal(closed.code, 1);
  assert.match(closed.stderr, /^ipcat: ws:\/\/127\.0\.0\.1:\d+\/: closed with 4000: bye\n$/);

  const vanished = await within(ipcat(["send", "--keep-open", peer.url, "vanish"]), 20_000, "send");
  assert.equal(vanished.code, 1);
  assert.match(vanished.stderr, /^ipcat: .*closed with 1006 connection lost without a close frame\n$/);
});

Deno.test("ws: serve --echo answers a Python websockets client in kind: text as text, binary as binary", async () => {
  await using server = await startServe(["--echo", "ws:0"]);
  assert.match(server.address, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  const out = await within(run(PYTHON, [`${PEERS}ws_peer.py`, "client", server.address]), 20_000, "client");
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "str 'héllo'\nbytes b'\\x00\\xff'\n");
});

Deno.test({
  name: "ws: Node's ws package as server and as client",
  ignore: !haveNodeWs,
  fn: async () => {
    await using peer = await peerServer("node", "ws_peer.mjs");
    const sent = await within(ipcat(["send", "--keep-open", peer.url, "from ipcat"]), 20_000, "send");
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout, "from ipcat\n");
    const hex = await within(ipcat(["send", "--keep-open", "-e", "hex", peer.url, "0001"]), 20_000, "send");
    assert.equal(hex.stdout, "0001\n");

    await using server = await startServe(["--echo", "ws:0"]);
    const out = await within(
      run("node", [`${PEERS}ws_peer.mjs`, "client", server.address]),
      20_000,
      "client",
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, "text héllo\nbinary 00ff\n");
  },
});

Deno.test("ws: serve answers plain HTTP with 426 and other paths with 404 (curl), and keeps serving", async () => {
  await using server = await startServe(["--echo", "ws:127.0.0.1:0/chat"]);
  const http = server.address.replace(/^ws:/, "http:");
  const plain = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", http]);
  assert.equal(plain.stdout, "426");
  const elsewhere = await run("curl", [
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    http.replace(/chat$/, "x"),
  ]);
  assert.equal(elsewhere.stdout, "404");
  const sent = await within(ipcat(["send", "--keep-open", server.address, "still here"]), 20_000, "send");
  assert.equal(sent.stdout, "still here\n");
});

Deno.test("ws: --origin refuses other origins with 403; --header sets the client's Origin", async () => {
  await using server = await startServe(["--echo", "--origin", "http://good.example", "ws:0"]);
  const bad = await ipcat([
    "send",
    "--keep-open",
    "--header",
    "Origin:http://evil.example",
    server.address,
    "x",
  ]);
  assert.equal(bad.code, 69);
  assert.match(bad.stderr, /^ipcat: .*HTTP 403.*\n$/);
  const good = await ipcat([
    "send",
    "--keep-open",
    "--header",
    "Origin:http://good.example",
    server.address,
    "x",
  ]);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stdout, "x\n");
});

Deno.test("ws: a message over --max-frame closes with 1009; the server goes on serving", async () => {
  await using server = await startServe(["--echo", "--max-frame", "100", "ws:0"]);
  const big = await within(run(PYTHON, [`${PEERS}ws_peer.py`, "big", server.address, "1000"]), 20_000, "big");
  assert.equal(big.stdout, "closed 1009\n");
  const sent = await within(ipcat(["send", "--keep-open", server.address, "small"]), 20_000, "send");
  assert.equal(sent.stdout, "small\n");
});

Deno.test("ws: usage and data errors: -f on a ws side is 2, --text with bad UTF-8 is 65, nobody listening is 69", async () => {
  await using server = await startServe(["--echo", "ws:0"]);
  const framed = await ipcat(["send", "-f", "lines", server.address, "x"]);
  assert.equal(framed.code, 2);
  assert.match(framed.stderr, /^ipcat: -f does not apply to ws:.*carries whole messages.*\n$/);
  const badText = await ipcat(["send", "--text", "-e", "hex", server.address, "ff"]);
  assert.equal(badText.code, 65);
  assert.match(badText.stderr, /^ipcat: .*not valid UTF-8.*\n$/);
  const port = server.address.split(":").at(-1)!.replace("/", "");
  await server.stop();
  const gone = await ipcat(["send", `ws://127.0.0.1:${port}/`, "x"]);
  assert.equal(gone.code, 69);
  assert.match(gone.stderr, /^ipcat: Cannot connect to ws:.*connection refused.*\n$/);
});

Deno.test("ws: pipe --from lines makes each stdin line one message and prints each reply as a line", async () => {
  await using server = await startServe(["--echo", "ws:0"]);
  const piped = await within(
    ipcat(["pipe", "--from", "lines", server.address], { stdin: "only line\n" }),
    20_000,
    "pipe",
  );
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, "only line\n");
});

Deno.test("ws: serve --broadcast relays each browser-style client's message to the others", async () => {
  await using server = await startServe(["--broadcast", "ws:0"]);
  const a = client(server.address);
  const b = client(server.address);
  await Promise.all([a.opened, b.opened]);
  // Both joined once the hub relays a message sent after both opened.
  a.socket.send("hi all");
  assert.deepEqual(await within(b.next(1), 20_000, "broadcast"), ["hi all"]);
  a.socket.close();
  b.socket.close();
  await Promise.all([a.closed, b.closed]);
});

Deno.test("ws: serve --handle turns each message into one reply message", async () => {
  await using server = await startServe(["--handle", "tr a-z A-Z", "ws:0"]);
  const sent = await within(ipcat(["send", "--keep-open", server.address, "shout"]), 20_000, "send");
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "SHOUT\n");
});

Deno.test("ws: many concurrent clients against serve --echo each get their own reply", async () => {
  const n = scaled(200, 1000);
  await using server = await startServe(["--echo", "ws:0"]);
  const started = performance.now();
  const clients = Array.from({ length: n }, () => client(server.address));
  await within(Promise.all(clients.map((c) => c.opened)), 60_000, "opening");
  clients.forEach((c, i) => c.socket.send(`client ${i}`));
  const replies = await within(Promise.all(clients.map((c) => c.next(1))), 60_000, "replies");
  replies.forEach((reply, i) => assert.deepEqual(reply, [`client ${i}`]));
  figure(
    `ws echo: ${n} concurrent clients, open + one reply each`,
    Math.round(performance.now() - started),
    "ms",
  );
  clients.forEach((c) => c.socket.close());
  await Promise.all(clients.map((c) => c.closed));
});

Deno.test("ws: send without --keep-open waits for the replies in flight before its close frame (no loss)", async () => {
  // Each reply takes a while: a close frame sent at EOF would cut them off.
  await using server = await startServe(["--handle", "sh -c 'sleep 0.3; cat'", "ws:0"]);
  const sent = await within(ipcat(["send", server.address, "one", "two", "three"]), 20_000, "send");
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "one\ntwo\nthree\n");
});

Deno.test("ws: inspect logs each proxied message's opcode and each close code, passes closes on, and --record keeps the messages", async () => {
  await using peer = await peerServer(PYTHON, "ws_peer.py");
  await using dir = await tempDir();
  const recording = `${dir.path}/ws.ipcat`;
  await using proxy = await startListening(IPCAT, [
    "inspect",
    "ws:0",
    "--target",
    peer.url,
    "--record",
    recording,
  ], { stdin: "null" });
  const out = await within(run(PYTHON, [`${PEERS}ws_peer.py`, "close", proxy.address]), 20_000, "client");
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "str 'héllo'\nbytes b'\\x00\\xff'\nclosed 4000 done\n");
  // The server's close comes back through the proxy with its code: exit 1, as without it.
  const closed = await within(ipcat(["send", "--keep-open", proxy.address, "close4000"]), 20_000, "send");
  assert.equal(closed.code, 1);
  assert.match(closed.stderr, /closed with 4000: bye\n$/);
  await proxy.stdout.waitFor(/#2 close /, "the second close", 20_000);
  const log = proxy.stdout.text.replace(/^\d\d:\d\d:\d\d\.\d{3} /gm, "");
  for (
    const line of [
      "#1 > 6B text héllo",
      "#1 < 6B text héllo",
      "#1 > 2B binary",
      "#1 < 2B binary",
      "#1 > close 4000 done",
      "#2 > 9B text close4000",
      "#2 < close 4000 bye",
    ]
  ) assert.ok(log.split("\n").includes(line), `no "${line}" in:\n${log}`);
  assert.match(log, /^#1 close client ws:.*closed with 4000: done; > 16B < 16B$/m);
  await proxy.stop();
  const data = Deno.readTextFileSync(recording).trim().split("\n").map((line) => JSON.parse(line))
    .filter((event) => event.event === "data" && event.conn === 1)
    .map((event) => `${event.dir} ${Uint8Array.fromBase64(event.data).subarray(4).toHex()}`);
  const hello = new TextEncoder().encode("héllo").toHex();
  assert.deepEqual(data, [`c2s ${hello}`, `s2c ${hello}`, "c2s 00ff", "s2c 00ff"]);
});

Deno.test("ws: inspect and serve --forward pass each message on with the opcode it came in, text or binary", async () => {
  // Binary frames whose bytes are valid UTF-8 (MQTT over WebSocket, say) must stay binary.
  await using peer = await peerServer(PYTHON, "ws_peer.py");
  const direct = await within(run(PYTHON, [`${PEERS}ws_peer.py`, "kinds", peer.url]), 20_000, "client");
  const expected = "kind:1 came as bytes\nkind:2 came as str\nkind:3 came as bytes\n";
  assert.equal(direct.stdout, expected, direct.stderr);
  await using proxy = await startListening(IPCAT, ["inspect", "ws:0", "--target", peer.url], {
    stdin: "null",
  });
  const out = await within(run(PYTHON, [`${PEERS}ws_peer.py`, "kinds", proxy.address]), 20_000, "client");
  assert.equal(out.stdout, expected, out.stderr);
  await proxy.stop();
  // The same through serve --forward (pipe's relay) between two WebSockets.
  await using gateway = await startServe(["--forward", peer.url, "ws:0"]);
  const forwarded = await within(
    run(PYTHON, [`${PEERS}ws_peer.py`, "kinds", gateway.address]),
    20_000,
    "client",
  );
  assert.equal(forwarded.stdout, expected, forwarded.stderr);
});

Deno.test("ws: serve --protocol accepts the subprotocol a Python client offers, and only that one", async () => {
  await using server = await startServe(["--echo", "--protocol", "chat.v1", "ws:0"]);
  const offered = await within(
    run(PYTHON, [`${PEERS}ws_peer.py`, "protocol", server.address, "chat.v1"]),
    20_000,
    "client",
  );
  assert.equal(offered.stdout, "protocol chat.v1\n", offered.stderr);
  const other = await within(
    run(PYTHON, [`${PEERS}ws_peer.py`, "protocol", server.address, "other"]),
    20_000,
    "client",
  );
  assert.equal(other.stdout, "protocol None\n", other.stderr);
  // ipcat's own client offers it too, and the exchange goes through.
  const sent = await within(ipcat(["send", "--protocol", "chat.v1", server.address, "hi"]), 20_000, "send");
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "hi\n");
});

Deno.test("ws: serve --ping-interval closes a client that stops answering pings and keeps one that answers", async () => {
  await using server = await startServe(["--echo", "-v", "--ping-interval", "1s", "ws:0"]);
  const answering = client(server.address);
  await answering.opened;
  const silent = spawn(PYTHON, [`${PEERS}ws_peer.py`, "silent", server.address], { stdin: "piped" });
  const out = new LineCollector(silent.stdout);
  const err = new LineCollector(silent.stderr);
  try {
    await out.waitFor(/^silent$/, "silent", 20_000);
    await server.stderr.waitFor(/closed with 1001: No response from ping frame/, "the ping close", 20_000);
    const writer = silent.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    await out.waitFor(/^closed /, "the client's close", 20_000);
    assert.ok(out.lines.includes("closed 1001"), out.text);
  } finally {
    silent.kill("SIGKILL");
    await silent.status;
    await Promise.all([out.done, err.done]);
  }
  // Idle for more than one interval too, but it answered the pings.
  answering.socket.send("still open");
  assert.deepEqual(await within(answering.next(1), 20_000, "echo"), ["still open"]);
  answering.socket.close();
  await answering.closed;
});

Deno.test("wss: serve --cert/--key answers a Python client that trusts the CA, and ipcat's client with --ca", async () => {
  await using dir = await tempDir();
  const { ca, cert, key } = await makeCerts(dir.path);
  await using server = await startServe([
    "--echo",
    "--cert",
    cert,
    "--key",
    key,
    "wss:0",
  ]);
  assert.match(server.address, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
  const python = await within(
    run(PYTHON, [`${PEERS}ws_peer.py`, "wss", server.address, ca]),
    20_000,
    "client",
  );
  assert.equal(python.stdout, "secure\n", python.stderr);
  const trusted = await within(
    ipcat(["send", "--ca", ca, server.address, "hi"]),
    20_000,
    "send",
  );
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal(trusted.stdout, "hi\n");
  const untrusted = await within(ipcat(["send", server.address, "hi"]), 20_000, "send");
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /^ipcat: .*not from a trusted CA \(--ca FILE trusts a private CA\)\n$/);
});

Deno.test("ws: serve --forward --to lines is a gateway from WebSocket clients to a Unix line service", async () => {
  await using dir = await tempDir();
  await using service = await startServe(["--echo", `${dir.path}/app.sock`]);
  await using gateway = await startServe(["--forward", service.address, "--to", "lines", "-v", "ws:0"]);
  const sent = await within(ipcat(["send", gateway.address, "through", "the gateway"]), 20_000, "send");
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "through\nthe gateway\n");
  await gateway.stderr.waitFor(/conn 1: closed/);
});

Deno.test("ws: serve --once (and --count) serve their connection to the end; stopping to listen cuts no one", async () => {
  await using server = await startServe(["--echo", "--once", "ws:0"]);
  const sent = await within(ipcat(["send", server.address, "a", "b", "c"]), 20_000, "send");
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "a\nb\nc\n");
  assert.equal((await within(server.child.status, 10_000, "serve --once")).code, 0);
});

Deno.test("ws: a received message over --max-frame is exit 65 with one line (the client may not send 1009)", async () => {
  await using server = await startServe(["--handle", "sh -c 'head -c 2000 /dev/zero | tr \\\\0 x'", "ws:0"]);
  const sent = await within(ipcat(["send", "--max-frame", "1k", server.address, "hi"]), 20_000, "send");
  assert.equal(sent.code, 65, sent.stderr);
  assert.match(sent.stderr, /^ipcat: .*a message of 2000 bytes is over --max-frame 1024/);
  assert.doesNotMatch(sent.stderr, /Uncaught|at file:/);
});

Deno.test("ws: a recording of ws traffic reads back with inspect --from and replays with no flags", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", "ws:0"]);
  const recording = `${dir.path}/ws.jsonl`;
  await using proxy = await startListening(IPCAT, [
    "inspect",
    "ws:0",
    "--target",
    server.address,
    "--record",
    recording,
    "--count",
    "1",
  ]);
  const sent = await within(ipcat(["send", proxy.address, "hello"]), 20_000, "send");
  assert.equal(sent.stdout, "hello\n", sent.stderr);
  await within(proxy.child.status, 10_000, "inspect --count 1");
  const view = await ipcat(["inspect", "--from", recording]);
  assert.equal(view.code, 0, view.stderr);
  assert.match(view.stdout, /#1 > 5B hello/);
  const replayed = await ipcat(["replay", recording]);
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.match(replayed.stdout, /^identical/);
});
