// deno-lint-ignore-file no-console -- a benchmark client prints its figures
/**
 * Load driver for `make bench`: CLIENTS connections at once to a line echo server at ADDR
 * (unix:PATH or tcp:HOST:PORT), each doing TRIPS sequential round trips. Prints
 * `SECONDS FAILURES` on stdout.
 *
 * Usage: deno run -A bench/_echo_load.ts ADDR CLIENTS TRIPS
 */
const [address, clientsText, tripsText] = Deno.args;
const clients = Number(clientsText);
const trips = Number(tripsText);
const te = new TextEncoder();

function connect(): Promise<Deno.Conn> {
  if (address.startsWith("unix:")) return Deno.connect({ transport: "unix", path: address.slice(5) });
  const [, host, port] = /^tcp:(.*):(\d+)$/.exec(address)!;
  return Deno.connect({ hostname: host, port: Number(port) });
}

let failures = 0;
const conns = await Promise.all(Array.from({ length: clients }, () => connect()));
const start = performance.now();
await Promise.all(conns.map(async (conn, c) => {
  const buffer = new Uint8Array(4096);
  try {
    for (let t = 0; t < trips; t++) {
      const message = te.encode(`client ${c} trip ${t}\n`);
      await conn.write(message);
      let got = 0;
      while (got < message.length) {
        const n = await conn.read(buffer.subarray(got));
        if (n === null) throw new Error("EOF");
        got += n;
      }
      for (let i = 0; i < message.length; i++) if (buffer[i] !== message[i]) throw new Error("bad reply");
    }
  } catch {
    failures++;
  } finally {
    conn.close();
  }
}));
console.log(`${((performance.now() - start) / 1000).toFixed(3)} ${failures}`);
