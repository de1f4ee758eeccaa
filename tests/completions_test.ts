/**
 * `ipcat completions bash|zsh|fish` (issue 14): the bash script is loaded in a real bash
 * and asked for completions the way bash asks (COMP_WORDS/COMP_CWORD, then the function);
 * fish is asked with `complete -C`; zsh is parsed.
 */
import { assert, have, ipcat, run, startServe, tempDir } from "./_helpers.ts";
import { FRAMINGS } from "../lib/framing/mod.ts";
import { TRANSPORTS } from "../lib/address/mod.ts";

/** What bash completes for the words `line` (a trailing space starts a new, empty word). */
async function bashComplete(script: string, line: string, cwd?: string): Promise<string[]> {
  const words = line.split(" ");
  const program = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_ipcat; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = await run("bash", ["--norc", "-c", program], { cwd });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split("\n").filter(Boolean);
}

const longFlags = (help: string) =>
  [...help.matchAll(/^ {2}(?:-\w, | {4})--(?:\[no-\])?([\w-]+)/gm)].map((m) => m[1]);

Deno.test("completions bash: commands, each command's flags, framings, encodings, enum values", async () => {
  const script = (await ipcat(["completions", "bash"])).stdout;
  assert.deepEqual(await bashComplete(script, "ipcat se"), ["serve", "send"]);
  assert.deepEqual(await bashComplete(script, "ipcat help s"), ["serve", "send"]);
  assert.deepEqual(await bashComplete(script, "ipcat completions "), ["bash", "zsh", "fish"]);
  assert.deepEqual(await bashComplete(script, "ipcat send --kee"), ["--keep-open"]);
  assert.deepEqual(await bashComplete(script, "ipcat -v send -e h"), ["hex"]);
  assert.deepEqual(await bashComplete(script, "ipcat serve --slow "), ["disconnect", "block", "drop-oldest"]);
  const framings = await bashComplete(script, "ipcat pipe --to ");
  for (const family of FRAMINGS) {
    for (const syntax of family.syntax) assert.ok(framings.includes(syntax), syntax);
  }
  // Every flag help lists, and nothing else: both come from the same definitions.
  for (const command of ["serve", "send", "pipe", "inspect"]) {
    const offered = await bashComplete(script, `ipcat ${command} --`);
    const help = longFlags((await ipcat([command, "--help"])).stdout);
    for (const flag of help) assert.ok(offered.includes(`--${flag}`), `${command} --${flag}`);
    assert.ok(offered.includes("--no-color"), command);
  }
});

Deno.test("completions bash: addresses are the schemes, then socket files and directories", async () => {
  await using dir = await tempDir();
  await using _server = await startServe([`${dir.path}/app.sock`]);
  await Deno.writeTextFile(`${dir.path}/app.txt`, "not a socket");
  await Deno.mkdir(`${dir.path}/apps`);
  const script = (await ipcat(["completions", "bash"])).stdout;
  const empty = await bashComplete(script, "ipcat send ", dir.path);
  for (const transport of TRANSPORTS) {
    assert.ok(empty.includes(transport.standardStreams ? "-" : `${transport.scheme}:`), transport.scheme);
  }
  assert.deepEqual(await bashComplete(script, "ipcat send ap", dir.path), ["app.sock", "apps/"]);
  assert.deepEqual(await bashComplete(script, "ipcat serve unix:ap", dir.path), [
    "unix:app.sock",
    "unix:apps/",
  ]);
  assert.deepEqual(await bashComplete(script, `ipcat pipe ${dir.path}/app`), [
    `${dir.path}/app.sock`,
    `${dir.path}/apps/`,
  ]);
  // A file flag completes any file.
  assert.ok((await bashComplete(script, "ipcat inspect --record app", dir.path)).includes("app.txt"));
});

Deno.test({
  name: "completions zsh and fish: the shells parse them; fish completes flags and framings",
  ignore: !have("zsh") || !have("fish"),
  async fn() {
    await using dir = await tempDir();
    const zsh = `${dir.path}/_ipcat`;
    await Deno.writeTextFile(zsh, (await ipcat(["completions", "zsh"])).stdout);
    const zshParse = await run("zsh", ["-n", zsh]);
    assert.equal(zshParse.code, 0, zshParse.stderr);
    const fish = `${dir.path}/ipcat.fish`;
    await Deno.writeTextFile(fish, (await ipcat(["completions", "fish"])).stdout);
    const fishParse = await run("fish", ["-n", fish]);
    assert.equal(fishParse.code, 0, fishParse.stderr);
    const ask = async (line: string) => {
      const result = await run("fish", ["--no-config", "-c", `source ${fish}; complete -C '${line}'`]);
      assert.equal(result.code, 0, result.stderr);
      return result.stdout.split("\n").map((l) => l.split("\t")[0]).filter(Boolean);
    };
    assert.ok((await ask("ipcat send --keep")).includes("--keep-open"));
    assert.ok((await ask("ipcat send -f ")).includes("netstring"));
    assert.ok((await ask("ipcat ")).includes("inspect"));
  },
});
