// deno-lint-ignore-file no-console -- a benchmark client prints its figures
// Load and peers for bench/70-nats.sh, on the official client:
//   request URL SUBJECT N CONCURRENCY   N requests, CONCURRENCY in flight; prints requests/s
//   respond URL SUBJECT                 a minimal echo responder (the floor for serve --echo)
//   count URL SUBJECT N                 prints "ready", then msgs/s once N messages arrived
//   publish URL SUBJECT N               N publishes of 63 B (the floor for pipe's publishing)
import { connect } from "@nats-io/transport-node";

const [mode, url, subject, a, b] = Deno.args;
const nc = await connect({ servers: url });
if (mode === "request") {
  const n = Number(a);
  let next = 0;
  const payload = new TextEncoder().encode("x".repeat(63));
  const start = performance.now();
  await Promise.all(Array.from({ length: Number(b) }, async () => {
    while (next++ < n) await nc.request(subject, payload, { timeout: 10_000 });
  }));
  console.log(Math.round(n / ((performance.now() - start) / 1000)));
  await nc.close();
} else if (mode === "respond") {
  const sub = nc.subscribe(subject, { queue: "ipcat" });
  await nc.flush();
  console.error("listening on", url);
  for await (const m of sub) m.respond(m.data);
} else if (mode === "publish") {
  const payload = new TextEncoder().encode("x".repeat(63));
  for (let i = 0; i < Number(a); i++) {
    nc.publish(subject, payload);
    // The client buffers without bound: yield now and then as a reader of stdin would.
    if (i % 1024 === 0) await Promise.resolve();
  }
  await nc.flush();
  await nc.close();
} else if (mode === "count") {
  const n = Number(a);
  let seen = 0;
  let start = 0;
  const sub = nc.subscribe(subject);
  await nc.flush();
  console.log("ready");
  for await (const _ of sub) {
    if (seen++ === 0) start = performance.now();
    if (seen === n) break;
  }
  console.log(Math.round((n - 1) / ((performance.now() - start) / 1000)));
  await nc.close();
}
