/**
 * End-to-end tests of `ipcat serve --forward TARGET LISTEN` against real peers: curl and a
 * Python HTTP server, socat as a client, a Python length:u16be service behind a lines client.
 */
import { assert, have, ipcat, LineCollector, run, spawn, startServe, tempDir, within } from "./_helpers.ts";
import { connectTo, readToEnd } from "./_proc.ts";

/** A Python process that prints its port (or "listening") on stdout once it accepts. */
async function python(code: string, args: string[] = []) {
  const child = spawn("python3", ["-c", code, ...args]);
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  const first = await Promise.race([
    stdout.waitFor(/^\d+$|^listening$/),
    child.status.then((s) => {
      throw new Error(`python exited ${s.code}: ${stderr.text}`);
    }),
  ]);
  return {
    port: Number(first),
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
      await Promise.all([stdout.done, stderr.done]);
    },
  };
}

const HTTP_SERVER = `
import http.server, sys, os
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
print(s.server_address[1], flush=True)
s.serve_forever()
`;

// Reads u16be-length messages, answers each upper-cased with the same framing.
const U16_SERVICE = `
import socket, struct
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    f = c.makefile("rb")
    while True:
        h = f.read(2)
        if len(h) < 2: break
        m = f.read(struct.unpack(">H", h)[0])
        c.sendall(struct.pack(">H", len(m)) + m.upper())
    f.close()
    c.close()
`;

Deno.test("forward: curl --unix-socket reaches a Python HTTP server on tcp; -v logs byte totals", async () => {
  if (!have("curl")) return;
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/hello.txt`, "hello over http\n");
  await using http = await python(HTTP_SERVER, [dir.path]);
  await using server = await startServe([
    "-v",
    "--forward",
    `tcp:127.0.0.1:${http.port}`,
    `unix:${dir.path}/f.sock`,
  ]);
  for (let i = 0; i < 3; i++) {
    const got = await run("curl", ["-sS", "--unix-socket", `${dir.path}/f.sock`, "http://x/hello.txt"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, "hello over http\n");
  }
  const closed = await server.stderr.waitFor(/conn 3: closed; \d+ B to tcp:127\.0\.0\.1:\d+, \d+ B back/);
  assert.match(closed, /; [1-9]\d* B to .*, [1-9]\d* B back/);
  assert.equal((await server.stop()).code, 0);
});

Deno.test("forward: socat as a client, half-close both ways, reply after EOF arrives", async () => {
  if (!have("socat")) return;
  await using dir = await tempDir();
  await using echo = await startServe(["--echo", "tcp:127.0.0.1:0"]);
  await using server = await startServe(["--forward", echo.address, `unix:${dir.path}/f.sock`]);
  const got = await run("socat", ["-t", "5", "-", `UNIX-CONNECT:${dir.path}/f.sock`], {
    stdin: "one\ntwo\n",
  });
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, "one\ntwo\n");
  assert.equal((await server.stop()).code, 0);
});

Deno.test("forward: --from lines --to length:u16be puts a lines client in front of a u16be service", async () => {
  await using dir = await tempDir();
  await using service = await python(U16_SERVICE);
  await using server = await startServe([
    "--forward",
    `tcp:127.0.0.1:${service.port}`,
    "--from",
    "lines",
    "--to",
    "length:u16be",
    `unix:${dir.path}/f.sock`,
  ]);
  const got = await ipcat(["send", `unix:${dir.path}/f.sock`, "hello", "world"]);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, "HELLO\nWORLD\n");
  assert.equal((await server.stop()).code, 0);
});

Deno.test("forward: an unreachable TARGET closes the client, one log line, the server goes on", async () => {
  await using dir = await tempDir();
  await using server = await startServe([
    "--forward",
    `unix:${dir.path}/nobody.sock`,
    `unix:${dir.path}/f.sock`,
  ]);
  for (const id of [1, 2]) {
    const conn = await connectTo(`unix:${dir.path}/f.sock`);
    assert.equal(await within(readToEnd(conn), 10_000, "client closed"), "");
    conn.close();
    const line = await server.stderr.waitFor(new RegExp(`conn ${id}: cannot reach`));
    assert.match(line, /^ipcat: conn \d: cannot reach unix:.*nobody\.sock: .*; client closed$/);
  }
  assert.equal(server.stderr.lines.filter((l) => l.includes("cannot reach")).length, 2);
  assert.equal((await server.stop()).code, 0);
});

Deno.test("forward: --count N counts connections: exits 0 once the Nth is done, socket file removed", async () => {
  await using dir = await tempDir();
  await using echo = await startServe(["--echo", "tcp:127.0.0.1:0"]);
  const sock = `${dir.path}/f.sock`;
  await using server = await startServe(["--forward", echo.address, "--count", "2", `unix:${sock}`]);
  for (const word of ["a", "b"]) {
    const got = await ipcat(["send", `unix:${sock}`, word]);
    assert.equal(got.stdout, `${word}\n`);
  }
  const status = await within(server.child.status, 10_000, "serve --count 2");
  assert.equal(status.code, 0);
  assert.throws(() => Deno.lstatSync(sock), Deno.errors.NotFound);
});

Deno.test("forward: SIGTERM cuts relays in flight, exit 0, socket file removed", async () => {
  await using dir = await tempDir();
  await using sink = await startServe(["tcp:127.0.0.1:0"]);
  const sock = `${dir.path}/f.sock`;
  await using server = await startServe(["-v", "--forward", sink.address, `unix:${sock}`]);
  const conn = await connectTo(`unix:${sock}`);
  await server.stderr.waitFor(/conn 1: connected to/);
  const status = await within(server.stop("SIGTERM"), 10_000, "serve --forward on SIGTERM");
  assert.equal(status.code, 0);
  assert.equal(await within(readToEnd(conn), 10_000, "client closed"), "");
  conn.close();
  assert.throws(() => Deno.lstatSync(sock), Deno.errors.NotFound);
});

Deno.test("forward: -e and --from without --forward are usage errors", async () => {
  const a = await ipcat(["serve", "--forward", "tcp:127.0.0.1:1", "-e", "hex", "tcp:127.0.0.1:0"]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /^ipcat: -e hex does not apply to --forward/);
  const b = await ipcat(["serve", "--from", "lines", "tcp:127.0.0.1:0"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--from only applies to --forward/);
});
