/**
 * The baseline of bench/api-cpu.ts, in a process of its own (pinned to the server's core): a bare
 * node:http server answering every request with one fixed answer — privlink's own body for the
 * case, as a Buffer with its content-length and a fresh request ID header, as privlink answers.
 * What it costs per request is HTTP alone: parsing the request, writing the answer.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";

let body = Buffer.alloc(0);

const server = createServer({ keepAlive: true }, (req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, {
      "content-type": "text/xml;charset=UTF-8",
      "content-length": body.length,
      "x-amzn-requestid": randomUUID(),
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;

server.listen(0, "127.0.0.1", () => process.send({ type: "listening", port: server.address().port }));

process.on("message", (msg) => {
  if (msg?.type === "body") {
    body = Buffer.from(msg.body, "utf8");
    process.send({ type: "body", id: msg.id });
  } else if (msg?.type === "close") {
    server.closeAllConnections();
    server.close();
    process.disconnect();
  }
});
