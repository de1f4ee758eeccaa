// A WebSocket peer nobody here wrote: Node's `ws` package (npm install --prefix .deno/peers ws@8).
//   node ws_peer.mjs server      echo server on 127.0.0.1, port 0; prints "port N"; answers in kind
//   node ws_peer.mjs client URL  sends text "héllo" then bytes 00 ff; prints each reply's kind
import { createRequire } from "node:module";
const require = createRequire(new URL("../.deno/peers/", import.meta.url));
const { WebSocket, WebSocketServer } = require("ws");

const [mode, url] = process.argv.slice(2);
if (mode === "server") {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => {
    process.stdout.write(`port ${server.address().port}\n`);
  });
  server.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
} else {
  const ws = new WebSocket(url);
  const sends = ["héllo", Buffer.from([0, 255])];
  ws.on("open", () => ws.send(sends.shift()));
  ws.on("message", (data, isBinary) => {
    process.stdout.write(
      `${isBinary ? "binary" : "text"} ${isBinary ? data.toString("hex") : data.toString()}\n`,
    );
    if (sends.length) ws.send(sends.shift());
    else ws.close(1000);
  });
}
