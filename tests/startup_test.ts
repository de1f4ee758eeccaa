/**
 * Startup (issue 15, item 1): what `ipcat --version` and the one-shot `send` load, and that
 * the short path `send` takes without options behaves exactly like the full one.
 * `IPCAT_DEBUG=startup` names each step a run went through (README "Startup").
 */
import { buildApplication, buildCommand, type CommandContext, run as runStricli } from "@stricli/core";
import { assert, have, IPCAT, ipcat, run, spawn, startServe, tempDir } from "./_helpers.ts";
import { plainSendFlags } from "../commands/_plain_send.ts";
import { commonFlags, framingFlags } from "../commands/flags.ts";
import { type SendFlags, sendFlags } from "../commands/send.ts";

/** The steps `IPCAT_DEBUG=startup` reported, in order. */
const steps = (stderr: string) =>
  [...stderr.matchAll(/^ipcat: startup: (\w+) at [\d.]+ ms$/gm)].map((m) => m[1]);
const startup = { env: { IPCAT_DEBUG: "startup" } };

Deno.test("--version and usage slips are answered before any module is loaded", async () => {
  for (const args of [["--version"], ["-V"]]) {
    const result = await ipcat(args, startup);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ipcat \d+\.\d+\.\d+ \(deno \d/);
    assert.deepEqual(steps(result.stderr), ["entry"]);
  }
  for (const args of [[], ["-q", "send"]]) {
    const result = await ipcat(args, startup);
    assert.equal(result.code, 2);
    assert.deepEqual(steps(result.stderr), ["entry"], result.stderr);
  }
});

Deno.test("send ADDR MSG... without options skips Stricli; any option takes the full path", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", `${dir.path}/echo.sock`]);
  const plain = await ipcat(["send", server.address, "hello", "two words"], startup);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, "hello\ntwo words\n");
  assert.deepEqual(steps(plain.stderr), ["entry", "loaded", "ran"]);

  const full = await ipcat(["send", "--no-verbose", server.address, "hello", "two words"], startup);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(full.stdout, plain.stdout);
  assert.deepEqual(steps(full.stderr), ["entry", "loaded", "built", "parsed", "ran"]);
});

Deno.test("send without options: the same output, errors and exit codes as through Stricli", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", `${dir.path}/echo.sock`]);
  const cases: [string[], number][] = [
    [[server.address, "one", "", "three"], 0], // an empty message is a message
    [[`${dir.path}/nobody.sock`, "x"], 69],
    [["uix:/tmp/x.sock", "x"], 2],
    [["tcp:localhost", "x"], 2],
  ];
  for (const [args, code] of cases) {
    const plain = await ipcat(["send", ...args]);
    // --no-verbose is the default value: the same flags, reached through Stricli's parse.
    const full = await ipcat(["send", "--no-verbose", ...args]);
    assert.equal(plain.code, code, `${args}: ${plain.stderr}`);
    assert.deepEqual(plain, full, args.join(" "));
  }
  // No message: stdin, on both paths.
  const stdin = await ipcat(["send", server.address], { stdin: "a\nb\n" });
  assert.equal(stdin.stdout, "a\nb\n", stdin.stderr);
});

Deno.test("send without options: a signal is the orderly stop, exit 130, as through Stricli", async () => {
  // A server that takes the connection and never answers, so send waits until signalled.
  await using dir = await tempDir();
  const path = `${dir.path}/silent.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const held: Deno.Conn[] = [];
  let accepted = Promise.withResolvers<void>();
  const accepting = (async () => {
    for await (const conn of listener) {
      held.push(conn);
      accepted.resolve();
    }
  })();
  for (const args of [["send", `unix:${path}`, "x"], ["send", "--no-verbose", `unix:${path}`, "x"]]) {
    accepted = Promise.withResolvers<void>();
    const child = spawn(IPCAT, args);
    await accepted.promise;
    child.kill("SIGINT");
    const { code, stderr } = await child.output();
    assert.equal(code, 130, args.join(" "));
    assert.equal(new TextDecoder().decode(stderr), "ipcat: Interrupted\n");
  }
  listener.close();
  await accepting.catch(() => {});
  for (const conn of held) conn.close();
});

Deno.test("plainSendFlags: the flags Stricli gives send when none is typed", async () => {
  let parsed: unknown;
  const command = buildCommand<SendFlags, string[], CommandContext>({
    func: (flags) => void (parsed = flags),
    parameters: {
      flags: { ...commonFlags, ...framingFlags, ...sendFlags },
      positional: {
        kind: "array",
        parameter: { brief: "ADDR MSG", parse: String, placeholder: "ADDR" },
        minimum: 1,
      },
    },
    docs: { brief: "send" },
  });
  const app = buildApplication(command, { name: "ipcat" });
  const output = { write: () => {} };
  await runStricli(app, ["unix:/tmp/x.sock", "hello"], {
    process: { stdout: output, stderr: output, env: {}, exitCode: undefined },
  });
  assert.ok(parsed, "Stricli ran the command");
  // Stricli leaves an optional flag that was not given as undefined; so does plainSendFlags.
  const defined = (flags: object) =>
    Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  assert.deepEqual(defined(plainSendFlags()!), defined(parsed as object));
});

/** The files of the bundle (bin/ipcat.d, the launcher build) that `ipcat ARGS` opened. */
async function bundleFilesRead(args: string[]): Promise<string[]> {
  const traced = await run("strace", [
    "-f",
    "-qq",
    "-e",
    "trace=openat",
    "-o",
    "/dev/stderr",
    IPCAT,
    ...args,
  ]);
  return [...new Set([...traced.stderr.matchAll(/\/bin\/ipcat\.d\/([\w/-]+)\.js"/g)].map((m) => m[1]))];
}

Deno.test({
  name:
    "the bundle's chunks are read only when reached: --version reads the entry, one-shot send its own bundle",
  ignore: !have("strace") || !Deno.statSync(new URL("../bin/ipcat.d", import.meta.url)).isDirectory,
  fn: async () => {
    const version = await bundleFilesRead(["--version"]);
    // The entry alone: the error classes and the bundler's helper wait for the full path.
    assert.deepEqual(version, ["cli"]);

    await using dir = await tempDir();
    await using server = await startServe(["--echo", `${dir.path}/echo.sock`]);
    const send = await bundleFilesRead(["send", server.address, "hello"]);
    const others = /^(serve|pipe|inspect|replay|help|argument_errors|completions|man|_cli_modules)-/;
    assert.deepEqual(send.filter((name) => others.test(name)), [], send.join(" "));
    // The one-shot form reads its own bundle alone (the launcher runs it directly): not the
    // entry, not the chunks the other commands share, nor what its bundle imports only when
    // needed (MessagePack, Node's TLS).
    assert.deepEqual(send, ["oneshot/_oneshot_main"]);
  },
});
