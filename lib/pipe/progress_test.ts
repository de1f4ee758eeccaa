import assert from "node:assert/strict";
import { formatBytes, Meter } from "./progress.ts";

Deno.test("formatBytes: decimal units", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1500), "1.50 kB");
  assert.equal(formatBytes(1_073_741_824), "1.07 GB");
});

Deno.test("Meter: totals per direction and the rate since the last sample", () => {
  const meter = new Meter(["a > b", "b > a"]);
  meter.add("forward", 2_000_000, 0);
  meter.add("backward", 10, 2);
  const start = performance.now();
  assert.match(meter.sample(start + 1000), /^a > b 2\.00 MB [\d.]+ [kM]B\/s \| b > a 10 B [\d.]+ B\/s$/);
  assert.match(meter.summary(), /b > a 10 B 2 messages in/);
});
