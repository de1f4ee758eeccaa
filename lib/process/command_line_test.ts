import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { parseProgram, splitArgv } from "./command_line.ts";

Deno.test("splitArgv: words, quotes and escapes as a shell splits them", () => {
  assert.deepEqual(splitArgv("cat"), ["cat"]);
  assert.deepEqual(splitArgv("  tr  a-z   A-Z "), ["tr", "a-z", "A-Z"]);
  assert.deepEqual(splitArgv(`sh -c 'echo "$1"; exit 3' x`), ["sh", "-c", 'echo "$1"; exit 3', "x"]);
  assert.deepEqual(splitArgv(`printf "%s\\n" a\\ b ''`), ["printf", "%s\\n", "a b", ""]);
  assert.deepEqual(splitArgv(`echo "a \\"q\\" \\$x"`), ["echo", 'a "q" $x']);
});

Deno.test("splitArgv: unterminated quote and empty command are usage errors", () => {
  assert.throws(() => splitArgv("echo 'oops"), UsageError);
  assert.throws(() => splitArgv("   "), UsageError);
});

Deno.test("parseProgram resolves the program on PATH and keeps the arguments", () => {
  const argv = parseProgram(`sh -c 'echo "$1"' x`);
  assert.match(argv[0], /\/sh$/);
  assert.deepEqual(argv.slice(1), ["-c", 'echo "$1"', "x"]);
});

Deno.test("parseProgram rejects a program that is missing or not executable", async () => {
  assert.throws(() => parseProgram("no-such-program-ipcat"), UsageError);
  assert.throws(() => parseProgram("/no/such/file"), UsageError);
  const file = await Deno.makeTempFile({ dir: "/tmp" });
  try {
    assert.throws(
      () => parseProgram(file),
      (e: Error) => e instanceof UsageError && /not an executable/.test(e.message),
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("parseProgram does not treat a directory as a program", () => {
  assert.throws(() => parseProgram("tmp", "/"), UsageError);
});
