import { createServer, type IncomingMessage } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { describe, expect, it } from "vitest";
import { headersOf } from "./server.js";

/** The request Node parses from `head` (raw HTTP/1.1 lines), as a server receives it. */
async function received(head: string): Promise<IncomingMessage> {
  let resolve!: (req: IncomingMessage) => void;
  const got = new Promise<IncomingMessage>((r) => {
    resolve = r;
  });
  const server = createServer((req, res) => {
    resolve(req);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
  socket.on("data", () => socket.end());
  socket.write(head);
  try {
    return await got;
  } finally {
    socket.destroy();
    server.close();
  }
}

describe("the edge's one header map", () => {
  it("is what Node's headersDistinct gives for the same lines: lowercased, repeats kept in order", async () => {
    const req = await received(
      [
        "POST / HTTP/1.1",
        "Host: 127.0.0.1:4566",
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "X-Amz-Date: 20261207T050000Z",
        "x-custom: a",
        "X-CUSTOM: b, c",
        "Content-Type: text/plain",
        "Authorization: AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
    );
    const mine = headersOf(req.rawHeaders);
    expect({ ...mine }).toEqual({ ...req.headersDistinct });
    expect(mine["x-custom"]).toEqual(["a", "b, c"]);
    expect(mine["content-type"]).toEqual(["application/x-www-form-urlencoded; charset=utf-8", "text/plain"]);
  });
});
