/**
 * End-to-end tests of `nats:` addresses against real `nats-server`s (started here on free
 * loopback ports), with the official client as the peer where one is needed.
 */
import { connect, headers, type NatsConnection, nkeys } from "@nats-io/transport-node";
import { NATS_CLIENT } from "../lib/address/nats.ts";
import {
  assert,
  have,
  IPCAT,
  ipcat,
  LineCollector,
  makeCerts,
  type Running,
  scaled,
  spawn,
  startServe,
  tempDir,
  until,
  within,
} from "./_helpers.ts";

const te = new TextEncoder();
const td = new TextDecoder();
const ignore = !have("nats-server");

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A nats-server on a free loopback port, ready once it says so. */
async function natsServer(extra: string[] = [], port = freePort()) {
  const child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), ...extra]);
  const log = new LineCollector(child.stderr);
  child.stdout.cancel();
  await log.waitFor(/Server is ready/, "nats-server ready", 10_000);
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    log,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
      await log.done;
    },
  };
}

/** The official client, connected to `port`, closed on dispose. */
async function client(port: number): Promise<NatsConnection & AsyncDisposable> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  return Object.assign(nc, { [Symbol.asyncDispose]: () => nc.close() });
}

Deno.test({
  name: "nats: the client ipcat loads lazily is the one deno.json pins",
  ignore,
  fn: async () => {
    const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
    assert.equal(config.imports["@nats-io/transport-node"], NATS_CLIENT);
  },
});

Deno.test({
  name: "nats: requests through 3 queue-group workers are each answered once, with IPCAT_SUBJECT",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    const handler = `sh -c 'printf "%s %s " "$W" "$IPCAT_SUBJECT"; cat'`;
    const workers: Running[] = [];
    for (const w of ["1", "2", "3"]) {
      workers.push(await startServe(["--handle", handler, `${server.url}/svc.*`], { env: { W: w } }));
    }
    try {
      assert.match(workers[0].address, /^nats:\/\/127\.0\.0\.1:\d+\/svc\.\* \(queue group ipcat\)$/);
      const n = scaled(60, 600);
      const messages = Array.from({ length: n }, (_, i) => `m${i}`);
      const sent = await within(ipcat(["send", `${server.url}/svc.jobs`, ...messages]), 30_000, "send");
      assert.equal(sent.code, 0, sent.stderr);
      const replies = sent.stdout.trimEnd().split("\n");
      assert.equal(replies.length, n);
      const byWorker = new Map<string, number>();
      replies.forEach((reply, i) => {
        const [worker, subject, message] = reply.split(" ");
        assert.equal(subject, "svc.jobs");
        assert.equal(message, `m${i}`);
        byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
      });
      // Random placement: with 60 requests, a worker left out is a one-in-10^10 event.
      assert.equal(byWorker.size, 3, `requests per worker: ${[...byWorker]}`);
    } finally {
      for (const worker of workers) assert.equal((await worker.stop()).code, 0, worker.stderr.text);
    }
  },
});

Deno.test({
  name: "nats: a worker killed mid-load loses no acknowledged request",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    await using a = await startServe([`${server.url}/work`]);
    await using b = await startServe([`${server.url}/work`]);
    await using nc = await client(server.port);
    const n = scaled(300, 3000);
    const acked: string[] = [];
    let failed = 0;
    let next = 0;
    // Ten requests in flight at a time; the first worker dies a third of the way in.
    const requester = async () => {
      while (next < n) {
        const message = `r${next++}`;
        if (next === Math.floor(n / 3)) a.child.kill("SIGKILL");
        try {
          await nc.request("work", te.encode(message), { timeout: 1000 });
          acked.push(message);
        } catch {
          failed++;
        }
      }
    };
    await within(Promise.all(Array.from({ length: 10 }, requester)), 60_000, "requests");
    await a.stop();
    assert.equal((await b.stop()).code, 0, b.stderr.text);
    const printed = new Set([...a.stdout.lines, ...b.stdout.lines]);
    const lost = acked.filter((message) => !printed.has(message));
    assert.deepEqual(lost, [], "acknowledged but printed by no worker");
    assert.equal(acked.length + failed, n);
    // The survivor took over: most requests were answered.
    assert(acked.length > n / 2, `${acked.length} of ${n} acknowledged`);
  },
});

Deno.test({
  name: "nats: SIGTERM drains: the request in flight is answered, later ones go to the other worker",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    await using slow = await startServe(["-v", "--handle", "sh -c 'sleep 0.3; cat'", `${server.url}/job`]);
    await using nc = await client(server.port);
    const first = nc.request("job", te.encode("first"), { timeout: 5000 });
    await slow.stderr.waitFor(/conn 1: open/);
    await using _other = await startServe(["--echo", `${server.url}/job`]);
    const stopped = slow.stop("SIGTERM");
    const later = await Promise.all(
      Array.from({ length: 20 }, (_, i) => nc.request("job", te.encode(`later${i}`), { timeout: 5000 })),
    );
    assert.equal(td.decode((await first).data), "first");
    assert.deepEqual(later.map((m) => td.decode(m.data)), Array.from({ length: 20 }, (_, i) => `later${i}`));
    assert.equal((await stopped).code, 0, slow.stderr.text);
  },
});

Deno.test({
  name: "nats: two servers joined by routes: workers on one answer requests sent through the other",
  ignore,
  fn: async () => {
    const [routeA, routeB] = [freePort(), freePort()];
    await using east = await natsServer([
      "--cluster",
      `nats://127.0.0.1:${routeA}`,
      "--routes",
      `nats://127.0.0.1:${routeB}`,
    ]);
    await using west = await natsServer([
      "--cluster",
      `nats://127.0.0.1:${routeB}`,
      "--routes",
      `nats://127.0.0.1:${routeA}`,
    ]);
    await east.log.waitFor(/Route connection created/, "route", 10_000);
    await using w1 = await startServe(["--handle", "tr a-z A-Z", `${east.url}/upper`]);
    await using w2 = await startServe(["--handle", "tr a-z A-Z", `${east.url}/upper`]);
    // The workers' interest crosses the route on its own time: ask until it has.
    await until(
      async () => (await ipcat(["send", `${west.url}/upper`, "probe"])).code === 0,
      10_000,
      "route",
    );
    const sent = await ipcat(["send", `${west.url}/upper`, "one", "two", "three"]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout, "ONE\nTWO\nTHREE\n");
    for (const w of [w1, w2]) assert.equal((await w.stop()).code, 0, w.stderr.text);
  },
});

Deno.test({
  name: "nats: the official client as peers: its publishes reach pipe, pipe's and send -n's reach it",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    await using nc = await client(server.port);
    // The subscriber side: ipcat pipe prints what the client publishes.
    const child = spawn(IPCAT, ["pipe", "-v", "-f", "lines", `${server.url}/news`], { stdin: "piped" });
    const out = new LineCollector(child.stdout);
    const err = new LineCollector(child.stderr);
    const writer = child.stdin.getWriter();
    try {
      await err.waitFor(/piping/);
      for (const m of ["a", "b", "c"]) nc.publish("news", te.encode(m));
      await out.waitFor((line) => line === "c", "the third message");
      assert.deepEqual(out.lines, ["a", "b", "c"]);

      // The publisher side: a subscriber on the client receives pipe's stdin lines.
      const sub = nc.subscribe("news", { max: 2 });
      await nc.flush();
      await writer.write(te.encode("x\ny\n"));
      const got: string[] = [];
      for await (const m of sub) got.push(td.decode(m.data));
      assert.deepEqual(got, ["x", "y"]);
      // pipe does not hear its own publishes back.
      assert.deepEqual(out.lines, ["a", "b", "c"]);
    } finally {
      await writer.close().catch(() => {});
      child.kill("SIGTERM");
      await child.status;
      await Promise.all([out.done, err.done]);
    }

    const sub = nc.subscribe("events", { max: 3 });
    await nc.flush();
    const published = await ipcat(["send", "-n", `${server.url}/events`, "1", "2", "3"]);
    assert.equal(published.code, 0, published.stderr);
    const got: string[] = [];
    for await (const m of sub) got.push(td.decode(m.data));
    assert.deepEqual(got, ["1", "2", "3"]);
  },
});

Deno.test({
  name: "nats: bad subject, wildcard send, --broadcast: exit 2; no responders and no server: exit 69",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    const bad = await ipcat(["send", `${server.url}/a..b`, "x"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^ipcat: Cannot parse address .*bad subject "a\.\.b" \(.*\)\n$/);
    const wildcard = await ipcat(["send", `${server.url}/a.*`, "x"]);
    assert.equal(wildcard.code, 2);
    assert.match(wildcard.stderr, /^ipcat: .*wildcard subject only subscribes.*\n$/);
    const broadcast = await ipcat(["serve", "--broadcast", `${server.url}/hub`]);
    assert.equal(broadcast.code, 2);
    assert.match(broadcast.stderr, /^ipcat: --broadcast does not apply.*subscribe plainly.*\n$/);
    const nobody = await ipcat(["send", `${server.url}/nobody`, "x"]);
    assert.equal(nobody.code, 69);
    assert.match(nobody.stderr, /^ipcat: .*no responders on subject "nobody" \(start one: .*\)\n$/);
    const down = await within(ipcat(["send", `nats://127.0.0.1:${freePort()}/x`, "x"]), 5000, "send");
    assert.equal(down.code, 69);
    assert.match(
      down.stderr,
      /^ipcat: Cannot connect to nats:.*: connection refused \(is nats-server running .*\)\n$/,
    );
  },
});

Deno.test({
  name: "nats: user and password in the URL; wrong ones are one clear line, exit 1",
  ignore,
  fn: async () => {
    await using server = await natsServer(["--user", "app", "--pass", "s3cret"]);
    const base = `nats://app:s3cret@127.0.0.1:${server.port}`;
    await using echo = await startServe(["--echo", `${base}/auth`]);
    // The password stays out of logs.
    assert.equal(echo.address, `nats://app@127.0.0.1:${server.port}/auth (queue group ipcat)`);
    const ok = await ipcat(["send", `${base}/auth`, "in"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "in\n");
    const wrong = await ipcat(["send", `nats://app:nope@127.0.0.1:${server.port}/auth`, "x"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^ipcat: Cannot connect to .*: the server refused the credentials .*\n$/);
    assert.equal((await echo.stop()).code, 0);
  },
});

Deno.test({
  name: "nats: a token in the URL; a wrong one is one clear line, exit 1; the token stays out of logs",
  ignore,
  fn: async () => {
    const token = "t0k3n-s3cret";
    await using server = await natsServer(["--auth", token]);
    const at = `nats://${token}@127.0.0.1:${server.port}/tok`;
    await using echo = await startServe(["-v", "--echo", at]);
    assert.equal(echo.address, `nats://TOKEN@127.0.0.1:${server.port}/tok (queue group ipcat)`);
    const ok = await ipcat(["send", "-v", at, "in"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "in\n");
    const wrong = await ipcat(["send", `nats://nope@127.0.0.1:${server.port}/tok`, "x"]);
    assert.equal(wrong.code, 1);
    assert.equal(
      wrong.stderr,
      `ipcat: Cannot connect to nats://TOKEN@127.0.0.1:${server.port}/tok: the server refused the credentials ` +
        "(authorization violation) (check USER:PASS in the address, the token or --creds FILE)\n",
    );
    const none = await ipcat(["send", `${server.url}/tok`, "x"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^ipcat: Cannot connect to .*: the server refused the credentials .*\n$/);
    await echo.stderr.waitFor(/conn 1: closed/);
    assert.equal((await echo.stop()).code, 0);
    for (const log of [echo.stderr.text, ok.stderr, wrong.stderr]) assert(!log.includes(token), log);
  },
});

Deno.test({
  name: "nats: a TLS server: serve and send with nats:tls:// and --ca; without --ca one clear line, exit 1",
  ignore,
  fn: async () => {
    await using dir = await tempDir();
    const { ca, cert, key } = await makeCerts(dir.path);
    await using server = await natsServer(["--tls", "--tlscert", cert, "--tlskey", key]);
    const at = `nats:tls://127.0.0.1:${server.port}/secure`;
    await using echo = await startServe(["--echo", "--ca", ca, at]);
    assert.equal(echo.address, `${at} (queue group ipcat)`);
    const ok = await ipcat(["send", "--ca", ca, at, "over tls"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "over tls\n");
    // As NATS does it: a plain nats:// URL upgrades when the server requires TLS.
    const upgraded = await ipcat(["send", "--ca", ca, `${server.url}/secure`, "upgraded"]);
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.equal(upgraded.stdout, "upgraded\n");
    for (const args of [["send", at, "x"], ["serve", "--echo", at]]) {
      const untrusted = await within(ipcat(args), 10_000, args[0]);
      assert.equal(untrusted.code, 1, untrusted.stderr);
      assert.equal(
        untrusted.stderr,
        `ipcat: Cannot connect to ${at}: TLS failed (unable to verify the first certificate) ` +
          "(--ca FILE trusts a private CA)\n",
      );
    }
    assert.equal((await echo.stop()).code, 0, echo.stderr.text);
  },
});

Deno.test({
  name: "nats: nats:tls:// to a server without TLS is one clear line, exit 1",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    const at = `nats:tls://127.0.0.1:${server.port}/x`;
    const plain = await within(ipcat(["send", at, "x"]), 10_000, "send");
    assert.equal(plain.code, 1);
    assert.equal(
      plain.stderr,
      `ipcat: Cannot connect to ${at}: the server does not offer TLS ` +
        "(drop nats:tls:// and --ca, or start nats-server with --tls)\n",
    );
  },
});

/**
 * In `dir`: an operator-mode nats-server config (`server.conf`) trusting one account, and
 * `user.creds` for a user of it, signed the way nsc signs them (ed25519 NKeys, through the
 * nkeys the client bundles); `stranger.creds` is a user of an account the server does not know.
 */
async function makeCreds(dir: string) {
  const b64 = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  const jwt = (signer: nkeys.KeyPair, subject: string, nats: object) => {
    const head = b64(te.encode(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })));
    const claims = {
      jti: crypto.randomUUID(),
      iat: Math.floor(Date.now() / 1000),
      iss: signer.getPublicKey(),
    };
    const body = b64(te.encode(JSON.stringify({ ...claims, name: subject, sub: subject, nats })));
    return `${head}.${body}.${b64(signer.sign(te.encode(`${head}.${body}`)))}`;
  };
  const unlimited = { subs: -1, data: -1, payload: -1 };
  const limits = { ...unlimited, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const userOf = async (account: nkeys.KeyPair, file: string) => {
    const user = nkeys.createUser();
    const claims = { type: "user", version: 2, pub: {}, sub: {}, ...unlimited };
    await Deno.writeTextFile(
      `${dir}/${file}`,
      `-----BEGIN NATS USER JWT-----\n${
        jwt(account, user.getPublicKey(), claims)
      }\n------END NATS USER JWT------\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${td.decode(user.getSeed())}\n------END USER NKEY SEED------\n`,
    );
  };
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  await Deno.writeTextFile(
    `${dir}/op.jwt`,
    jwt(operator, operator.getPublicKey(), { type: "operator", version: 2 }),
  );
  const accountJwt = jwt(operator, account.getPublicKey(), { type: "account", version: 2, limits });
  await Deno.writeTextFile(
    `${dir}/server.conf`,
    `operator: "${dir}/op.jwt"\nresolver: MEMORY\nresolver_preload: { ${account.getPublicKey()}: "${accountJwt}" }\n`,
  );
  await userOf(account, "user.creds");
  await userOf(nkeys.createAccount(), "stranger.creds");
  await Deno.writeTextFile(`${dir}/garbage.creds`, "not a creds file\n");
  return { config: `${dir}/server.conf`, at: (file: string) => `${dir}/${file}` };
}

Deno.test({
  name:
    "nats: --creds against an operator-mode server; missing, foreign or malformed creds are one clear line, exit 1",
  ignore,
  fn: async () => {
    await using dir = await tempDir();
    const creds = await makeCreds(dir.path);
    await using server = await natsServer(["-c", creds.config]);
    const at = `${server.url}/creds`;
    await using echo = await startServe(["--echo", "--creds", creds.at("user.creds"), at]);
    const ok = await ipcat(["send", "--creds", creds.at("user.creds"), at, "signed"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "signed\n");
    const refused =
      /^ipcat: Cannot connect to nats:\/\/127\.0\.0\.1:\d+\/creds: the server refused the credentials/;
    for (const args of [[], ["--creds", creds.at("stranger.creds")]]) {
      const denied = await ipcat(["send", ...args, at, "x"]);
      assert.equal(denied.code, 1, denied.stderr);
      assert.match(denied.stderr, refused);
      assert.equal(denied.stderr.split("\n").length, 2, denied.stderr);
    }
    const missing = await ipcat(["send", "--creds", creds.at("nope.creds"), at, "x"]);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      `ipcat: Cannot read --creds ${creds.at("nope.creds")}: no such file or directory\n`,
    );
    const garbage = await ipcat(["send", "--creds", creds.at("garbage.creds"), at, "x"]);
    assert.equal(garbage.code, 1);
    assert.match(
      garbage.stderr,
      /^ipcat: Cannot use --creds for nats:.*: unable to parse credentials \(a \.creds file .*\)\n$/,
    );
    assert.equal((await echo.stop()).code, 0, echo.stderr.text);
  },
});

Deno.test({
  name: "nats: a sink prints each request and acknowledges it with an empty reply",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    await using sink = await startServe([`${server.url}/log`]);
    const sent = await ipcat(["send", `${server.url}/log`, "one", "two"]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout, "\n\n");
    await sink.stdout.waitFor((line) => line === "two");
    assert.deepEqual(sink.stdout.lines, ["one", "two"]);
  },
});

Deno.test({
  name: "nats: inspect logs every message on a wildcard with subject, reply and headers, and records it",
  ignore,
  fn: async () => {
    await using server = await natsServer();
    await using dir = await tempDir();
    const record = `${dir.path}/bus.jsonl`;
    await using nc = await client(server.port);
    await using _echo = await startServe(["--echo", `${server.url}/orders.new`]);
    const child = spawn(IPCAT, ["inspect", "--no-color", "--record", record, `${server.url}/orders.>`]);
    const out = new LineCollector(child.stdout);
    const err = new LineCollector(child.stderr);
    try {
      await err.waitFor(/watching nats:/);
      const h = headers();
      h.append("trace", "t-1");
      await nc.request("orders.new", te.encode("apple"), { timeout: 5000, headers: h });
      nc.publish("orders.audit", new Uint8Array([0, 255]));
      await out.waitFor(/^\s+00000000 {2}00 ff/, "the hexdump");
      assert.match(out.lines[0], /^\d\d:\d\d:\d\d\.\d{3} orders\.new reply _INBOX\.\S+ headers trace: t-1$/);
      assert.match(out.lines[1], /^\d\d:\d\d:\d\d\.\d{3} > 5B apple$/);
      // The echo's reply goes to the inbox, which orders.> does not match.
      assert.match(out.lines[2], /^\d\d:\d\d:\d\d\.\d{3} orders\.audit$/);
      assert.match(out.lines[3], /^\d\d:\d\d:\d\d\.\d{3} > 2B$/);
    } finally {
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
      await Promise.all([out.done, err.done]);
    }
    const events = (await Deno.readTextFile(record)).trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.equal(events.length, 2);
    assert.equal(events[0].subject, "orders.new");
    assert.match(events[0].reply, /^_INBOX\./);
    assert.deepEqual(events[0].headers, [["trace", "t-1"]]);
    assert.equal(atob(events[0].data), "apple");
    assert.deepEqual({ ...events[1], t: 0 }, {
      t: 0,
      event: "message",
      subject: "orders.audit",
      data: "AP8=",
    });
  },
});
