/**
 * `unix:@NAME`, Linux abstract sockets, end to end: no file, a busy name is 69, --mode is a
 * note; socat ABSTRACT-LISTEN/ABSTRACT-CONNECT and OpenBSD `nc -U @NAME` as peers.
 * @module
 */
import { assert, have, ipcat, run, startServe, within } from "./_helpers.ts";

const unique = () => `ipcat-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

Deno.test("abstract: serve --echo on unix:@NAME answers send, socat ABSTRACT-CONNECT and nc -U @NAME", async () => {
  const name = unique();
  await using server = await startServe(["--echo", `unix:@${name}`]);
  assert.equal(server.address, `unix:@${name}`);
  const sent = await ipcat(["send", `unix:@${name}`, "hello"]);
  assert.equal(sent.stdout, "hello\n", sent.stderr);
  if (have("socat")) {
    const socat = await within(
      run("socat", ["-", `ABSTRACT-CONNECT:${name}`], { stdin: "via socat\n" }),
      20_000,
      "socat",
    );
    assert.equal(socat.stdout, "via socat\n", socat.stderr);
  }
  if (have("nc")) {
    const nc = await within(run("nc", ["-N", "-U", `@${name}`], { stdin: "via nc\n" }), 20_000, "nc");
    assert.equal(nc.stdout, "via nc\n", nc.stderr);
  }
  const piped = await ipcat(["pipe", `unix:@${name}`, "-"], { stdin: "piped\n" });
  assert.equal(piped.stdout, "piped\n", piped.stderr);
});

Deno.test("abstract: send and pipe reach socat ABSTRACT-LISTEN", { ignore: !have("socat") }, async () => {
  const name = unique();
  const socat = new Deno.Command("socat", {
    args: [`ABSTRACT-LISTEN:${name},fork`, "EXEC:tr a-z A-Z"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const sent = await ipcat(["send", "--wait", "10s", `unix:@${name}`, "upper"]);
    assert.equal(sent.stdout, "UPPER\n", sent.stderr);
  } finally {
    socat.kill("SIGKILL");
    await socat.status;
  }
});

Deno.test("abstract: a busy name is 69, nothing there is 69, an empty name is 2, --mode is a note", async () => {
  const name = unique();
  await using server = await startServe(["--mode", "0666", `unix:@${name}`]);
  await server.stderr.waitFor(/--mode does not apply to unix:@.*: an abstract socket has no file/);
  const busy = await ipcat(["serve", `unix:@${name}`]);
  assert.equal(busy.code, 69);
  assert.match(busy.stderr, /^ipcat: Cannot listen on unix:@.*: another server is listening there \(/);
  const none = await ipcat(["send", `unix:@${unique()}`, "x"]);
  assert.equal(none.code, 69);
  assert.match(none.stderr, /connection refused/);
  const empty = await ipcat(["send", "unix:@", "x"]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /the abstract name is empty/);
  // No file anywhere: the name is not a path in the working directory.
  assert.throws(() => Deno.lstatSync(`@${name}`), Deno.errors.NotFound);
});
