import { assert } from "./_helpers.ts";
import { pcapPortFor } from "../commands/replay.ts";

Deno.test("pcap: the server port comes from the target in every spelling (tcp:PORT too), else 9", () => {
  assert.equal(pcapPortFor(undefined, "tcp:8080"), 8080);
  assert.equal(pcapPortFor(undefined, "tcp:127.0.0.1:6379"), 6379);
  assert.equal(pcapPortFor(undefined, "tls:localhost:443"), 443);
  assert.equal(pcapPortFor(undefined, "unix:/tmp/a.sock"), 9);
  assert.equal(pcapPortFor(undefined, undefined), 9);
  assert.equal(pcapPortFor(5432, "tcp:8080"), 5432);
});
