/**
 * `npm run chaos [-- --rounds N --clients N --seed N]`: crash consistency under kill -9.
 *
 * Each round restarts `privlink up` on the same home, checks that every acknowledged write of
 * the rounds before is there (and every acknowledged delete gone), that nothing is half-made,
 * and that the listeners and DNS answers of the recovered server equal those of a server built
 * from scratch on a snapshot of the same state; then several SDK clients issue mutating calls
 * at once and the server is SIGKILLed at a random moment. A call whose answer never came is
 * "in flight": its resource may or may not exist, and later checks leave it alone.
 *
 * Prints `rounds, acknowledged writes, lost, half-made, mismatches`; exits 1 on any of the last
 * three. Bounded: rounds × (two server starts + at most `loadMs` of load).
 */
import { type ChildProcess, spawn } from "node:child_process";
import dgram from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DeleteVpcEndpointsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyVpcEndpointCommand,
} from "@aws-sdk/client-ec2";
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import packet from "dns-packet";
import { adminAuthHeader, readAdminToken } from "../src/api/admin-auth.js";
import { PACKAGE_ROOT } from "../src/privlink.js";
import { SqliteStore, type StoredObject } from "../src/store/sqlite.js";
import { prng } from "./fuzz-mutate.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export interface ChaosOptions {
  rounds?: number;
  clients?: number;
  seed?: number;
  /** Longest load phase before the kill, ms (the kill comes at a random moment within it). */
  loadMs?: number;
  /** Host-address slots and public resolver of the servers (tests pass their worker's). */
  slots?: string;
  publicDns?: string;
  log?: (line: string) => void;
}

export interface ChaosResult {
  rounds: number;
  acknowledged: number;
  lost: number;
  halfMade: number;
  mismatches: number;
  /** One line per problem found. */
  problems: string[];
}

const BIN = join(PACKAGE_ROOT, "bin/privlink.js");
const CREDS = { accessKeyId: "test", secretAccessKey: "test" };
const REGIONS = ["us-east-2", "us-west-2", "eu-west-1", "ap-southeast-2", "eu-central-1", "ca-central-1"];

// ---- the server under test ----

interface Server {
  child: ChildProcess;
  url: string;
  home: string;
}

async function startServer(
  home: string,
  o: Required<Pick<ChaosOptions, "slots" | "publicDns">>,
): Promise<Server> {
  rmSync(join(home, "server.json"), { force: true });
  let out = "";
  const child = spawn(
    process.execPath,
    [BIN, "up", "--port", "0", "--home", home, "--slots", o.slots, "--public-dns", o.publicDns],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PRIVLINK_HOME: home } },
  );
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`privlink exited: ${out}`);
    const file = join(home, "server.json");
    if (out.includes("privlink is running") && existsSync(file))
      return { child, url: (JSON.parse(readFileSync(file, "utf8")) as { url: string }).url, home };
    await sleep(50);
  }
  child.kill("SIGKILL");
  throw new Error(`privlink did not start: ${out}`);
}

function stopped(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

async function admin<T>(s: Server, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: adminAuthHeader(readAdminToken(s.home)),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits until the lifecycle has nothing left to do: no pending endpoint, the state version still. */
async function settle(s: Server, regions: string[]): Promise<void> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const h = await admin<{ stateVersion: number }>(s, "GET", "/_privlink/health");
    let pending = false;
    for (const region of regions) {
      const eps = await ec2Of(s.url, region).send(new DescribeVpcEndpointsCommand({}));
      if (eps.VpcEndpoints?.some((e) => String(e.State) === "pending" || String(e.State) === "deleting"))
        pending = true;
    }
    if (!pending && h.stateVersion === last) return;
    last = h.stateVersion;
    await sleep(300);
  }
}

function ec2Of(url: string, region: string): EC2Client {
  return new EC2Client({ endpoint: url, region, credentials: CREDS, maxAttempts: 1 });
}

// ---- what the clients did, and what must therefore be true ----

/** The last acknowledged word on one thing: it must exist, or must not. */
interface Expectation {
  present: boolean;
  what: string;
}

class Ledger {
  readonly expect = new Map<string, Expectation>();
  /** Keys touched by a call whose answer never came: their fate is unknown. */
  readonly uncertain = new Set<string>();
  acknowledged = 0;

  ack(key: string, present: boolean, what: string): void {
    this.acknowledged++;
    if (!this.uncertain.has(key)) this.expect.set(key, { present, what });
  }

  inFlight(keys: string[]): void {
    for (const k of keys) {
      this.uncertain.add(k);
      this.expect.delete(k);
    }
  }
}

/** One client's view of its own resources (in its own region), from acknowledged calls only. */
interface World {
  region: string;
  vpcs: { id: string; cidr: number; subnets: { id: string; n: number }[]; nextSubnet: number }[];
  groups: { id: string; vpcId: string; ports: number }[];
  endpoints: { id: string; vpcId: string }[];
  secrets: string[];
  zones: { id: string; name: string; records: number }[];
  nextCidr: number;
  serial: number;
}

type Op = { keys: string[]; run: () => Promise<void> };

function isAwsError(err: unknown): boolean {
  return typeof (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === "number";
}

/** The calls a client may make now, given what it has. */
function ops(w: World, url: string, L: Ledger, tag: string): Op[] {
  const ec2 = ec2Of(url, w.region);
  const sm = new SecretsManagerClient({
    endpoint: url,
    region: w.region,
    credentials: CREDS,
    maxAttempts: 1,
  });
  const r53 = new Route53Client({ endpoint: url, region: "us-east-1", credentials: CREDS, maxAttempts: 1 });
  const out: Op[] = [];
  const pick = <T>(xs: T[]): T => xs[(w.serial * 7919) % xs.length]!;
  if (w.vpcs.length < 3)
    out.push({
      keys: [],
      run: async () => {
        const cidr = w.nextCidr++ % 200;
        const id = (await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${cidr}.0.0/16` }))).Vpc!.VpcId!;
        w.vpcs.push({ id, cidr, subnets: [], nextSubnet: 0 });
        L.ack(`vpc:${id}`, true, `vpc ${id} (${w.region})`);
      },
    });
  if (w.vpcs.length > 0) {
    const v = pick(w.vpcs);
    out.push({
      keys: [`vpc:${v.id}`],
      run: async () => {
        const n = v.nextSubnet++ % 250;
        const id = (
          await ec2.send(
            new CreateSubnetCommand({
              VpcId: v.id,
              CidrBlock: `10.${v.cidr}.${n}.0/24`,
              AvailabilityZone: `${w.region}a`,
            }),
          )
        ).Subnet!.SubnetId!;
        v.subnets.push({ id, n });
        L.ack(`subnet:${id}`, true, `subnet ${id}`);
      },
    });
    out.push({
      keys: [`vpc:${v.id}`],
      run: async () => {
        const id = (
          await ec2.send(
            new CreateSecurityGroupCommand({
              VpcId: v.id,
              GroupName: `${tag}-${w.serial}`,
              Description: "chaos",
            }),
          )
        ).GroupId!;
        w.groups.push({ id, vpcId: v.id, ports: 0 });
        L.ack(`sg:${id}`, true, `security group ${id}`);
      },
    });
    if (v.subnets.length === 0 && !w.groups.some((g) => g.vpcId === v.id))
      out.push({
        keys: [`vpc:${v.id}`],
        run: async () => {
          await ec2.send(new DeleteVpcCommand({ VpcId: v.id }));
          w.vpcs.splice(w.vpcs.indexOf(v), 1);
          L.ack(`vpc:${v.id}`, false, `deleted vpc ${v.id}`);
        },
      });
    if (v.subnets.length > 0) {
      const s = pick(v.subnets);
      out.push({
        keys: [`vpc:${v.id}`, `subnet:${s.id}`],
        run: async () => {
          const e = (
            await ec2.send(
              new CreateVpcEndpointCommand({
                VpcId: v.id,
                VpcEndpointType: "Interface",
                ServiceName: `com.amazonaws.${w.region}.secretsmanager`,
                SubnetIds: [s.id],
              }),
            )
          ).VpcEndpoint!.VpcEndpointId!;
          w.endpoints.push({ id: e, vpcId: v.id });
          L.ack(`vpce:${e}`, true, `endpoint ${e}`);
        },
      });
      if (!w.endpoints.some((e) => e.vpcId === v.id))
        out.push({
          keys: [`subnet:${s.id}`],
          run: async () => {
            await ec2.send(new DeleteSubnetCommand({ SubnetId: s.id }));
            v.subnets.splice(v.subnets.indexOf(s), 1);
            L.ack(`subnet:${s.id}`, false, `deleted subnet ${s.id}`);
          },
        });
    }
  }
  if (w.groups.length > 0) {
    const g = pick(w.groups);
    out.push({
      keys: [`sg:${g.id}`],
      run: async () => {
        const port = 1000 + g.ports++;
        await ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: g.id,
            IpPermissions: [
              { IpProtocol: "tcp", FromPort: port, ToPort: port, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
            ],
          }),
        );
        L.ack(`sgrule:${g.id}:${port}`, true, `ingress rule ${g.id} tcp/${port}`);
      },
    });
  }
  if (w.endpoints.length > 0) {
    const e = pick(w.endpoints);
    out.push({
      keys: [`vpce:${e.id}`],
      run: async () => {
        await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.id] }));
        w.endpoints.splice(w.endpoints.indexOf(e), 1);
        L.ack(`vpce:${e.id}`, false, `deleted endpoint ${e.id}`);
      },
    });
    const g = w.groups.find((x) => x.vpcId === e.vpcId);
    if (g)
      out.push({
        keys: [`vpce:${e.id}`, `vpcesg:${e.id}:${g.id}`],
        run: async () => {
          await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: e.id, AddSecurityGroupIds: [g.id] }));
          L.ack(`vpcesg:${e.id}:${g.id}`, true, `endpoint ${e.id} has group ${g.id}`);
        },
      });
  }
  const name = `${tag}/s${w.serial}`;
  out.push({
    keys: [`secret:${w.region}:${name}`],
    run: async () => {
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: `v${w.serial}` }));
      w.secrets.push(name);
      L.ack(`secret:${w.region}:${name}`, true, `secret ${name} (${w.region})`);
    },
  });
  if (w.secrets.length > 0) {
    const s = pick(w.secrets);
    out.push({
      keys: [`secret:${w.region}:${s}`],
      run: async () => {
        await sm.send(new DeleteSecretCommand({ SecretId: s, ForceDeleteWithoutRecovery: true }));
        w.secrets.splice(w.secrets.indexOf(s), 1);
        L.ack(`secret:${w.region}:${s}`, false, `deleted secret ${s} (${w.region})`);
      },
    });
  }
  if (w.zones.length < 3) {
    const zoneName = `${tag}-z${w.serial}.chaos.internal`;
    out.push({
      keys: [],
      run: async () => {
        const z = await r53.send(
          new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `${tag}-${w.serial}` }),
        );
        const id = z.HostedZone!.Id!.replace("/hostedzone/", "");
        w.zones.push({ id, name: zoneName, records: 0 });
        L.ack(`zone:${id}`, true, `hosted zone ${id}`);
      },
    });
  }
  if (w.zones.length > 0) {
    const z = pick(w.zones);
    out.push({
      keys: [`zone:${z.id}`],
      run: async () => {
        const rec = `r${z.records++}.${z.name}`;
        await r53.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: z.id,
            ChangeBatch: {
              Changes: [
                {
                  Action: "CREATE",
                  ResourceRecordSet: {
                    Name: rec,
                    Type: "A",
                    TTL: 60,
                    ResourceRecords: [{ Value: "10.1.2.3" }],
                  },
                },
              ],
            },
          }),
        );
        L.ack(`record:${z.id}:${rec}`, true, `record ${rec}`);
      },
    });
  }
  return out;
}

/** Calls until `stop()` says so; a call without an answer marks its keys uncertain. */
async function client(
  w: World,
  url: string,
  L: Ledger,
  tag: string,
  rand: () => number,
  stop: () => boolean,
) {
  while (!stop()) {
    w.serial++;
    const choices = ops(w, url, L, tag);
    const op = choices[Math.floor(rand() * choices.length)]!;
    try {
      await op.run();
    } catch (err) {
      if (!isAwsError(err)) {
        L.inFlight(op.keys);
        return;
      }
    }
  }
}

// ---- the checks ----

/** What the server says exists now, as ledger keys. */
async function present(url: string, worlds: World[]): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const w of worlds) {
    const ec2 = ec2Of(url, w.region);
    for (const v of (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []) keys.add(`vpc:${v.VpcId}`);
    for (const s of (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [])
      keys.add(`subnet:${s.SubnetId}`);
    for (const g of (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []) {
      keys.add(`sg:${g.GroupId}`);
      for (const p of g.IpPermissions ?? []) keys.add(`sgrule:${g.GroupId}:${p.FromPort}`);
    }
    for (const e of (await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? []) {
      if (String(e.State) === "deleting" || String(e.State) === "deleted") continue;
      keys.add(`vpce:${e.VpcEndpointId}`);
      for (const g of e.Groups ?? []) keys.add(`vpcesg:${e.VpcEndpointId}:${g.GroupId}`);
    }
    const sm = new SecretsManagerClient({
      endpoint: url,
      region: w.region,
      credentials: CREDS,
      maxAttempts: 1,
    });
    let token: string | undefined;
    do {
      const page = await sm.send(new ListSecretsCommand({ NextToken: token, MaxResults: 100 }));
      for (const s of page.SecretList ?? []) keys.add(`secret:${w.region}:${s.Name}`);
      token = page.NextToken;
    } while (token);
  }
  const r53 = new Route53Client({ endpoint: url, region: "us-east-1", credentials: CREDS, maxAttempts: 1 });
  for (const z of (await r53.send(new ListHostedZonesCommand({}))).HostedZones ?? []) {
    const id = z.Id!.replace("/hostedzone/", "");
    keys.add(`zone:${id}`);
    const recs = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: id }));
    for (const r of recs.ResourceRecordSets ?? []) keys.add(`record:${id}:${r.Name!.replace(/\.$/, "")}`);
  }
  return keys;
}

/** Objects that reference what is not there: an endpoint without its ENI, an ENI without address… */
export function halfMade(objects: readonly StoredObject[]): string[] {
  const by = new Map<string, Map<string, any>>();
  for (const o of objects) {
    if (!by.has(o.kind)) by.set(o.kind, new Map());
    by.get(o.kind)!.set(o.id, o.value);
  }
  const all = (k: string) => [...(by.get(k)?.values() ?? [])];
  const has = (k: string, id: string) => by.get(k)?.has(id) === true;
  const out: string[] = [];
  const endpointEnis = new Set<string>();
  for (const e of all("vpcEndpoint")) {
    if (!has("vpc", e.vpcId) && e.state !== "deleted") out.push(`endpoint ${e.id} in missing vpc ${e.vpcId}`);
    for (const n of e.enis ?? []) {
      endpointEnis.add(n.eniId);
      if (!has("eni", n.eniId)) out.push(`endpoint ${e.id} without its ENI ${n.eniId}`);
    }
  }
  for (const n of all("eni")) {
    if (!n.privateIp) out.push(`ENI ${n.id} without an address`);
    if (!has("subnet", n.subnetId)) out.push(`ENI ${n.id} in missing subnet ${n.subnetId}`);
    if (n.interfaceType === "vpc_endpoint" && !endpointEnis.has(n.id))
      out.push(`endpoint ENI ${n.id} without its endpoint`);
  }
  for (const s of all("subnet"))
    if (!has("vpc", s.vpcId)) out.push(`subnet ${s.id} in missing vpc ${s.vpcId}`);
  for (const g of all("securityGroup"))
    if (!has("vpc", g.vpcId)) out.push(`security group ${g.id} in missing vpc ${g.vpcId}`);
  for (const r of all("recordSet"))
    if (!has("hostedZone", r.zoneId)) out.push(`record ${r.id} without its zone`);
  return out;
}

interface Fingerprint {
  listeners: string[];
  dns: Record<string, string[]>;
}

function digA(address: string, port: number, name: string): Promise<string[]> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const done = (v: string[]) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(["(timeout)"]), 1000);
    sock.on("message", (m) => {
      const p = packet.decode(m);
      done([
        (p as { rcode?: string }).rcode ?? "",
        ...(p.answers ?? []).map((a) => String((a as { data: unknown }).data)).sort(),
      ]);
    });
    sock.send(
      packet.encode({
        type: "query",
        id: 1,
        flags: packet.RECURSION_DESIRED,
        questions: [{ name, type: "A" }],
      }),
      port,
      address,
    );
  });
}

/** The listeners a server runs and what each VPC resolver answers for every endpoint name. */
async function fingerprint(s: Server, regions: string[]): Promise<Fingerprint> {
  const h = await admin<{ dns: { port: number } }>(s, "GET", "/_privlink/health");
  const l = await admin<{ listeners: string[]; dns: { vpcId: string; address: string }[] }>(
    s,
    "GET",
    "/_privlink/listeners",
  );
  const dns: Record<string, string[]> = {};
  for (const region of regions) {
    for (const e of (await ec2Of(s.url, region).send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ??
      []) {
      if (String(e.State) === "deleting" || String(e.State) === "deleted") continue;
      const resolver = l.dns.find((r) => r.vpcId === e.VpcId);
      for (const d of e.DnsEntries ?? [])
        dns[`${e.VpcId} ${d.DnsName}`] = resolver
          ? await digA(resolver.address, h.dns.port, d.DnsName!)
          : ["(no resolver)"];
    }
  }
  return { listeners: l.listeners, dns };
}

function diff(a: Fingerprint, b: Fingerprint): string[] {
  const out: string[] = [];
  const la = new Set(a.listeners);
  const lb = new Set(b.listeners);
  for (const k of la) if (!lb.has(k)) out.push(`listener ${k} after restart only`);
  for (const k of lb) if (!la.has(k)) out.push(`listener ${k} from scratch only`);
  for (const k of new Set([...Object.keys(a.dns), ...Object.keys(b.dns)]))
    if (JSON.stringify(a.dns[k]) !== JSON.stringify(b.dns[k]))
      out.push(
        `dns ${k}: ${JSON.stringify(a.dns[k])} after restart, ${JSON.stringify(b.dns[k])} from scratch`,
      );
  return out;
}

// ---- the rounds ----

export async function runChaos(opts: ChaosOptions = {}): Promise<ChaosResult> {
  const rounds = opts.rounds ?? 100;
  const nClients = opts.clients ?? 4;
  const rand = prng(opts.seed ?? Date.now());
  const loadMs = opts.loadMs ?? 1500;
  const net = { slots: opts.slots ?? "200-230", publicDns: opts.publicDns ?? "127.0.253.9" };
  const log = opts.log ?? (() => undefined);
  const home = mkdtempSync(join(tmpdir(), "privlink-chaos-"));
  const L = new Ledger();
  const worlds: World[] = Array.from({ length: nClients }, (_, i) => ({
    region: REGIONS[i % REGIONS.length]!,
    vpcs: [],
    groups: [],
    endpoints: [],
    secrets: [],
    zones: [],
    nextCidr: 1 + i * 40,
    serial: 0,
  }));
  const regions = [...new Set(worlds.map((w) => w.region))];
  const res: ChaosResult = { rounds: 0, acknowledged: 0, lost: 0, halfMade: 0, mismatches: 0, problems: [] };
  const note = (kind: "lost" | "halfMade" | "mismatches", line: string) => {
    res[kind]++;
    res.problems.push(`round ${res.rounds}: ${kind}: ${line}`);
    log(`  ${kind}: ${line}`);
  };
  try {
    for (let round = 1; round <= rounds; round++) {
      res.rounds = round;
      const s = await startServer(home, net);
      try {
        await settle(s, regions);
        // 1. Acknowledged writes: there, and acknowledged deletes gone.
        const now = await present(s.url, worlds);
        for (const [key, e] of L.expect)
          if (now.has(key) !== e.present)
            note("lost", `${e.what} ${e.present ? "missing" : "back"} after kill -9`);
        // 2. Nothing half-made, read from a consistent copy of the whole state.
        const snap = join(home, "..", `${home.split("/").pop()}-snap.db`);
        await admin(s, "POST", "/_privlink/state/save", { file: snap });
        for (const p of halfMade((await SqliteStore.readFile(snap)).objects)) note("halfMade", p);
        const before = await fingerprint(s, regions);
        // 3. Load, and kill -9 at a random moment of it.
        let stop = false;
        const loops = worlds.map((w, i) => client(w, s.url, L, `c${i}`, rand, () => stop));
        await sleep(50 + rand() * loadMs);
        s.child.kill("SIGKILL");
        await stopped(s.child);
        stop = true;
        await Promise.all(loops);
        // 4. The recovered server's listeners and DNS against a server built from scratch on the same state.
        const fresh = mkdtempSync(join(tmpdir(), "privlink-chaos-fresh-"));
        try {
          const loaded = await runCli(["state", "load", snap], fresh);
          if (loaded !== 0) throw new Error(`privlink state load exited ${loaded}`);
          const f = await startServer(fresh, net);
          try {
            await settle(f, regions);
            for (const d of diff(before, await fingerprint(f, regions))) note("mismatches", d);
          } finally {
            f.child.kill("SIGTERM");
            await stopped(f.child);
          }
        } finally {
          rmSync(fresh, { recursive: true, force: true });
          rmSync(snap, { force: true });
        }
      } finally {
        s.child.kill("SIGKILL");
        await stopped(s.child);
      }
      res.acknowledged = L.acknowledged;
      log(
        `round ${round}: ${L.acknowledged} acknowledged, ${L.expect.size} checked, ${L.uncertain.size} in flight, lost ${res.lost}, half-made ${res.halfMade}, mismatches ${res.mismatches}`,
      );
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  res.acknowledged = L.acknowledged;
  return res;
}

function runCli(args: string[], home: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: "ignore",
      env: { ...process.env, PRIVLINK_HOME: home, PRIVLINK_URL: "" },
    });
    child.on("exit", (code) => resolve(code));
  });
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : Number(process.argv[i + 1]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seed = arg("seed") ?? Date.now() % 1_000_000;
  process.stdout.write(`chaos: seed ${seed}\n`);
  const r = await runChaos({
    rounds: arg("rounds"),
    clients: arg("clients"),
    seed,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(
    `rounds ${r.rounds}, acknowledged writes ${r.acknowledged}, lost ${r.lost}, half-made ${r.halfMade}, mismatches ${r.mismatches}\n`,
  );
  process.exitCode = r.lost + r.halfMade + r.mismatches > 0 ? 1 : 0;
}
