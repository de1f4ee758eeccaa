import assert from "node:assert/strict";
import { UsageError } from "./errors.ts";
import { splitArgv } from "./argv.ts";

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
