/**
 * In-process A/B of the API server's CPU per request between builds (each a worktree with its
 * `dist/`), for a loaded machine where only interleaved figures mean anything: every build gets
 * its own state (same seeding), server and SDK-signed raw requests in this one process, and rounds
 * alternate between the builds (order reversed every other round).
 *
 *   node bench/api-cpu-ab.mjs SIZE CASE[,CASE…] FRESH(0|1) loop|sock|proc ROUNDS N DIR...
 *
 * `loop`: the edge's parse and dispatchAws, no socket (the code the edge and dispatch own).
 * `sock`: raw requests over 4 keep-alive connections to the build's server; the client runs in
 * this process too, so its CPU is in the figure (the same for every build: compare, not read).
 * `proc`: bench/api-cpu.ts's harness, the server's CPU alone: this worktree's raw replay client
 * (bench/raw-replay.mjs) in a process of its own sends the SDK's signed bytes over 4 keep-alive
 * connections (this process pinned to core 0, the client to core 1, as api-cpu.ts pins them).
 * Cases (bench/api-cpu.ts's): `dve` DescribeVpcEndpoints vpc-id filter; `dni`
 * DescribeNetworkInterfaces subnet-id filter; `vpcs` DescribeVpcs tag filter; `subnets`
 * DescribeSubnets vpc-id filter; `sgs` DescribeSecurityGroups vpc-id and group-name filters (the
 * last three over api-cpu.ts's wide VPC: 50 VPCs tagged, 50 subnets and groups in one VPC).
 * FRESH=1: each request a different MaxResults (900 of them, cycled across rounds: more than the
 * prepared answers keep, so none repeats), as bench/api-cpu.ts's "new read" rows. Several cases
 * (comma-separated) share each build's state and server: a round runs every case on every build.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { signAll } from "./raw-replay.mjs";

const [size, kaseList, fresh, mode, rounds, n, ...dirs] = process.argv.slice(2);
const N = Number(n);
const kases = kaseList.split(",");

async function setup(dir) {
  const imp = (p) => import(join(dir, "dist", p));
  const [ec2, server, account, runtime, state, sqlite, fixture, edge, dispatch, vpc, subnet, sg] =
    await Promise.all(
      [
        "src/api/ec2/index.js",
        "src/api/server.js",
        "src/cloud/account.js",
        "src/cloud/runtime.js",
        "src/cloud/state.js",
        "src/store/sqlite.js",
        "bench/api-fixture.js",
        "src/api/edge.js",
        "src/api/dispatch.js",
        "src/cloud/vpc.js",
        "src/cloud/subnet.js",
        "src/cloud/security-group.js",
      ].map(imp),
    );
  const home = mkdtempSync(join(tmpdir(), "privlink-ab-"));
  const rt = runtime.systemRuntime;
  const store = new sqlite.SqliteStore(join(home, "state.db"));
  const st = new state.State(store);
  st.transact((tx) => account.ensureDefaultAccount(tx, rt));
  const host = { slots: { min: 1, max: 254 } };
  const accountId = "000000000000";
  const ctx = { accountId, region: "us-east-1", principalArn: `arn:aws:iam::${accountId}:root`, rt, host };
  const wide = seedWide(st, ctx, vpc, subnet, sg);
  fixture.seed(st, ctx, fixture.seedServices(), 0, Number(size), { n: 0 });
  const opts = { state: st, rt, host, auth: "verify", services: { ec2: ec2.ec2Handlers }, admin: {} };
  const srv = server.createApiServer(opts);
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = srv.address().port;
  const probe = [...st.all("vpcEndpoint")].at(-1);
  const cases = {
    dve: ["DescribeVpcEndpoints", { Filters: [{ Name: "vpc-id", Values: [probe.vpcId] }] }],
    dni: ["DescribeNetworkInterfaces", { Filters: [{ Name: "subnet-id", Values: [probe.subnetIds[0]] }] }],
    vpcs: ["DescribeVpcs", { Filters: [{ Name: "tag:bench", Values: ["wide"] }] }],
    subnets: ["DescribeSubnets", { Filters: [{ Name: "vpc-id", Values: [wide] }] }],
    sgs: [
      "DescribeSecurityGroups",
      {
        Filters: [
          { Name: "vpc-id", Values: [wide] },
          { Name: "group-name", Values: ["g*"] },
        ],
      },
    ],
  };
  const perCase = {};
  for (const kase of kases) {
    const [command, input] = cases[kase];
    const inputs =
      fresh === "1" ? Array.from({ length: 900 }, (_, i) => ({ ...input, MaxResults: 51 + i })) : [input];
    // The bytes the SDK would send, captured as bench/raw-replay.mjs captures them.
    const reqs = await signAll({ host: "127.0.0.1", port, command, inputs });
    perCase[kase] = {
      dir,
      port,
      reqs,
      spec: { host: "127.0.0.1", port, command, inputs },
      at: 0,
      edge,
      dispatch,
      opts,
    };
  }
  const close = async () => {
    srv.closeAllConnections();
    await new Promise((resolve) => srv.close(resolve));
    store.close();
    rmSync(home, { recursive: true, force: true });
  };
  return { dir, perCase, close };
}

/** bench/api-cpu.ts's seedWide, with the build's own modules: its wide VPC's ID. */
function seedWide(st, ctx, vpc, subnet, sg) {
  return st.transact((tx) => {
    vpc.ensureRegion(tx, ctx);
    for (let i = 0; i < 50; i++)
      vpc.createVpc(tx, ctx, { cidr: `172.16.${i}.0/24`, tags: { bench: "wide" } });
    const v = vpc.createVpc(tx, ctx, { cidr: "192.168.0.0/16" });
    for (let i = 0; i < 50; i++) {
      subnet.createSubnet(tx, ctx, { vpcId: v.id, cidr: `192.168.${i}.0/24`, az: "us-east-1a" });
      sg.createSecurityGroup(tx, ctx, { vpcId: v.id, name: `g${i}`, description: "bench" });
    }
    return v.id;
  });
}

const anyAuth = { take: () => true, answer: async () => ({}) };

async function loopRound(b, count) {
  const cpu = process.cpuUsage();
  for (let k = 0; k < count; k++) {
    const p = b.edge.parse(b.reqs[b.at++ % b.reqs.length], anyAuth);
    const out = await b.dispatch.dispatchAws(b.opts, p.req);
    if (out.status !== 200) throw new Error(`status ${out.status}`);
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / count;
}

function sockRound(b, count) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    const sockets = [];
    const cpu = process.cpuUsage();
    for (let c = 0; c < 4; c++) {
      const s = connect(b.port, "127.0.0.1");
      let buf = Buffer.alloc(0);
      let want = -1;
      const send = () => {
        if (sent >= count) return;
        sent++;
        s.write(b.reqs[b.at++ % b.reqs.length]);
      };
      s.on("connect", send);
      s.on("error", reject);
      s.on("data", (d) => {
        buf = buf.length > 0 ? Buffer.concat([buf, d]) : d;
        for (;;) {
          if (want < 0) {
            const end = buf.indexOf("\r\n\r\n");
            if (end < 0) return;
            const head = buf.toString("latin1", 0, end);
            if (!head.startsWith("HTTP/1.1 200")) return reject(new Error(head));
            want = end + 4 + Number(/content-length: (\d+)/i.exec(head)[1]);
          }
          if (buf.length < want) return;
          buf = buf.subarray(want);
          want = -1;
          if (++done === count) {
            const used = process.cpuUsage(cpu);
            for (const x of sockets) x.destroy();
            return resolve((used.user + used.system) / count);
          }
          send();
        }
      });
      sockets.push(s);
    }
  });
}

let client;

async function procRound(b, count) {
  client ??= await startClient();
  const cpu = process.cpuUsage();
  const m = await client.run({ ...b.spec, requests: count, seconds: 60, connections: 4 });
  const used = process.cpuUsage(cpu);
  if (m.errors > 0) throw new Error(m.firstError);
  return (used.user + used.system) / m.count;
}

async function startClient() {
  const replay = await import(new URL("../dist/bench/replay.js", import.meta.url).href);
  const cores = replay.cores();
  if (cores) replay.pin(process.pid, cores.server);
  return replay.RawReplay.start(cores?.client);
}

const builds = [];
for (const dir of dirs) builds.push(await setup(dir));
const roundOf = { loop: loopRound, sock: sockRound, proc: procRound };
const run = (b, count) => roundOf[mode](b, count);
for (const kase of kases) for (const b of builds) for (let w = 0; w < 2; w++) await run(b.perCase[kase], N);
const us = Object.fromEntries(kases.map((kase) => [kase, builds.map(() => [])]));
for (let r = 0; r < Number(rounds); r++)
  for (const kase of kases) {
    const order = builds.map((_, k) => k);
    if (r % 2 === 1) order.reverse();
    for (const k of order) us[kase][k].push(await run(builds[k].perCase[kase], N));
  }
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const kase of kases) {
  for (const [k, b] of builds.entries())
    console.log(
      `${kase} ${b.dir}: median ${median(us[kase][k]).toFixed(1)} µs; rounds ${us[kase][k].map((x) => x.toFixed(1)).join(" ")}`,
    );
  // Paired: each round's ratio of every build to the first, then their median.
  for (let k = 1; k < builds.length; k++)
    console.log(
      `${kase} ${builds[k].dir} ÷ ${builds[0].dir}: median of paired ratios ${median(us[kase][k].map((x, r) => x / us[kase][0][r])).toFixed(3)}`,
    );
}
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
for (const b of builds) await b.close();
await client?.close();
