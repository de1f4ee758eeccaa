import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { addressForms, listen, parseAddress } from "./mod.ts";

Deno.test("parseAddress: - is stdio, and so is stdio:", () => {
  assert.deepEqual(parseAddress("-"), { scheme: "stdio", text: "-" });
  assert.deepEqual(parseAddress("stdio:"), { scheme: "stdio", text: "-" });
  assert.throws(() => parseAddress("stdio:x"), UsageError);
});

Deno.test("parseAddress: exec: splits like a shell, without one", () => {
  const address = parseAddress(`exec:sh -c 'echo "$1"' x`);
  assert.equal(address.scheme, "exec");
  assert.deepEqual(address.argv, ["sh", "-c", 'echo "$1"', "x"]);
  assert.throws(() => parseAddress("exec:"), UsageError);
  assert.throws(() => parseAddress("exec:  "), UsageError);
  assert.throws(() => parseAddress("exec:echo 'open"), UsageError);
});

Deno.test("- and exec: are connect-only: listening on them is a usage error", () => {
  assert.throws(() => listen(parseAddress("-")), UsageError);
  assert.throws(() => listen(parseAddress("exec:cat")), UsageError);
});

Deno.test("help lists - and exec: from the registry", () => {
  const forms = addressForms().join("\n");
  assert.match(forms, /^- +stdin\/stdout/m);
  assert.match(forms, /^exec:COMMAND ARGS /m);
});

Deno.test("a near-miss scheme suggests exec:", () => {
  assert.throws(() => parseAddress("exex:cat"), (e) => e instanceof UsageError && /exec:/.test(e.hint ?? ""));
});
