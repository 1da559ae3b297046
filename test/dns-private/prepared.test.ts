/**
 * Prepared answers never outlive what they were made from: on every name path (the asking VPC's
 * own names, other VPCs' endpoint names through the public view, the public view, private hosted
 * zones, FORWARD rules), an answer asked often enough to be prepared changes with the very next
 * query after the commit that changes it. Also: forwarded answers last no longer than their TTL,
 * the client's case is echoed, and pipelined TCP queries all get their answers. Queries go over
 * real sockets (dig, raw UDP/TCP) to the resolvers built from the state.
 */

import dgram from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildDnsWorld,
  changeRecords,
  type DnsWorld,
  endpointIn,
  FORWARDED,
  FORWARDED_ADDRESS,
  PHZ,
  PUBLIC_ZONE,
  regionalName,
  settle,
  startForwardTarget,
} from "../../bench/dns-world.js";
import { deleteVpcEndpoints } from "../../src/cloud/endpoint-connections.js";
import { modifyVpcEndpoint } from "../../src/cloud/endpoint-modify.js";

import { associateVpc, disassociateVpc } from "../../src/cloud/hosted-zone.js";
import {
  associateResolverRule,
  createResolverRule,
  disassociateResolverRule,
} from "../../src/cloud/resolver-endpoint.js";
import { type Resolvers, startResolvers } from "../../src/dns/resolvers.js";
import type { DnsServer } from "../../src/dns/server.js";
import { decode, hasDig, query, tcpExchange, udpExchange } from "../dns/client.js";
import { testPublicDns, workerSlots } from "../helpers/server.js";
import { digA, digAt, resolverOf } from "./helpers.js";

let w: DnsWorld;
let dns: Resolvers;
let target: DnsServer & { asked(): number };
let resolverA: string;
let resolverB: string;

/** The resolver answers as its prepared copy would: ask twice, the second from prepared bytes. */
async function twice(host: string, name: string): Promise<{ status: string; addresses: string[] }> {
  const first = await digA(host, dns.port, name);
  const second = await digA(host, dns.port, name);
  expect(second).toEqual(first);
  return second;
}

beforeAll(async () => {
  w = buildDnsWorld(3, workerSlots());
  dns = await startResolvers({ state: w.state, port: 0, publicAddress: testPublicDns(), fullRebuildMs: 0 });
  target = await startForwardTarget(w, dns.port);
  resolverA = await resolverOf({ dns } as never, w.a.vpcId);
  resolverB = await resolverOf({ dns } as never, w.b.vpcId);
});
afterAll(async () => {
  await target?.close();
  await dns?.close();
});

describe.skipIf(!hasDig)("prepared answers follow every change (dig)", () => {
  it("a private hosted zone: a record upsert and delete show at once", async () => {
    const name = `host-0.${PHZ}`;
    expect(await twice(resolverA, name)).toEqual({ status: "NOERROR", addresses: ["172.16.1.10"] });
    changeRecords(w, w.phzId, [{ action: "UPSERT", name, type: "A", ttl: 300, values: ["172.16.1.99"] }]);
    expect(await twice(resolverA, name)).toEqual({ status: "NOERROR", addresses: ["172.16.1.99"] });
    changeRecords(w, w.phzId, [{ action: "DELETE", name, type: "A", ttl: 300, values: ["172.16.1.99"] }]);
    expect((await twice(resolverA, name)).status).toBe("NXDOMAIN");
  });

  it("a zone association: the VPC answers from the zone at once, and stops at once", async () => {
    const name = `host-1.${PHZ}`;
    // Not associated: b asks the public view, which has no such zone.
    expect((await twice(resolverB, name)).status).toBe("NXDOMAIN");
    const vpc = { vpcId: w.b.vpcId, vpcRegion: "us-east-1" };
    w.state.transact((tx) => associateVpc(tx, w.ctx, w.phzId, vpc));
    expect(await twice(resolverB, name)).toEqual({ status: "NOERROR", addresses: ["172.16.1.11"] });
    w.state.transact((tx) => disassociateVpc(tx, w.ctx, w.phzId, vpc));
    expect((await twice(resolverB, name)).status).toBe("NXDOMAIN");
  });

  it("another VPC's endpoint name: gone from the asking VPC's answers as soon as it is deleted", async () => {
    const e = endpointIn(w, w.b, "com.amazonaws.us-east-1.sqs");
    settle(w);
    const name = regionalName(w, e.id);
    const answer = await twice(resolverA, name);
    expect(answer.status).toBe("NOERROR");
    expect(answer.addresses).toHaveLength(2);
    w.state.transact((tx) => deleteVpcEndpoints(tx, w.ctx, [e.id]));
    settle(w);
    expect((await twice(resolverA, name)).status).toBe("NXDOMAIN");
  });

  it("an endpoint created with private DNS takes over the public answer in its VPC at once", async () => {
    const name = "secretsmanager.us-east-1.amazonaws.com";
    const before = await twice(resolverB, name);
    expect(before).toEqual({ status: "NOERROR", addresses: ["127.0.0.1"] });
    const e = endpointIn(w, w.b, "com.amazonaws.us-east-1.secretsmanager", true);
    settle(w);
    const after = await twice(resolverB, name);
    expect(after.addresses).toHaveLength(2);
    expect(after.addresses).not.toContain("127.0.0.1");
    w.state.transact((tx) => deleteVpcEndpoints(tx, w.ctx, [e.id]));
    settle(w);
    expect(await twice(resolverB, name)).toEqual(before);
  });

  it("the private DNS toggle: off gives the public answer at once, on the endpoint's again", async () => {
    const name = w.names.private;
    const e = [...w.state.all("vpcEndpoint")].find((x) => x.vpcId === w.a.vpcId && x.privateDnsEnabled)!;
    const privateAnswer = await twice(resolverA, name);
    expect(privateAnswer.addresses).toHaveLength(2);
    w.state.transact((tx) => modifyVpcEndpoint(tx, w.ctx, e.id, { privateDnsEnabled: false }));
    expect(await twice(resolverA, name)).toEqual({ status: "NOERROR", addresses: ["127.0.0.1"] });
    w.state.transact((tx) => modifyVpcEndpoint(tx, w.ctx, e.id, { privateDnsEnabled: true }));
    expect(await twice(resolverA, name)).toEqual(privateAnswer);
  });

  it("a public hosted zone change shows at once from the public resolver and from a VPC", async () => {
    const name = `www-2.${PUBLIC_ZONE}`;
    for (const host of [dns.publicAddress, resolverB])
      expect(await twice(host, name)).toEqual({ status: "NOERROR", addresses: ["192.0.2.3"] });
    changeRecords(w, w.publicZoneId, [
      { action: "UPSERT", name, type: "A", ttl: 300, values: ["192.0.2.77"] },
    ]);
    for (const host of [dns.publicAddress, resolverB])
      expect(await twice(host, name)).toEqual({ status: "NOERROR", addresses: ["192.0.2.77"] });
  });

  it("FORWARD rules: an association, a disassociation and a new rule each change the answer at once", async () => {
    const name = `h-0.${FORWARDED}`;
    const asked = target.asked();
    expect(await twice(resolverA, name)).toEqual({ status: "NOERROR", addresses: [FORWARDED_ADDRESS] });
    // Asked twice, forwarded once: the second came from the prepared answer (or the TTL cache).
    expect(target.asked() - asked).toBe(1);
    w.state.transact((tx) => disassociateResolverRule(tx, w.ctx, { ruleId: w.ruleId, vpcId: w.a.vpcId }));
    expect((await twice(resolverA, name)).status).toBe("NXDOMAIN");
    w.state.transact((tx) => associateResolverRule(tx, w.ctx, { ruleId: w.ruleId, vpcId: w.a.vpcId }));
    expect(await twice(resolverA, name)).toEqual({ status: "NOERROR", addresses: [FORWARDED_ADDRESS] });

    // A name answered (and prepared) from the public view, then covered by a new rule.
    const pub = `www-1.${PUBLIC_ZONE}`;
    expect(await twice(resolverA, pub)).toEqual({ status: "NOERROR", addresses: ["192.0.2.2"] });
    const rule = w.state.transact((tx) => {
      const r = createResolverRule(tx, w.ctx, {
        creatorRequestId: "example",
        ruleType: "FORWARD",
        domainName: PUBLIC_ZONE,
        targetIps: w.state.get("resolverRule", w.ruleId)!.targetIps.map((t) => ({ Ip: t.ip, Port: t.port })),
        resolverEndpointId: w.outboundId,
      });
      associateResolverRule(tx, w.ctx, { ruleId: r.id, vpcId: w.a.vpcId });
      return r;
    });
    expect(await twice(resolverA, pub)).toEqual({ status: "NOERROR", addresses: [FORWARDED_ADDRESS] });
    w.state.transact((tx) => disassociateResolverRule(tx, w.ctx, { ruleId: rule.id, vpcId: w.a.vpcId }));
    expect(await twice(resolverA, pub)).toEqual({ status: "NOERROR", addresses: ["192.0.2.2"] });
  });
});

describe.skipIf(!hasDig)("forwarded answers and their TTL", () => {
  it("are kept no longer than their TTL, which counts down while kept", async () => {
    // The same DNS server with a 2-second TTL, in place of the long-TTL one.
    await target.close();
    const t = await startForwardTarget(w, dns.port, 2);
    try {
      const name = `ttl.${FORWARDED}`;
      const asked = t.asked();
      const first = await digAt(resolverA, dns.port, [name, "A"]);
      expect(first.answer[0]?.[1]).toBe("2");
      await new Promise((r) => setTimeout(r, 1100));
      const second = await digAt(resolverA, dns.port, [name, "A"]);
      expect(t.asked() - asked).toBe(1);
      expect(Number(second.answer[0]?.[1])).toBeLessThan(2);
      await new Promise((r) => setTimeout(r, 1100));
      const third = await digAt(resolverA, dns.port, [name, "A"]);
      expect(third.answer[0]?.[4]).toBe(FORWARDED_ADDRESS);
      // The TTL ran out: the resolver asked the target again.
      expect(t.asked() - asked).toBe(2);
    } finally {
      await t.close();
      target = await startForwardTarget(w, dns.port);
    }
  });
});

describe("the wire of prepared answers", () => {
  it("echoes the question in the client's case, prepared or not", async () => {
    const asks = ["HoSt-2.CoRp.InTeRnAl", "hOsT-2.cOrP.iNtErNaL", "HOST-2.CORP.INTERNAL"];
    for (const name of asks) {
      const reply = decode(
        await udpExchange(dns.port, query(name, "A", { id: 777, edns: 1232 }), 3000, resolverA),
      );
      expect(reply.id).toBe(777);
      expect(reply.questions?.[0]?.name).toBe(name);
      expect(reply.answers.map((a) => [a.name, a.data])).toEqual([[name, "172.16.1.12"]]);
    }
  });

  it("gives each of a burst of UDP queries for one prepared answer its own ID and case", async () => {
    const base = `host-2.${PHZ}`;
    const variants = Array.from({ length: 120 }, (_, i) =>
      [...base].map((c, j) => ((i >> (j % 9)) & 1 ? c.toUpperCase() : c)).join(""),
    );
    const sock = dgram.createSocket("udp4");
    const got = new Map<number, string>();
    const done = new Promise<void>((resolve) => {
      sock.on("message", (m) => {
        const r = decode(m);
        got.set(r.id ?? -1, `${r.questions?.[0]?.name} ${r.answers[0]?.name} ${r.answers[0]?.data}`);
        if (got.size === variants.length) resolve();
      });
    });
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    // All sent before any reply is read (few enough to fit the sockets' receive buffers).
    for (const [i, name] of variants.entries())
      sock.send(query(name, "A", { id: 5000 + i }), dns.port, resolverA);
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    sock.close();
    expect(got.size).toBe(variants.length);
    for (const [i, name] of variants.entries()) expect(got.get(5000 + i)).toBe(`${name} ${name} 172.16.1.12`);
  });

  it("answers every query pipelined on one TCP connection, each with its own ID", async () => {
    const names = [
      `host-2.${PHZ}`,
      `pipe-1.${FORWARDED}`,
      w.names.own[0]!,
      `pipe-2.${FORWARDED}`,
      w.names.other[0]!,
      `www-0.${PUBLIC_ZONE}`,
      `nope.${PHZ}`,
    ];
    const msgs = names.map((n, i) => query(n, "A", { id: 1000 + i }));
    const replies = (await tcpExchange(dns.port, msgs, msgs.length, { host: resolverA })).map(decode);
    expect(replies.map((r) => r.id).sort()).toEqual(names.map((_, i) => 1000 + i));
    for (const r of replies) {
      const i = (r.id ?? 0) - 1000;
      expect(r.questions?.[0]?.name).toBe(names[i]);
      expect(r.rcode).toBe(i === names.length - 1 ? "NXDOMAIN" : "NOERROR");
    }
    // Asked again on one connection: now every answer is prepared, still each with its own ID.
    const again = (await tcpExchange(dns.port, msgs, msgs.length, { host: resolverA })).map(decode);
    expect(again.map((r) => r.id).sort()).toEqual(names.map((_, i) => 1000 + i));
  });
});
