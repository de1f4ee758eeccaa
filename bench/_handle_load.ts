// deno-lint-ignore-file no-console -- a benchmark client prints its figures
/**
 * Load driver for `make bench`: MESSAGES one-line messages to ADDR from WORKERS concurrent
 * workers, checking every reply. `pipelined`: each worker sends its share on one connection
 * and reads one reply line per message. `per-connection`: each message on its own connection
 * (connect, send, half-close, read to EOF). Prints `SECONDS FAILURES` on stdout.
 *
 * Usage: deno run -A bench/_handle_load.ts pipelined|per-connection ADDR MESSAGES WORKERS
 */
const [style, address, messagesText, workersText] = Deno.args;
const total = Number(messagesText);
const workers = Number(workersText);
const te = new TextEncoder();
const td = new TextDecoder();

function connect(): Promise<Deno.Conn> {
  if (address.startsWith("unix:")) return Deno.connect({ transport: "unix", path: address.slice(5) });
  const [, host, port] = /^tcp:(.*):(\d+)$/.exec(address)!;
  return Deno.connect({ hostname: host, port: Number(port) });
}

async function readAll(conn: Deno.Conn, until: (text: string) => boolean): Promise<string> {
  const buffer = new Uint8Array(65536);
  let text = "";
  while (!until(text)) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += td.decode(buffer.subarray(0, n));
  }
  return text;
}

// One write may take only part of a large buffer: the rest would be lost before closeWrite.
async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
}

let failures = 0;
const start = performance.now();
await Promise.all(Array.from({ length: workers }, async (_, w) => {
  const mine = Array.from({ length: Math.ceil(total / workers) }, (_, i) => `worker ${w} message ${i}\n`);
  if (style === "pipelined") {
    const conn = await connect();
    const expected = mine.join("");
    const [, text] = await Promise.all([
      writeAll(conn, te.encode(expected)).then(() => conn.closeWrite()),
      readAll(conn, (t) => t.length >= expected.length),
    ]);
    if (text !== expected) failures++;
    conn.close();
  } else {
    for (const message of mine) {
      const conn = await connect();
      await conn.write(te.encode(message));
      await conn.closeWrite();
      if ((await readAll(conn, () => false)) !== message) failures++;
      conn.close();
    }
  }
}));
console.log(`${((performance.now() - start) / 1000).toFixed(3)} ${failures}`);
