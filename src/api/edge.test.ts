import { type AddressInfo, connect } from "node:net";
import { CreateVpcCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDefaultAccount } from "../cloud/account.js";
import { DEFAULT_HOST } from "../cloud/context.js";
import { systemRuntime } from "../cloud/runtime.js";
import { State } from "../cloud/state.js";
import { ec2Handlers } from "./ec2/index.js";
import { writeCopied } from "./edge.js";
import { createApiServer } from "./server.js";
import { Sha256 } from "./sigv4.js";

/**
 * The edge (src/api/edge.ts) against node:http on the same state: the same bytes sent to a server
 * with the edge and to one without it must be answered alike (Date and request IDs aside), and
 * whatever the edge does not take must reach node:http (counted by its 'request' events).
 */
const state = new State();
const rt = systemRuntime;
const make = (edge: boolean) =>
  createApiServer({
    state,
    rt,
    host: DEFAULT_HOST,
    auth: "verify",
    services: { ec2: ec2Handlers },
    admin: {},
    edge,
  });
const withEdge = make(true);
const without = make(false);
let edgePort = 0;
let httpPort = 0;
/** Requests node:http parsed on the edge's server. */
let viaHttp = 0;
withEdge.on("request", () => {
  viaHttp++;
});

beforeAll(async () => {
  state.transact((tx) => ensureDefaultAccount(tx, rt));
  for (const s of [withEdge, without]) await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  edgePort = (withEdge.address() as AddressInfo).port;
  httpPort = (without.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of [withEdge, without]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A request signed as the SDK signs it, as raw HTTP/1.1 text (`extra` lines after the signed ones). */
async function signed(
  body: string,
  opts: { extra?: string[]; headers?: Record<string, string>; region?: string } = {},
) {
  const req = new HttpRequest({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    path: "/",
    headers: {
      host: "127.0.0.1",
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      ...opts.headers,
    },
    body,
  });
  const signer = new SignatureV4({
    service: "ec2",
    region: opts.region ?? "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    sha256: Sha256,
  });
  const s = await signer.sign(req);
  const lines = [
    "POST / HTTP/1.1",
    ...Object.entries(s.headers).map(([k, v]) => `${k}: ${v}`),
    ...(opts.extra ?? []),
  ];
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

const DESCRIBE = "Action=DescribeVpcs&Version=2016-11-15";

/**
 * Writes `pieces` (each a write, `gapMs` apart), half-closes when `end`, and collects what the
 * server answers until it closes or `answers` responses are in (then closes).
 */
function exchange(
  port: number,
  pieces: string[],
  opts: { answers?: number; end?: boolean; gapMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let got = "";
    const done = () => {
      socket.destroy();
      resolve(got);
    };
    socket.on("data", (c: Buffer) => {
      got += c.toString("latin1");
      // The last answer's body may still be on its way: a moment more for it.
      if (opts.answers !== undefined && responses(got) >= opts.answers) setTimeout(done, 50);
    });
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
    socket.on("connect", async () => {
      for (const p of pieces) {
        socket.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.end) socket.end();
    });
    setTimeout(done, 5_000);
  });
}

/** Answers begun in `text` (a HEAD's has no body, so status lines are counted, not frames). */
function responses(text: string): number {
  return text.match(/HTTP\/1\.[01] \d{3} /g)?.length ?? 0;
}

/** The answer with what differs between any two answers (the date, request IDs) masked. */
function masked(text: string): string {
  return text
    .replace(/^Date: .*$/gm, "Date: *")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<id>");
}

/** What both servers answer to the same exchange, and how many requests node:http read on the edge's. */
async function both(pieces: string[], opts: Parameters<typeof exchange>[2] = {}) {
  const before = viaHttp;
  const edge = await exchange(edgePort, pieces, opts);
  const http = await exchange(httpPort, pieces, opts);
  return { edge: masked(edge), http: masked(http), viaHttp: viaHttp - before };
}

describe("the API edge", () => {
  it("serves the AWS SDK v3 without node:http, the same answers as node:http", async () => {
    const before = viaHttp;
    const client = (port: number) =>
      new EC2Client({
        endpoint: `http://127.0.0.1:${port}`,
        region: "us-east-1",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        maxAttempts: 1,
      });
    const ec2 = client(edgePort);
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }));
    const out = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.Vpc!.VpcId!] }));
    expect(out.Vpcs?.map((v) => v.CidrBlock)).toEqual(["10.9.0.0/16"]);
    const err = await ec2
      .send(new DescribeVpcsCommand({ VpcIds: ["vpc-00000000000000000"] }))
      .catch((e) => e);
    expect(err.name).toBe("InvalidVpcID.NotFound");
    const other = await client(httpPort)
      .send(new DescribeVpcsCommand({ VpcIds: ["vpc-00000000000000000"] }))
      .catch((e) => e);
    expect(other.name).toBe(err.name);
    expect(other.message).toBe(err.message);
    expect(viaHttp - before).toBe(0);
    ec2.destroy();
  });

  it("answers pipelined requests in order, byte for byte as node:http", async () => {
    const reqs = [
      await signed(DESCRIBE),
      await signed(`${DESCRIBE}&Filter.1.Name=cidr&Filter.1.Value.1=10.9.0.0/16`),
      await signed("Action=NoSuchAction&Version=2016-11-15"),
    ];
    const r = await both([reqs.join("")], { answers: 3 });
    expect(r.edge).toBe(r.http);
    expect(r.viaHttp).toBe(0);
    expect(responses(r.edge)).toBe(3);
    expect(r.edge).toContain("HTTP/1.1 400 Bad Request");
    expect(r.edge).toContain("Connection: keep-alive\r\nKeep-Alive: timeout=65\r\n");
    // One at a time on one connection, too.
    const apart = await both(reqs, { answers: 3, gapMs: 30 });
    expect(apart.edge).toBe(apart.http);
    expect(apart.viaHttp).toBe(0);
  });

  it("hands a connection to node:http at the first request it does not take, answers unchanged", async () => {
    const first = await signed(DESCRIBE);
    const cases: [string, string[]][] = [
      ["HEAD", ["HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"]],
      ["unsigned", ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"]],
      ["an admin path", ["GET /_privlink/nothing HTTP/1.1\r\nHost: x\r\n\r\n"]],
      ["Expect", [await signed(DESCRIBE, { headers: { expect: "100-continue" } })]],
      ["Connection: close", [await signed(DESCRIBE, { extra: ["connection: close"] })]],
      ["a repeated header", [await signed(DESCRIBE, { extra: ["x-extra: a", "X-Extra: b"] })]],
      ["HTTP/1.0", [(await signed(DESCRIBE)).replace("HTTP/1.1", "HTTP/1.0")]],
      ["a 100 KiB body", [await signed(`${DESCRIBE}&x=${"a".repeat(100 * 1024)}`)]],
    ];
    for (const [name, pieces] of cases) {
      const r = await both([first, ...pieces, first], { answers: 3, gapMs: 20 });
      expect(r.edge, name).toBe(r.http);
      expect(r.viaHttp, name).toBeGreaterThan(0);
    }
  });

  it("waits for a body sent after its head, as the AWS CLI and boto3 send it", async () => {
    const [head, body] = (await signed(DESCRIBE)).split("Action=") as [string, string];
    const first = await signed(DESCRIBE);
    // Head and body as two writes: answered by the edge, the same bytes as node:http.
    const split = await both([head, `Action=${body}`, first], { answers: 2, gapMs: 20 });
    expect(split.edge).toBe(split.http);
    expect(responses(split.edge)).toBe(2);
    expect(split.viaHttp).toBe(0);
    // A body that takes longer than the edge waits goes to node:http, then answered alike.
    const slow = await both([first, head, `Action=${body}`], { answers: 2, gapMs: 1_300 });
    expect(slow.edge).toBe(slow.http);
    expect(responses(slow.edge)).toBe(2);
    expect(slow.viaHttp).toBe(1);
    // A client that half-closes before its body is all in: node:http's answer.
    for (const pieces of [
      [head, "Action="],
      [first, head, "Action="],
    ]) {
      const cut = await both(pieces, { end: true, gapMs: 20 });
      expect(cut.edge).toBe(cut.http);
      expect(cut.viaHttp).toBe(0);
    }
  });

  it("leaves malformed and oversized requests to node:http: the same errors", async () => {
    const good = await signed(DESCRIBE);
    const cases: [string, string][] = [
      ["bad content-length", good.replace(/content-length: \d+/, "content-length: 1x")],
      [
        "two content-lengths",
        good.replace(/content-length: (\d+)/, "content-length: $1\r\ncontent-length: $1"),
      ],
      ["chunked", good.replace(/content-length: \d+/, "transfer-encoding: chunked")],
      ["no host", good.replace(/\r\nhost: [^\r]*/, "")],
      ["a folded header", good.replace("\r\nhost:", "\r\n x-fold: y\r\nhost:")],
      ["a bare LF", good.replace("\r\nhost:", "\nhost:")],
      ["a space before the colon", good.replace("host:", "host :")],
      ["a control character", good.replace("\r\nhost:", "\r\nx-c: a\x01b\r\nhost:")],
      ["a 20 KiB header", good.replace("\r\nhost:", `\r\nx-big: ${"a".repeat(20 * 1024)}\r\nhost:`)],
    ];
    for (const [name, text] of cases) {
      const r = await both([text], { end: true });
      expect(r.edge, name).toBe(r.http);
      expect(r.edge, name).toMatch(/^HTTP\/1\.1 4/);
    }
  });

  it("treats a client that half-closes as node:http does", async () => {
    const r = await both([await signed(DESCRIBE)], { end: true });
    expect(r.edge).toBe(r.http);
    // Answered before the server ends its side, by the edge.
    expect(responses(r.edge)).toBe(1);
    expect(r.viaHttp).toBe(0);
  });

  it("answers a connection that sends nothing with node:http's 408 after headersTimeout", async () => {
    const was = withEdge.headersTimeout;
    withEdge.headersTimeout = 200;
    try {
      const got = await exchange(edgePort, []);
      expect(got).toBe("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
    } finally {
      withEdge.headersTimeout = was;
    }
  });

  it("reuses its copy buffer only once the kernel has taken all of it", () => {
    // A socket stand-in: what it was asked to write, and whether it still holds some of it.
    const sock = (pending: number) => ({
      written: [] as Buffer[],
      writableLength: 0,
      destroyed: false,
      write(b: Buffer) {
        this.written.push(b);
        this.writableLength = pending;
        return pending === 0;
      },
    });
    const body = (c: string) => [Buffer.from(c.repeat(1000)), Buffer.from(c.repeat(500))];
    const taken = sock(0);
    expect(writeCopied(taken as never, "H1 ", body("a"))).toBe(true);
    expect(writeCopied(taken as never, "H2 ", body("b"))).toBe(true);
    // All taken at once: the second answer was copied into the same memory.
    expect(taken.written[1]!.buffer).toBe(taken.written[0]!.buffer);
    expect(taken.written[1]!.toString()).toBe(`H2 ${"b".repeat(1500)}`);
    const waiting = sock(100);
    writeCopied(waiting as never, "H3 ", body("c"));
    writeCopied(taken as never, "H4 ", body("d"));
    // The kernel still reads the third answer from its buffer: the fourth went elsewhere.
    expect(waiting.written[0]!.toString()).toBe(`H3 ${"c".repeat(1500)}`);
    expect(taken.written[2]!.buffer).not.toBe(waiting.written[0]!.buffer);
    expect(writeCopied(taken as never, "H5 ", [Buffer.alloc(2 * 1024 * 1024)])).toBe(false);
  });
});
