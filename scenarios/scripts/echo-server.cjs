// The provider's TCP service: answers every connection with "echo:" and what it received.
const net = require("node:net");
const server = net.createServer({ allowHalfOpen: true }, (s) => {
  const chunks = [];
  s.on("data", (d) => chunks.push(d));
  s.on("end", () => s.end(`echo:${Buffer.concat(chunks)}`));
  s.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => console.log(`listening on ${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
