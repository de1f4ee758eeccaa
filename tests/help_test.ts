/**
 * Help, version and command-line mistakes (issue 14): what a new user reads, end to end
 * through bin/ipcat.
 */
import { assert, ipcat, startServe, tempDir } from "./_helpers.ts";

const COMMANDS = ["serve", "send", "pipe", "inspect"];
const ESC = "\x1b[";

Deno.test("help: ipcat --help, ipcat help, ipcat help COMMAND and COMMAND --help; 80 columns into a pipe", async () => {
  const top = await ipcat(["--help"]);
  assert.equal(top.code, 0, top.stderr);
  assert.match(top.stdout, /^Usage: ipcat COMMAND \[OPTIONS\] ARGS\.\.\.$/m);
  for (const name of [...COMMANDS, "help", "completions"]) {
    assert.match(top.stdout, new RegExp(`^  ${name} `, "m"));
  }
  assert.match(top.stdout, /-V, --version/);
  assert.equal((await ipcat(["help"])).stdout, top.stdout);
  for (const name of COMMANDS) {
    const help = await ipcat([name, "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.equal((await ipcat(["help", name])).stdout, help.stdout, name);
    assert.equal((await ipcat([name, "-h"])).stdout, help.stdout, name);
    // A synopsis, not every flag.
    assert.match(help.stdout, new RegExp(`^Usage: ipcat ${name} \\[OPTIONS\\] \\S.{0,30}$`, "m"), name);
    for (const group of ["Message options:", "Common options:", "Examples:", "Addresses:", "Framings:"]) {
      assert.ok(help.stdout.includes(`\n${group}\n`), `${name} --help has ${group}`);
    }
    assert.doesNotMatch(help.stdout, /\[default = false\]|--keepOpen|maxFrame/, name);
    assert.ok(!help.stdout.includes(ESC), `${name}: no escape codes into a pipe`);
    for (const line of help.stdout.split("\n")) {
      assert.ok(line.length <= 80, `${name}: ${line.length}: ${line}`);
    }
  }
});

Deno.test("help: framing default shown per command, TLS flags grouped, serve's modes grouped", async () => {
  const defaults = { serve: "lines", send: "lines", inspect: "lines", pipe: "raw" } as Record<string, string>;
  for (const name of COMMANDS) {
    const help = (await ipcat(["help", name])).stdout;
    const framing = help.slice(help.indexOf("--framing NAME")).split("\n  -")[0].replace(/\s+/g, " ");
    assert.match(framing, new RegExp(`\\[default: ${defaults[name]}\\]`), name);
    assert.match(help, /\nTLS options:\n/, name);
  }
  const serve = (await ipcat(["help", "serve"])).stdout;
  assert.match(serve, /\nModes \(default: print each message\):\n(.+\n)*\s+--handle CMD/);
  assert.match(serve, /--mode OCTAL +Socket file mode \[default: 0600\]/);
});

Deno.test("help: wraps to COLUMNS; --color forces bold headings into a pipe, NO_COLOR alone does not", async () => {
  const narrow = await ipcat(["help", "send"], { env: { COLUMNS: "60" } });
  for (const line of narrow.stdout.split("\n")) assert.ok(line.length <= 60, line);
  const forced = await ipcat(["help", "send", "--color"], { env: { NO_COLOR: "1" } });
  assert.ok(forced.stdout.includes(`${ESC}1mUsage:`), "--color wins over NO_COLOR");
  const off = await ipcat(["help", "send", "--no-color"]);
  assert.ok(!off.stdout.includes(ESC));
});

Deno.test("help: ipcat -V and --version print ipcat and deno versions; -v is --verbose", async () => {
  for (const flag of ["-V", "--version"]) {
    const version = await ipcat([flag]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^ipcat 0\.\d+\.\d+ \(deno 2\.\d+\.\d+\)\n$/);
  }
  const top = await ipcat(["-v"]);
  assert.equal(top.code, 2);
  assert.match(top.stderr, /^ipcat: -v before a command \(.*-V prints the version\)\n$/);
  await using dir = await tempDir();
  await using server = await startServe(["--echo", `${dir.path}/v.sock`]);
  const verbose = await ipcat(["send", "-v", server.address, "hi"]);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /sent 1 message, received 1 reply/);
});

Deno.test("help: Stricli's wording never reaches the user; one line, kebab-case, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["send"], /^ipcat: send: missing ADDR \(usage: ipcat send \[OPTIONS\] ADDR \[MSG\.\.\.\]\)$/],
    [["send", "-E", "x"], /^ipcat: send: unknown option -E \(see ipcat send --help\)$/],
    [["send", "--keepopen", "x"], /^ipcat: send: unknown option --keepopen \(did you mean --keep-open\?\)$/],
    [
      ["serve", "--slow", "x", "a.sock"],
      /^ipcat: serve: bad value "x" for --slow: expected disconnect, block/,
    ],
    [["send", "--max-frame", "9G", "a.sock"], /^ipcat: send: bad value "9G" for --max-frame: at most 1G/],
    [["send", "a.sock", "--timeout"], /^ipcat: send: --timeout needs a value/],
    [
      ["serve", "a.sock", "b"],
      /^ipcat: serve: unexpected argument "b" \(usage: ipcat serve \[OPTIONS\] ADDR\)$/,
    ],
    [["sned"], /^ipcat: no command "sned" \(did you mean send\?\)$/],
    [["help", "nope"], /^ipcat: help: no command "nope"/],
    [["completions"], /^ipcat: completions: give one shell/],
    [["completions", "csh"], /^ipcat: completions: no shell "csh"/],
  ];
  for (const [args, expected] of cases) {
    const result = await ipcat(args);
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stderr.split("\n").length, 2, `one line: ${result.stderr}`);
    assert.match(result.stderr.trimEnd(), expected, args.join(" "));
    assert.doesNotMatch(result.stderr, /Expected|registered|argument\(s\)|[a-z][A-Z]/, args.join(" "));
  }
});

Deno.test("help: -- ends options: send sends -ERR and -h as messages", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", `${dir.path}/dash.sock`]);
  const result = await ipcat(["send", server.address, "--", "-ERR", "-h", "--keep-open"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "-ERR\n-h\n--keep-open\n");
});

Deno.test("help: inspect --color colours its log into a pipe; default and NO_COLOR do not", async () => {
  await using dir = await tempDir();
  await using server = await startServe(["--echo", `${dir.path}/c.sock`]);
  const GREEN = `${ESC}32m`;
  const forced = await ipcat(["inspect", "--color", server.address], {
    stdin: "hi\n",
    env: { NO_COLOR: "1" },
  });
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(forced.stdout.includes(GREEN), forced.stdout);
  const auto = await ipcat(["inspect", server.address], { stdin: "hi\n" });
  assert.match(auto.stdout, /< 2B hi/);
  assert.ok(!auto.stdout.includes(ESC));
});
