import assert from "node:assert/strict";
import fc from "fast-check";
import { MESSAGE_FRAMING, MessageStream } from "./_message_stream.ts";
import { readMessages, writeAll } from "../messages.ts";

/** Messages sent are kept; messages to receive are given. */
class Recorder extends MessageStream {
  sent: Uint8Array[] = [];
  #incoming: Uint8Array[];
  constructor(incoming: Uint8Array[] = [], maxMessage = 1 << 20) {
    super("test", maxMessage);
    this.#incoming = incoming;
  }
  receive() {
    return Promise.resolve(this.#incoming.shift() ?? null);
  }
  send(message: Uint8Array) {
    this.sent.push(message.slice());
    return Promise.resolve();
  }
  closeWrite() {
    return Promise.resolve();
  }
  close() {}
}

const messagesArb = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 });

Deno.test("MessageStream: framed writes in any chunking send each message once, whole", async () => {
  await fc.assert(
    fc.asyncProperty(
      messagesArb,
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }),
      async (msgs, cuts) => {
        const conn = new Recorder();
        const wire = MESSAGE_FRAMING.encode(msgs);
        for (let at = 0, i = 0; at < wire.length; i++) {
          const end = Math.min(wire.length, at + cuts[i % cuts.length]);
          await writeAll(conn, wire.slice(at, end));
          at = end;
        }
        assert.deepEqual(conn.sent, msgs);
      },
    ),
  );
});

Deno.test("MessageStream: received messages read back through the framing, empty ones included", async () => {
  await fc.assert(
    fc.asyncProperty(messagesArb, async (msgs) => {
      const conn = new Recorder(msgs.map((m) => m.slice()));
      const got: Uint8Array[] = [];
      await readMessages(conn, MESSAGE_FRAMING.decoder(1 << 20), (batch) => {
        for (const m of batch) got.push(m.slice());
      });
      assert.deepEqual(got, msgs);
    }),
  );
});

Deno.test("MessageStream: a message over the transport's limit is a FrameError, nothing sent", async () => {
  const conn = new Recorder([], 10);
  await assert.rejects(
    () => writeAll(conn, MESSAGE_FRAMING.encode([new Uint8Array(11)])),
    /over this transport's limit/,
  );
  assert.equal(conn.sent.length, 0);
});
