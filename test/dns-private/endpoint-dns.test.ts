import {
  DeleteVpcEndpointsCommand,
  DescribeNetworkInterfacesCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AWS_PUBLIC_ADDRESS } from "../../src/dns/records.js";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  digA,
  digAt,
  eventually,
  makeEndpoint,
  makeVpc,
  type Net,
  nodeResolver,
  resolverOf,
  runInstance,
} from "./helpers.js";

const SM = "secretsmanager.us-east-1.amazonaws.com";

let srv: TestServer;
let ec2: EC2Client;
let app: Net;
let other: Net;
let ep: Awaited<ReturnType<typeof makeEndpoint>>;
let eniHosts: string[];

beforeAll(async () => {
  srv = await startTestServer();
  ec2 = srv.ec2();
  app = await makeVpc(ec2, "10.10.0.0/16");
  other = await makeVpc(ec2, "10.20.0.0/16", ["us-east-1a"]);
  await runInstance(ec2, other.subnetIds[0]!);
  ep = await makeEndpoint(ec2, app, "com.amazonaws.us-east-1.secretsmanager", true);
  const enis = await ec2.send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "vpc-id", Values: [app.vpcId] }] }),
  );
  eniHosts = enis.NetworkInterfaces!.map((e) => hostOf(e.PrivateIpAddress!)).sort();
});
afterAll(() => srv.stop());

/** 10.10.a.b in the app VPC → 127.S.a.b, S being the app VPC's slot. */
function hostOf(ip: string): string {
  const slot = srv.state.get("vpc", app.vpcId)!.cidrBlocks[0]!.slot!;
  const [, , c, d] = ip.split(".");
  return `127.${slot}.${c}.${d}`;
}

describe("endpoint DNS through the running resolvers", () => {
  it("listens on 127.S.0.2 for each VPC with a slot and on the public address", async () => {
    const addr = await resolverOf(srv, app.vpcId);
    expect(addr).toBe(hostOf("10.10.0.2"));
    const info = srv.dns.info();
    expect(info.publicResolver).toMatch(/^127\.0\./);
    expect(["default", "fallback", "PRIVLINK_DNS_PORT", "option"]).toContain(info.portSource);
    const health = (await (await adminFetch(srv, `/_privlink/health`)).json()) as { dns: unknown };
    expect(health.dns).toMatchObject({ port: info.port, publicResolver: info.publicResolver });
  });

  it("answers the private name with the endpoint ENIs' host addresses inside its VPC", async () => {
    const addr = await resolverOf(srv, app.vpcId);
    const r = await eventually(
      () => digA(addr, srv.dns.port, SM),
      (v) => v.addresses.length === 2,
    );
    expect(r.status).toBe("NOERROR");
    expect(r.addresses).toEqual(eniHosts);
    const dig = await digAt(addr, srv.dns.port, [SM.toUpperCase(), "A"]);
    expect(dig.answer.every((f) => f[1] === "60")).toBe(true);
  });

  it("answers the public address for the same name in another VPC and from the public resolver", async () => {
    const addr = await resolverOf(srv, other.vpcId);
    expect(await digA(addr, srv.dns.port, SM)).toEqual({
      status: "NOERROR",
      addresses: [AWS_PUBLIC_ADDRESS],
    });
    expect(await digA(srv.dns.publicAddress, srv.dns.port, SM)).toEqual({
      status: "NOERROR",
      addresses: [AWS_PUBLIC_ADDRESS],
    });
  });

  it("resolves the regional and zonal names everywhere, with node:dns too", async () => {
    const where = [
      await resolverOf(srv, app.vpcId),
      await resolverOf(srv, other.vpcId),
      srv.dns.publicAddress,
    ];
    for (const host of where) {
      expect((await digA(host, srv.dns.port, ep.regional)).addresses).toEqual(eniHosts);
      const zonal = await Promise.all(ep.zonal.map((z) => nodeResolver(host, srv.dns.port).resolve4(z)));
      expect(zonal.map((z) => z.length)).toEqual([1, 1]);
      expect(zonal.flat().sort()).toEqual(eniHosts);
    }
  });

  it("gives NXDOMAIN for unknown names and NODATA with an SOA for AAAA of an endpoint name", async () => {
    const addr = await resolverOf(srv, app.vpcId);
    const nx = await digAt(addr, srv.dns.port, ["no-such-name.example.invalid", "A"]);
    expect(nx.status).toBe("NXDOMAIN");
    const nodata = await digAt(srv.dns.publicAddress, srv.dns.port, [ep.regional, "AAAA"]);
    expect(nodata.status).toBe("NOERROR");
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority[0]?.[3]).toBe("SOA");
  });

  it("resolves in-process for the data plane without a socket", async () => {
    const inside = await srv.dns.resolve(app.vpcId, SM, "A");
    expect(inside.answers.map((a) => a.data).sort()).toEqual(eniHosts);
    const outside = await srv.dns.resolve(other.vpcId, SM, "A");
    expect(outside.answers.map((a) => a.data)).toEqual([AWS_PUBLIC_ADDRESS]);
    expect((await srv.dns.resolve("vpc-0000000000000000f", SM, "A")).rcode).toBe("REFUSED");
  });

  it("drops the records when the endpoint is deleted", async () => {
    const e2 = await makeEndpoint(ec2, other, "com.amazonaws.us-east-1.sqs", true);
    const addr = await resolverOf(srv, other.vpcId);
    const sqs = "sqs.us-east-1.amazonaws.com";
    const before = await eventually(
      () => digA(addr, srv.dns.port, sqs),
      (v) => v.addresses[0] !== AWS_PUBLIC_ADDRESS,
    );
    expect(before.addresses).toHaveLength(1);
    expect(before.addresses[0]).not.toBe(AWS_PUBLIC_ADDRESS);
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e2.id] }));
    const after = await eventually(
      () => digA(addr, srv.dns.port, sqs),
      (v) => v.addresses[0] === AWS_PUBLIC_ADDRESS,
    );
    expect(after.addresses).toEqual([AWS_PUBLIC_ADDRESS]);
    const gone = await eventually(
      () => digA(addr, srv.dns.port, e2.regional),
      (v) => v.status === "NXDOMAIN",
    );
    expect(gone.status).toBe("NXDOMAIN");
  });
});
