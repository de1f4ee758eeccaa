/**
 * The training run of `tools/eager_compile.ts`: runs the one-shot `send` bundle given as the
 * argument the way shell loops run it (`ipcat send ADDR MSG...` to a Unix socket, then to a TCP
 * port) against echo servers of its own, on a temporary socket and a loopback port.
 * @module
 */

/** Echoes what each connection sends, then closes it. */
async function echo(listener: Deno.Listener) {
  for await (const conn of listener) {
    (async () => {
      try {
        await conn.readable.pipeTo(conn.writable);
      } catch {
        conn.close();
      }
    })();
  }
}

const bundle = new URL(Deno.args[0], `file://${Deno.cwd()}/`).href;
const { runWithoutOptions } = await import(bundle);
const dir = await Deno.makeTempDir({ prefix: "ipcat-training-" });
const unix = Deno.listen({ transport: "unix", path: `${dir}/echo.sock` });
const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
echo(unix);
echo(tcp);
let failed = 0;
for (const args of [[`${dir}/echo.sock`, "hello"], [`tcp:${tcp.addr.port}`, "hello", "world"]]) {
  if ((await runWithoutOptions(args)) !== 0) failed++;
}
unix.close();
tcp.close();
await Deno.remove(dir, { recursive: true });
Deno.exit(failed ? 1 : 0);
