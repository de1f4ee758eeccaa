/** End-to-end tests of `tls:` addresses with a private CA made by openssl. */
import { assert, ipcat, run, startServe, tempDir } from "./_helpers.ts";

/** A throwaway CA and a server certificate for localhost / 127.0.0.1, in `dir`. */
async function makeCerts(dir: string) {
  const sh = `
    set -e
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=ipcat test CA"
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf
  `;
  const made = await run("sh", ["-c", sh], { cwd: dir });
  assert.equal(made.code, 0, made.stderr);
  return { ca: `${dir}/ca.pem`, cert: `${dir}/server.pem`, key: `${dir}/server.key` };
}

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
  assert.match(missing.stderr, /Cannot read --ca/);
});
