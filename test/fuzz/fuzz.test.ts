import { connect, type Socket } from "node:net";
import { cbor } from "@smithy/core/cbor";
import { describe, expect, it, vi } from "vitest";
import { corpus, fuzz, isDeliberateNotImplemented, SERVICES, TARGETS } from "../../bench/fuzz.js";
import { socketPair } from "../../bench/fuzz-pipe.js";
import { startNetWorld } from "../../bench/net-world.js";
import { dispatchAws } from "../../src/api/dispatch.js";
import { ensureDefaultAccount } from "../../src/cloud/account.js";
import { systemRuntime } from "../../src/cloud/runtime.js";
import { State } from "../../src/cloud/state.js";
import { startTestServer, testPublicDns, workerSlots } from "../helpers/server.js";

describe("fuzzed wire parsers (npm run fuzz, short)", () => {
  for (const target of TARGETS)
    it(`${target}: 10,000 mutated real requests crash nothing and answer no 5xx`, async () => {
      const r = await fuzz(target, {
        count: 10_000,
        seconds: 120,
        seed: 16,
        slots: workerSlots(),
        publicDns: testPublicDns(),
      });
      console.log(`${target}: ${r.inputs} inputs, ${JSON.stringify(r.statuses)}, heap +${r.heapGrowthMb} MB`);
      expect(r.findings).toEqual([]);
      expect(r.inputs).toBe(10_000);
    }, 180_000);
});

describe("fuzzed socket targets in-process (npm run fuzz -- TARGET --in-process)", () => {
  for (const target of ["http", "dns", "tls", "connect"] as const)
    it(`${target}: 1,000 inputs through in-memory sockets into the same handlers crash nothing`, async () => {
      const r = await fuzz(target, {
        count: 1000,
        seconds: 120,
        seed: 17,
        slots: workerSlots(),
        publicDns: testPublicDns(),
        inProcess: true,
      });
      expect(r.findings).toEqual([]);
      expect(r.inputs).toBe(1000);
      // The inputs reached the parsers: answers of more than one kind, not only closed sockets.
      expect(Object.keys(r.statuses).length).toBeGreaterThan(1);
    }, 180_000);
});

describe("the fuzz corpus and the fuzz property", () => {
  it("every seed, unmutated, reaches its service's handlers: no 5xx, no NotImplemented", async () => {
    const state = new State();
    state.transact((tx) => ensureDefaultAccount(tx, systemRuntime));
    const opts = { state, rt: systemRuntime, host: { slots: { min: 1, max: 254 } }, auth: "open" as const };
    const reached = new Set<string>();
    for (const dir of ["query", "json", "rest-xml"])
      for (const seed of corpus(dir)) {
        const headersDistinct = Object.fromEntries(Object.entries(seed.headers).map(([k, v]) => [k, [v]]));
        const res = await dispatchAws({ ...opts, services: SERVICES }, { ...seed, headersDistinct });
        const body = typeof res.body === "string" ? res.body : Buffer.from(res.body).toString("latin1");
        expect(res.status, `${dir} ${seed.url} ${body}`).toBeLessThan(500);
        reached.add(/Credential=\w+\/\d+\/[^/]+\/([^/]+)\//.exec(seed.headers.authorization ?? "")![1]!);
      }
    // The fuzzer covers every service the edge serves.
    expect([...reached].sort()).toEqual(Object.keys(SERVICES).sort());
  });

  it("accepts a 501 only as NotImplemented for a service privlink does not serve", () => {
    const served = Object.keys(SERVICES);
    const json = (name: string) =>
      JSON.stringify({
        __type: "NotImplemented",
        message: `privlink does not implement the AWS service '${name}'. x`,
      });
    expect(isDeliberateNotImplemented(501, json("secetsmanager"), served)).toBe(true);
    expect(
      isDeliberateNotImplemented(
        501,
        "<ErrorResponse><Error><Code>NotImplemented</Code><Message>privlink does not implement the AWS service &apos;e0c2&apos;. x</Message></Error></ErrorResponse>",
        served,
      ),
    ).toBe(true);
    // A served service answering 501, another 5xx, or another code stay findings.
    expect(isDeliberateNotImplemented(501, json("logs"), served)).toBe(false);
    expect(isDeliberateNotImplemented(500, json("secetsmanager"), served)).toBe(false);
    expect(isDeliberateNotImplemented(501, '{"__type":"InternalError","message":"x"}', served)).toBe(false);
  });
});

describe("fuzz regressions (test/fuzz/corpus/regressions)", () => {
  const replay = (seed: ReturnType<typeof corpus>[number]) => {
    const state = new State();
    state.transact((tx) => ensureDefaultAccount(tx, systemRuntime));
    return dispatchAws(
      { state, rt: systemRuntime, host: { slots: { min: 1, max: 254 } }, auth: "open", services: SERVICES },
      {
        ...seed,
        headersDistinct: Object.fromEntries(Object.entries(seed.headers).map(([k, v]) => [k, [v]])),
      },
    );
  };

  it("every regression input answers below 500 and prints nothing to the console", async () => {
    const printed = (["log", "warn", "error", "info"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => undefined),
    );
    try {
      for (const seed of corpus("regressions")) {
        const res = await replay(seed);
        expect(res.status, `${seed.url} ${String(res.body)}`).toBeLessThan(500);
      }
      for (const spy of printed) expect(spy.mock.calls).toEqual([]);
    } finally {
      for (const spy of printed) spy.mockRestore();
    }
  });

  it("CBOR lengths past the body, integer map keys and bignums of an integer are AWS's SerializationException, printing nothing", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const seeds = corpus("regressions").filter((s) => s.headers["content-type"] === "application/cbor");
      expect(seeds.length).toBe(3);
      for (const seed of seeds) {
        const res = await replay(seed);
        expect(res.status).toBe(400);
        const body = cbor.deserialize(new Uint8Array(res.body as Uint8Array)) as Record<string, string>;
        expect(body.__type).toMatch(/SerializationException$/);
        expect(body.message).toMatch(/^Cannot read the CBOR body: /);
      }
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it("the workload proxy dials nothing for a client gone while its flow was decided (in-process connect finding)", async () => {
    // In-process, about 1 connect input in 3,000 left a connection to the echo target open: an
    // absolute-URL request whose client closed during the (asynchronous) flow decision was
    // still forwarded, and nothing ever ended that upstream request. Here every client closes
    // at once, so its close always lands during the decision.
    const w = await startNetWorld({ slots: workerSlots(), publicDns: testPublicDns() });
    try {
      const echoIp = w.p.state.get(
        "eni",
        w.p.state.get("vpcEndpoint", w.echo.endpointId)!.enis[0]!.eniId,
      )!.privateIp;
      const heads = [
        `GET http://${echoIp}:7070/ HTTP/1.1\r\nHost: ${echoIp}:7070\r\nContent-Length: 2\r\n\r\nhi`,
        `CONNECT ${echoIp}:7070 HTTP/1.1\r\nHost: ${echoIp}:7070\r\n\r\n`,
      ];
      for (const head of heads)
        for (let i = 0; i < 20; i++) {
          const { client, server } = socketPair(w.workloadHost, w.proxy.host, w.proxy.port);
          void w.p.dataplane.proxies.accept(w.instanceId, server as unknown as Socket);
          client.write(head);
          client.destroy();
        }
      // A connection dialed for a gone client stays open (until the 350 s idle limit): give any
      // such dial time to land, then the target must hold nothing.
      await new Promise((r) => setTimeout(r, 1000));
      for (let i = 0; i < 50 && w.echoOpen() > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(w.echoOpen()).toBe(0);
    } finally {
      await w.close();
    }
  }, 60_000);

  it("the edge answers '//' and '//host/x' targets without a 500", async () => {
    const srv = await startTestServer();
    try {
      for (const target of ["//", "//evil.example/x", "//_privlink/reset"]) {
        const answer = await new Promise<string>((resolve) => {
          let got = "";
          const sock = connect(srv.port, "127.0.0.1");
          sock.on("data", (d) => (got += d));
          sock.on("close", () => resolve(got));
          sock.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        });
        expect(answer, target).not.toMatch(/^HTTP\/1\.1 5/);
      }
    } finally {
      await srv.stop();
    }
  });
});
