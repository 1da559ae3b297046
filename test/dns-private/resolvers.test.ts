import dgram from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecurityGroupCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DnsServer, startDnsServer, View } from "../../src/dns/index.js";
import { decode, query } from "../dns/client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  digA,
  digAt,
  eventually,
  makeEndpoint,
  makeVpc,
  resolverOf,
  route53,
  runInstance,
} from "./helpers.js";

/** A stand-in for the machine's resolver, on loopback. */
let upstream: DnsServer;
/** A UDP socket that never answers: forwarding to it must time out, not hang. */
let silent: dgram.Socket;

beforeAll(async () => {
  const view = new View([
    {
      origin: "upstream.test",
      records: [{ name: "www.upstream.test", type: "A", ttl: 30, data: "192.0.2.80" }],
    },
  ]);
  upstream = await startDnsServer({ host: "127.0.0.1", port: 0, view: () => view });
  silent = dgram.createSocket("udp4");
  await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
});
afterAll(async () => {
  await upstream.close();
  silent.close();
});

describe("--dns-forward", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ dnsForward: [`127.0.0.1:${upstream.port}`] });
  });
  afterAll(() => srv.stop());

  it("forwards names privlink does not hold, from the public and the VPC resolvers", async () => {
    const ec2 = srv.ec2();
    const vpc = await makeVpc(ec2, "10.110.0.0/16", ["us-east-1a"]);
    await runInstance(ec2, vpc.subnetIds[0]!);
    for (const host of [srv.dns.publicAddress, await resolverOf(srv, vpc.vpcId)]) {
      expect(await digA(host, srv.dns.port, "www.upstream.test")).toEqual({
        status: "NOERROR",
        addresses: ["192.0.2.80"],
      });
      expect((await digA(host, srv.dns.port, "nope.upstream.test")).status).toBe("NXDOMAIN");
    }
    expect(srv.dns.info().forward).toEqual([`127.0.0.1:${upstream.port}`]);
  });

  it("answers SERVFAIL when the upstream stays silent", async () => {
    const quiet = await startTestServer({
      dnsForward: [`127.0.0.1:${(silent.address() as { port: number }).port}`],
    });
    try {
      const a = await quiet.dns.resolve(undefined, "www.upstream.test", "A");
      expect(a.rcode).toBe("SERVFAIL");
    } finally {
      await quiet.stop();
    }
  }, 15_000);
});

describe("reconciling views", () => {
  let srv: TestServer;
  let ec2: EC2Client;
  beforeAll(async () => {
    srv = await startTestServer();
    ec2 = srv.ec2();
  });
  afterAll(() => srv.stop());

  it("keeps a VPC's View object across unrelated changes and swaps it when its records change", async () => {
    const a = await makeVpc(ec2, "10.120.0.0/16", ["us-east-1a"]);
    const b = await makeVpc(ec2, "10.121.0.0/16", ["us-east-1a"]);
    await makeEndpoint(ec2, a, "com.amazonaws.us-east-1.kms", true);
    const viewA = srv.dns.view(a.vpcId);
    const viewB = srv.dns.view(b.vpcId);
    await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "unrelated", Description: "x", VpcId: b.vpcId }),
    );
    expect(srv.dns.view(a.vpcId)).toBe(viewA);
    await makeEndpoint(ec2, b, "com.amazonaws.us-east-1.sqs", true);
    expect(srv.dns.view(a.vpcId)).toBe(viewA);
    expect(srv.dns.view(b.vpcId)).not.toBe(viewB);
    expect(srv.dns.view(b.vpcId).resolve("sqs.us-east-1.amazonaws.com", "A").answers).toHaveLength(1);
  });

  it("serves repeated queries from the prepared-answer cache of an unchanged view", async () => {
    const v = await makeVpc(ec2, "10.122.0.0/16", ["us-east-1a"]);
    await makeEndpoint(ec2, v, "com.amazonaws.us-east-1.logs", true);
    const addr = await resolverOf(srv, v.vpcId);
    const first = await digAt(addr, srv.dns.port, ["logs.us-east-1.amazonaws.com", "A"]);
    const second = await digAt(addr, srv.dns.port, ["LOGS.us-east-1.amazonaws.com", "A"]);
    expect(second.answer.map((f) => f[4])).toEqual(first.answer.map((f) => f[4]));
    expect(first.answer).toHaveLength(1);
  });

  it("survives random and malformed packets on a VPC resolver", async () => {
    const v = await makeVpc(ec2, "10.123.0.0/16", ["us-east-1a"]);
    await runInstance(ec2, v.subnetIds[0]!);
    const addr = await resolverOf(srv, v.vpcId);
    const sock = dgram.createSocket("udp4");
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 255;
    };
    for (let i = 0; i < 300; i++) {
      const len = rnd() % 64;
      sock.send(Buffer.from(Array.from({ length: len }, rnd)), srv.dns.port, addr);
    }
    // UDP may drop under a flood: ask again (bounded) until the resolver answers.
    const good = query("nothing.invalid", "A");
    const reply = await new Promise<Buffer>((resolve, reject) => {
      let tries = 0;
      const timer = setInterval(() => {
        if (++tries > 25) {
          clearInterval(timer);
          reject(new Error("no answer after the flood"));
        } else sock.send(good, srv.dns.port, addr);
      }, 200);
      sock.on("message", (m) => {
        if (m.length >= 2 && m.readUInt16BE(0) === 4242) {
          clearInterval(timer);
          resolve(m);
        }
      });
      sock.send(good, srv.dns.port, addr);
    });
    sock.close();
    expect(decode(reply).rcode).toBe("NXDOMAIN");
  });
});

describe("restart", () => {
  it("rebuilds every view from the persisted state", async () => {
    const home = mkdtempSync(join(tmpdir(), "privlink-dns-restart-"));
    try {
      const first = await startTestServer({ home });
      const ec2 = first.ec2();
      const vpc = await makeVpc(ec2, "10.130.0.0/16", ["us-east-1a"]);
      await makeEndpoint(ec2, vpc, "com.amazonaws.us-east-1.ssm", true);
      const zone = await route53(first).send(
        new CreateHostedZoneCommand({ Name: "persist.test", CallerReference: "persist-1" }),
      );
      await route53(first).send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone.HostedZone!.Id!,
          ChangeBatch: {
            Changes: [
              {
                Action: "CREATE",
                ResourceRecordSet: {
                  Name: "www.persist.test",
                  Type: "A",
                  TTL: 60,
                  ResourceRecords: [{ Value: "192.0.2.44" }],
                },
              },
            ],
          },
        }),
      );
      const before = await digA(
        await resolverOf(first, vpc.vpcId),
        first.dns.port,
        "ssm.us-east-1.amazonaws.com",
      );
      expect(before.addresses).toHaveLength(1);
      await first.stop();
      const second = await startTestServer({ home });
      try {
        const addr = await resolverOf(second, vpc.vpcId);
        const after = await eventually(
          () => digA(addr, second.dns.port, "ssm.us-east-1.amazonaws.com"),
          (r) => r.addresses.length > 0,
        );
        expect(after).toEqual(before);
        expect((await digA(second.dns.publicAddress, second.dns.port, "www.persist.test")).addresses).toEqual(
          ["192.0.2.44"],
        );
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
