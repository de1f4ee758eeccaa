import assert from "node:assert/strict";
import { asText, clock, type EventFormatOptions, eventFormatter, type InspectEvent } from "./log_format.ts";

const te = new TextEncoder();
const eventFormatterText = (options: EventFormatOptions) => {
  const format = eventFormatter(options);
  return (event: InspectEvent) => asText(format(event));
};
const t = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();

Deno.test("clock shows local time with milliseconds", () => {
  assert.equal(clock(t), "03:04:05.067");
  // Consecutive events share a second's prefix; each new second gets its own.
  assert.equal(clock(t + 932), "03:04:05.999");
  assert.equal(clock(t + 933), "03:04:06.000");
  assert.equal(clock(t - 68), "03:04:04.999");
  assert.equal(clock(t + 0.5), "03:04:05.067");
});

Deno.test("printable messages are one line of text with escapes", () => {
  const format = eventFormatterText({ format: "auto", color: false });
  assert.equal(
    format({ kind: "data", t, conn: 3, dir: "c2s", size: 6, bytes: te.encode("hi\tyo\n") }),
    "03:04:05.067 #3 > 6B hi\\tyo\\n\n",
  );
  assert.equal(
    format({ kind: "data", t, dir: "s2c", size: 2, bytes: te.encode("ok") }),
    "03:04:05.067 < 2B ok\n",
  );
});

Deno.test("binary messages are a hexdump on continuation lines", () => {
  const format = eventFormatterText({ format: "auto", color: false });
  assert.equal(
    format({ kind: "data", t, conn: 1, dir: "s2c", size: 3, bytes: Uint8Array.from([0, 1, 0x41]) }),
    "03:04:05.067 #1 < 3B\n" +
      "  00000000  00 01 41                                          |..A|\n" +
      "  00000003\n",
  );
});

Deno.test("--format text and hex force the view; truncated messages say so", () => {
  const text = eventFormatterText({ format: "text", color: false });
  assert.equal(
    text({ kind: "data", t, conn: 1, dir: "c2s", size: 10, bytes: Uint8Array.from([0x61, 0, 0xc3]) }),
    "03:04:05.067 #1 > 10B a\\x00 … (7 more bytes)\n",
  );
  const hex = eventFormatterText({ format: "hex", color: false });
  assert.match(hex({ kind: "data", t, conn: 1, dir: "c2s", size: 2, bytes: te.encode("hi") }), /\|hi\|/);
});

Deno.test("msgpack messages show as JSON unless --format hex", () => {
  const json = (m: Uint8Array) => {
    if (m[0] !== 0x81) throw new Error("no");
    return '{"a":1}';
  };
  const format = eventFormatterText({ format: "auto", color: false, json });
  assert.equal(
    format({ kind: "data", t, conn: 1, dir: "c2s", size: 3, bytes: Uint8Array.from([0x81, 0xa1, 0x61]) }),
    '03:04:05.067 #1 > 3B {"a":1}\n',
  );
});

Deno.test("colours wrap every line by direction", () => {
  const format = eventFormatterText({ format: "hex", color: true });
  const out = format({ kind: "data", t, conn: 1, dir: "c2s", size: 1, bytes: Uint8Array.from([7]) });
  for (const line of out.trimEnd().split("\n")) {
    assert.ok(line.startsWith("\x1b[32m") && line.endsWith("\x1b[0m"));
  }
});

Deno.test("open, close, notes and skipped events", () => {
  const format = eventFormatterText({ format: "auto", color: false });
  assert.equal(format({ kind: "open", t, conn: 2, text: "a -> b" }), "03:04:05.067 #2 open a -> b\n");
  assert.equal(
    format({ kind: "skipped", t, count: 5 }),
    "03:04:05.067 log fell behind: 5 events skipped (the traffic was not)\n",
  );
});
