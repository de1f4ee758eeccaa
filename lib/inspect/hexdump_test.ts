import assert from "node:assert/strict";
import { hexdump } from "./hexdump.ts";

async function system(bytes: Uint8Array): Promise<string[]> {
  const child = new Deno.Command("hexdump", { args: ["-C"], stdin: "piped", stdout: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(bytes);
  await writer.close();
  const out = new TextDecoder().decode((await child.output()).stdout);
  return out.split("\n").filter((line) => line !== "");
}

const te = new TextEncoder();
const cases: Record<string, Uint8Array> = {
  "short text": te.encode("hello\n"),
  "exactly 8": te.encode("12345678"),
  "9 bytes": te.encode("123456789"),
  "exactly 16": te.encode("0123456789abcdef"),
  "all bytes": Uint8Array.from({ length: 256 }, (_, i) => i),
  "repeated lines squeezed": new Uint8Array(100),
  "repeat then change": Uint8Array.from({ length: 80 }, (_, i) => (i < 64 ? 7 : i)),
};

for (const [name, bytes] of Object.entries(cases)) {
  Deno.test(`hexdump matches hexdump -C: ${name}`, async () => {
    assert.deepEqual(hexdump(bytes), await system(bytes));
  });
}

Deno.test("hexdump of nothing is no lines", () => {
  assert.deepEqual(hexdump(new Uint8Array(0)), []);
});
