/**
 * Each command run in-process with fake standard streams (stdio is passed in from cli.ts),
 * against real sockets and a real `bin/ipcat` peer.
 */
import { serve, type ServeFlags } from "../commands/serve.ts";
import { send, type SendFlags } from "../commands/send.ts";
import { pipeCommand, type PipeFlags } from "../commands/pipe.ts";
import { inspect, type InspectFlags } from "../commands/inspect.ts";
import type { OutputLike, Stdio } from "../commands/stdio.ts";
import { assert, startServe, tempDir, until, within } from "./_helpers.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** An output that keeps what is written; never a terminal. */
class Captured implements OutputLike {
  bytes: Uint8Array[] = [];
  get text(): string {
    return this.bytes.map((b) => td.decode(b)).join("");
  }
  writeSync(data: Uint8Array): number {
    this.bytes.push(data.slice());
    return data.length;
  }
  write(data: Uint8Array): Promise<number> {
    return Promise.resolve(this.writeSync(data));
  }
  isTerminal(): boolean {
    return false;
  }
}

/** Fake stdio: stdin yields `input` then EOF. */
function fakeStdio(input = "") {
  let pending: Uint8Array | null = te.encode(input);
  const stdout = new Captured();
  const stderr = new Captured();
  const io: Stdio = {
    stdin: {
      read(buffer) {
        if (pending === null || pending.length === 0) return Promise.resolve(null);
        const n = Math.min(buffer.length, pending.length);
        buffer.set(pending.subarray(0, n));
        pending = pending.subarray(n);
        return Promise.resolve(n);
      },
      isTerminal: () => false,
      setRaw: () => {
        throw new Error("not a terminal");
      },
    },
    stdout,
    stderr,
  };
  return { io, stdout, stderr };
}

const common = { quiet: false, verbose: false, color: false, encoding: "text", maxFrame: 16 * 1024 * 1024 };

Deno.test("in-process: serve prints each message to the stdout it is given", async () => {
  await using dir = await tempDir();
  const sock = `${dir.path}/s.sock`;
  const { io, stdout, stderr } = fakeStdio();
  const flags: ServeFlags = { ...common, echo: false, broadcast: false, count: 2, mode: "0600" };
  const serving = serve(io, flags, `unix:${sock}`);
  await until(() => stderr.text.includes("listening on"), 5000, "listening line");
  assert.equal(stderr.text, `listening on unix:${sock}\n`);
  const conn = await Deno.connect({ transport: "unix", path: sock });
  await conn.write(te.encode("hello\nworld\n"));
  conn.close();
  assert.equal(await within(serving, 5000, "serve --count 2"), 0);
  assert.equal(stdout.text, "hello\nworld\n");
});

Deno.test("in-process: send prints the replies to the stdout it is given", async () => {
  await using server = await startServe(["--echo", "tcp:127.0.0.1:0"]);
  const { io, stdout, stderr } = fakeStdio();
  const flags: SendFlags = { ...common, keepOpen: false, noReply: false };
  assert.equal(await within(send(io, flags, server.address, "ping", "pong"), 5000, "send"), 0);
  assert.equal(stdout.text, "ping\npong\n");
  assert.equal(stderr.text, "");
});

Deno.test("in-process: send reads its messages from the stdin it is given", async () => {
  await using server = await startServe(["--echo", "tcp:127.0.0.1:0"]);
  const { io, stdout } = fakeStdio("one\ntwo\n");
  const flags: SendFlags = { ...common, keepOpen: false, noReply: false };
  assert.equal(await within(send(io, flags, server.address), 5000, "send"), 0);
  assert.equal(stdout.text, "one\ntwo\n");
});

Deno.test("in-process: pipe logs to the stderr it is given and reaps its exec: child", async () => {
  await using server = await startServe(["--count", "1", "tcp:127.0.0.1:0"]);
  const { io, stderr } = fakeStdio();
  const flags: PipeFlags = { ...common, verbose: true, progress: false };
  assert.equal(
    await within(pipeCommand(io, flags, "exec:sh -c 'echo hi; exit 4'", server.address), 5000, "pipe"),
    0,
  );
  await server.stdout.waitFor((line) => line === "hi");
  assert.match(
    stderr.text,
    new RegExp(`^ipcat: piping exec:sh -c 'echo hi; exit 4' <-> ${server.address}$`, "m"),
  );
  assert.match(stderr.text, /^ipcat: exec:sh -c 'echo hi; exit 4' exited with 4$/m);
});

Deno.test("in-process: an inspect session reads the stdin and logs to the stdout it is given", async () => {
  await using server = await startServe(["--echo", "tcp:127.0.0.1:0"]);
  const { io, stdout } = fakeStdio("ping\n");
  const flags: InspectFlags = { ...common, format: "text", showMax: 1024 };
  assert.equal(await within(inspect(io, flags, server.address), 5000, "inspect session"), 0);
  const lines = stdout.text.split("\n");
  assert.match(lines[0], /^\S+ > 4B ping$/);
  assert.match(lines[1], /^\S+ < 4B ping$/);
  assert.match(lines[2], /end of input, then closed by the far side; sent 5B, received 5B$/);
});
