/** End-to-end tests of `tls:` addresses with a private CA made by openssl. */
import {
  assert,
  ipcat,
  LineCollector,
  makeCerts,
  run,
  spawn,
  startListening,
  startServe,
  tempDir,
  within,
} from "./_helpers.ts";

/** socat serving TLS with `cert` on a free port, each connection to `command` (`SYSTEM:cat`). */
function socatTlsServer(cert: string, key: string, command: string) {
  return startListening("socat", [
    "-d",
    "-d",
    `OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,fork,verify=0,cert=${cert},key=${key}`,
    command,
  ]);
}

/** `sha256:HEX` of a PEM certificate, as openssl prints it. */
async function fingerprint(pem: string): Promise<string> {
  const out = await run("openssl", ["x509", "-in", pem, "-noout", "-fingerprint", "-sha256"]);
  return `sha256:${out.stdout.trim().split("=")[1]}`;
}

const portOf = (address: string) => address.split(":").at(-1)!;

Deno.test("tls: serve --echo with --cert/--key; send and pipe trust it with --ca; socat interoperates", async () => {
  await using dir = await tempDir();
  const { ca, cert, key } = await makeCerts(dir.path);
  await using server = await startServe(["--echo", "-f", "length", "--cert", cert, "--key", key, "tls:0"]);
  assert.match(server.address, /^tls:127\.0\.0\.1:\d+$/);
  const port = server.address.split(":").at(-1);

  const sent = await ipcat(["send", "-f", "length", "--ca", ca, `tls:localhost:${port}`, "over tls", ""]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(sent.stdout, "over tls\n\n");

  const piped = await ipcat([
    "pipe",
    "--ca",
    ca,
    "--from",
    "lines",
    "--to",
    "length",
    `tls:localhost:${port}`,
  ], {
    stdin: "a\nb\n",
  });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, "a\nb\n");

  // socat as the TLS client: 4-byte big-endian prefix of "hi".
  const viaSocat = await run("socat", ["-t", "5", "-", `OPENSSL:localhost:${port},cafile=${ca}`], {
    stdin: new Uint8Array([0, 0, 0, 2, 104, 105]),
  });
  assert.deepEqual(viaSocat.stdoutBytes, new Uint8Array([0, 0, 0, 2, 104, 105]));
});

Deno.test("tls: an untrusted certificate is one error line with a hint; serve without --cert is exit 2", async () => {
  await using dir = await tempDir();
  const { cert, key } = await makeCerts(dir.path);
  await using server = await startServe(["--echo", "--cert", cert, "--key", key, "tls:0"]);
  const untrusted = await ipcat(["send", server.address, "hi"]);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /^ipcat: .*TLS handshake failed.*--ca FILE.*\n$/);
  // The server logs the failed handshake and goes on serving.
  const noCert = await ipcat(["serve", "tls:0"]);
  assert.equal(noCert.code, 2);
  assert.match(noCert.stderr, /--cert FILE --key FILE/);
  const half = await ipcat(["serve", "--cert", cert, "tls:0"]);
  assert.equal(half.code, 2);
  const missing = await ipcat(["send", "--ca", `${dir.path}/nope.pem`, server.address, "x"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot read --ca \S+nope\.pem: no such file$/m);
  assert.doesNotMatch(missing.stderr, /os error|readfile/);
});

Deno.test("tls: a quick self-signed CA:TRUE certificate is trusted with --ca or --pin, as socat's cafile=", async () => {
  await using dir = await tempDir();
  const { quick, quickKey, ca } = await makeCerts(dir.path);
  await using server = await startServe(["--echo", "--cert", quick, "--key", quickKey, "tls:0"]);
  const at = `tls:localhost:${portOf(server.address)}`;

  const socat = await run("socat", [
    "-t",
    "5",
    "-",
    `OPENSSL:localhost:${portOf(server.address)},cafile=${quick}`,
  ], {
    stdin: "peer\n",
  });
  assert.equal(socat.stdout, "peer\n", "socat trusts it with cafile=");

  const withCa = await ipcat(["send", "--ca", quick, at, "trusted"]);
  assert.equal(withCa.code, 0, withCa.stderr);
  assert.equal(withCa.stdout, "trusted\n");

  const pinned = await ipcat(["send", "--pin", await fingerprint(quick), server.address, "pinned"]);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(pinned.stdout, "pinned\n");

  // Untrusted, pinned wrong, another CA: one plain line each, no Rust debug text.
  for (
    const [args, why] of [
      [[], /its certificate is self-signed and not trusted \(--ca FILE/],
      [["--ca", ca], /its certificate is self-signed and not trusted/],
      [["--pin", `sha256:${"ab".repeat(32)}`], /not the pinned one \(it is sha256:[0-9a-f]{64}\)/],
    ] as const
  ) {
    const refused = await ipcat(["send", ...args, at, "x"]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^ipcat: Cannot connect to tls:localhost:\d+: TLS handshake failed: [^\n]*\n$/,
    );
    assert.match(refused.stderr, why);
    assert.doesNotMatch(refused.stderr, /CaUsedAsEndEntity|Other\(|UnknownIssuer/);
  }
  const badPin = await ipcat(["send", "--pin", "sha256:12", at, "x"]);
  assert.equal(badPin.code, 2);
  const twoWays = await ipcat(["send", "--ca", quick, "-k", at, "x"]);
  assert.equal(twoWays.code, 2);
  assert.match(twoWays.stderr, /--ca and --insecure do not go together/);
});

Deno.test("tls: --servername verifies a certificate by name when connecting by IP; socat OPENSSL-LISTEN as the server", async () => {
  await using dir = await tempDir();
  const { quick, quickKey } = await makeCerts(dir.path);
  await using socat = await socatTlsServer(quick, quickKey, "SYSTEM:cat");
  const port = portOf(socat.address);
  const byIp = await ipcat(["send", "--ca", quick, `tls:127.0.0.1:${port}`, "x"]);
  assert.equal(byIp.code, 1);
  assert.match(byIp.stderr, /its certificate is not for 127\.0\.0\.1 \(.*--servername NAME\)\n$/);
  const named = await ipcat([
    "send",
    "--ca",
    quick,
    "--servername",
    "localhost",
    `tls:127.0.0.1:${port}`,
    "sni",
  ]);
  assert.equal(named.code, 0, named.stderr);
  assert.equal(named.stdout, "sni\n");
});

Deno.test("tls: -k/--insecure accepts any certificate and warns once per connection", async () => {
  await using dir = await tempDir();
  const { quick, quickKey } = await makeCerts(dir.path);
  await using server = await startServe(["--echo", "--cert", quick, "--key", quickKey, "tls:0"]);
  for (const flag of ["-k", "--insecure"]) {
    const sent = await ipcat(["send", flag, server.address, "anyway"]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout, "anyway\n");
    assert.match(
      sent.stderr,
      /^ipcat: warning: tls:127\.0\.0\.1:\d+: its certificate was not verified \(--insecure\)\n$/,
    );
  }
  const quiet = await ipcat(["send", "-q", "-k", server.address, "hush"]);
  assert.equal(quiet.stderr, "");
});

Deno.test("tls: half-close through node:tls: a reply that comes only after EOF arrives (socat OPENSSL-LISTEN)", async () => {
  await using dir = await tempDir();
  const { quick, quickKey } = await makeCerts(dir.path);
  await using socat = await socatTlsServer(quick, quickKey, "SYSTEM:wc -l");
  const piped = await ipcat([
    "pipe",
    "--pin",
    await fingerprint(quick),
    `tls:127.0.0.1:${portOf(socat.address)}`,
  ], {
    stdin: "a\nb\nc\n",
  });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout.trim(), "3");
});

Deno.test("tls: client certificates: serve --client-ca with openssl s_client and socat; ipcat --cert/--key against openssl s_server -Verify", async () => {
  await using dir = await tempDir();
  const { ca, cert, key, clientCert, clientKey, quick, quickKey } = await makeCerts(dir.path);
  await using server = await startServe(["--echo", "--cert", cert, "--key", key, "--client-ca", ca, "tls:0"]);
  const port = portOf(server.address);
  const at = `tls:localhost:${port}`;

  // ipcat through node:tls (--ca), and through Deno's TLS (the CA added with DENO_CERT).
  const mutual = await ipcat(["send", "--ca", ca, "--cert", clientCert, "--key", clientKey, at, "alice"]);
  assert.equal(mutual.code, 0, mutual.stderr);
  assert.equal(mutual.stdout, "alice\n");
  const viaDeno = await ipcat(["send", "--cert", clientCert, "--key", clientKey, at, "deno"], {
    env: { DENO_CERT: ca },
  });
  assert.equal(viaDeno.code, 0, viaDeno.stderr);
  assert.equal(viaDeno.stdout, "deno\n");
  const socat = await run("socat", [
    "-t",
    "5",
    "-",
    `OPENSSL:localhost:${port},cafile=${ca},cert=${clientCert},key=${clientKey}`,
  ], {
    stdin: "socat\n",
  });
  assert.equal(socat.stdout, "socat\n", socat.stderr);

  // Refused: no certificate, a certificate from elsewhere. The server logs why and goes on.
  const none = await ipcat(["send", "--ca", ca, at, "nobody"]);
  assert.equal(none.stdout, "");
  await server.stderr.waitFor(/refused: it sent no client certificate$/);
  const stranger = await ipcat(["send", "--ca", ca, "--cert", quick, "--key", quickKey, at, "stranger"]);
  assert.equal(stranger.stdout, "");
  await server.stderr.waitFor(/refused: its certificate is self-signed and not trusted$/);
  const sClient = await run(
    "openssl",
    ["s_client", "-quiet", "-connect", `localhost:${port}`, "-CAfile", ca],
    {
      stdin: "x\n",
    },
  );
  assert.equal(sClient.stdout, "");
  const again = await ipcat(["send", "--ca", ca, "--cert", clientCert, "--key", clientKey, at, "still"]);
  assert.equal(again.stdout, "still\n", again.stderr);

  const noKey = await ipcat(["serve", "--client-ca", ca, "tls:0"]);
  assert.equal(noKey.code, 2);

  // ipcat as the client of openssl s_server, which demands a certificate (-Verify 1).
  const sServer = spawn("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-naccept",
    "1",
    "-cert",
    cert,
    "-key",
    key,
    "-CAfile",
    ca,
    "-Verify",
    "1",
    "-rev",
  ]);
  const out = new LineCollector(sServer.stdout);
  const errs = new LineCollector(sServer.stderr);
  try {
    const accept = await out.waitFor(/^ACCEPT /);
    const reversed = await ipcat([
      "send",
      "--keep-open",
      "--ca",
      ca,
      "--cert",
      clientCert,
      "--key",
      clientKey,
      `tls:localhost:${portOf(accept)}`,
      "hello",
    ]);
    assert.equal(reversed.code, 0, reversed.stderr);
    assert.equal(reversed.stdout, "olleh\n");
  } finally {
    await within(sServer.status, 10_000, "openssl s_server");
    await Promise.all([out.done, errs.done]);
  }
});
