/**
 * `make man`, `make install`, `make uninstall` (issue 14): installed from a copy of the build
 * tree into a temporary prefix, the copy then deleted, the installed ipcat must still run a
 * round trip from another directory, found on PATH.
 */
import { assert, have, run, tempDir, within } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
/** What `make install` reads: the Makefile, the build outputs, and the sources make compares them with. */
const TREE = ["Makefile", "cli.ts", "deno.json", "deno.lock", "lib", "commands", "bin", ".deno"];

Deno.test("make man: ipcat.1 from the help data renders with no man warnings", async () => {
  const made = await run("make", ["-C", ROOT, "--no-print-directory", "man"]);
  assert.equal(made.code, 0, made.stderr);
  const page = await Deno.readTextFile(`${ROOT}/bin/ipcat.1`);
  for (const flag of ["keep-open", "max-frame", "handle-timeout", "intercept"]) {
    assert.ok(page.includes(`--${flag}`.replaceAll("-", "\\-")), flag);
  }
  if (!have("man")) return;
  const rendered = await run("man", ["--warnings", "-l", `${ROOT}/bin/ipcat.1`], { env: { MANWIDTH: "80" } });
  assert.equal(rendered.code, 0, rendered.stderr);
  assert.equal(rendered.stderr, "", "man --warnings is quiet");
  assert.match(rendered.stdout, /ipcat send \[OPTIONS\] ADDR \[MSG\.\.\.\]/);
});

Deno.test("make install into a prefix, build tree deleted: ipcat runs from anywhere; make uninstall removes it", async () => {
  await using dir = await tempDir();
  const copy = `${dir.path}/build`;
  const prefix = `${dir.path}/prefix`;
  await Deno.mkdir(copy);
  // -p keeps the times, so make sees the copied build as up to date and only installs.
  const copied = await run("cp", ["-a", ...TREE.map((name) => `${ROOT}/${name}`), copy]);
  assert.equal(copied.code, 0, copied.stderr);
  const installed = await run("make", ["-C", copy, "--no-print-directory", "install", `PREFIX=${prefix}`]);
  assert.equal(installed.code, 0, installed.stderr);
  await Deno.remove(copy, { recursive: true });

  const files = [
    "bin/ipcat",
    "share/man/man1/ipcat.1",
    "share/bash-completion/completions/ipcat",
    "share/zsh/site-functions/_ipcat",
    "share/fish/vendor_completions.d/ipcat.fish",
  ];
  for (const file of files) assert.ok((await Deno.stat(`${prefix}/${file}`)).isFile, file);

  // From another directory, found on PATH (no deno there): a server, a client, msgpack whose
  // encoder is bundled npm code.
  const env = { PATH: `${prefix}/bin:/usr/bin:/bin` };
  const sock = `${dir.path}/app.sock`;
  const server = new Deno.Command("sh", {
    args: ["-c", `exec ipcat serve --echo -f msgpack --count 1 ${sock}`],
    env,
    cwd: "/",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const client = await within(
    run("sh", ["-c", `ipcat send --wait 10s -f msgpack ${sock} '{"ok":[1,2]}' && ipcat -V`], {
      env,
      cwd: "/",
    }),
    30_000,
    "installed round trip",
  );
  const serverDone = await server.output();
  assert.equal(client.code, 0, client.stderr);
  assert.match(client.stdout, /^\{"ok":\[1,2\]\}\nipcat \d+\.\d+\.\d+ \(deno /);
  assert.equal(serverDone.code, 0, new TextDecoder().decode(serverDone.stderr));

  const removed = await run("make", ["-C", ROOT, "--no-print-directory", "uninstall", `PREFIX=${prefix}`]);
  assert.equal(removed.code, 0, removed.stderr);
  const left = await run("find", [prefix, "-type", "f"]);
  assert.equal(left.stdout, "", "uninstall leaves no file");
});
