import assert from "node:assert/strict";
import { closest, editDistance } from "./suggest.ts";

Deno.test("editDistance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("unix", "unix"), 0);
  assert.equal(editDistance("uix", "unix"), 1);
  assert.equal(editDistance("lenght", "length"), 2);
  assert.equal(editDistance("", "tcp"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

Deno.test("closest: the nearest within two edits, first listed on a tie, none for short junk", () => {
  assert.equal(closest("lenght", ["raw", "lines", "length", "netstring", "msgpack"]), "length");
  assert.equal(closest("hx", ["text", "hex", "base64"]), "hex");
  assert.equal(closest("uix", ["unix", "tcp", "tls", "stdio", "exec"]), "unix");
  // "tcs" is one edit from both tcp and tls: the first listed wins.
  assert.equal(closest("tcs", ["unix", "tcp", "tls"]), "tcp");
  // Nearest, not first within reach: "line" is 1 from lines, 3 from length.
  assert.equal(closest("line", ["length", "lines"]), "lines");
  assert.equal(closest("ab", ["raw", "lines"]), undefined);
  assert.equal(closest("zzzzzz", ["raw", "lines", "length"]), undefined);
});
