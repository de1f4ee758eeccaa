import assert from "node:assert/strict";
import { UsageError } from "./errors.ts";
import { parseProgram } from "./program.ts";

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
