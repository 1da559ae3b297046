/**
 * From the state to the zones each resolver answers from (spec §4, DESIGN.md "DNS").
 *
 * A VPC's view, in order of authority:
 *   1. the private hosted zones associated with the VPC;
 *   2. the private DNS names of the VPC's interface endpoints with PrivateDnsEnabled (one zone
 *      per domain, the AWS-managed hidden PHZ);
 *   3. copies of the VPC's own endpoints' regional and zonal names (the public answer, served
 *      from the VPC view so that the common case stays on the prepared-answer fast path);
 *   4. everything else: the public view, through the fallback.
 * The public view: public hosted zones, then `vpce.amazonaws.com` with every endpoint's regional
 * and zonal names, then (fallback) AWS public service names and, with `--dns-forward`, the
 * machine's resolver; other names are NXDOMAIN.
 *
 * Addresses (loopback mode): an endpoint ENI's address is given as its host address 127.S.x.y.
 * An A record a user wrote in a hosted zone is mapped when it lies in a privlink network: in a
 * VPC view, an address inside the querying VPC becomes its host address there; otherwise an
 * address held by ENIs of exactly one VPC becomes the host address in that VPC. Others are
 * returned as they are.
 *
 * AWS public service names (`secretsmanager.us-east-1.amazonaws.com` outside a VPC with the
 * endpoint) resolve to {@link AWS_PUBLIC_ADDRESS}, 127.0.0.1, privlink's own edge: the address
 * that stands for "the public AWS endpoint". The data plane's flow decision refuses it from
 * subnets without an internet or NAT route, as AWS would.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import net from "node:net";
import packet from "dns-packet";
import { hostAddressOf } from "../cloud/addressing.js";
import { awsServiceByPrivateDnsName } from "../cloud/catalog.js";
import { endpointDnsNames } from "../cloud/endpoint-dns.js";
import { endpointServesDns, inZone, parseRecordValue } from "../cloud/hosted-zone.js";
import type { State } from "../cloud/state.js";
import type { HostedZone, RecordSet, Vpc, VpcEndpoint } from "../cloud/types.js";
import { canonicalName } from "./name.js";
import {
  type Alias,
  type Answer,
  ENDPOINT_RECORD_TTL,
  type Fallback,
  type RR,
  type RRType,
  type Zone,
} from "./view.js";

/** Where AWS public service names point: privlink's edge (see the module comment). */
export const AWS_PUBLIC_ADDRESS = "127.0.0.1";
export const VPCE_ORIGIN = "vpce.amazonaws.com";
const AWS_ORIGIN = "amazonaws.com";
const AWS_NAME_TTL = 60;

/** Everything the view builders need, indexed in one pass over the state. */
export interface StateIndex {
  readonly state: State;
  readonly endpointsByVpc: Map<string, VpcEndpoint[]>;
  readonly privateZonesByVpc: Map<string, HostedZone[]>;
  readonly publicZones: HostedZone[];
  readonly recordsByZone: Map<string, RecordSet[]>;
  /** Private IP → the VPCs whose ENIs hold it. */
  readonly eniVpcsByIp: Map<string, Set<string>>;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

const byCreation = <T extends { createdAt: string; id: string }>(a: T, b: T) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;

export function indexState(state: State): StateIndex {
  const idx: StateIndex = {
    state,
    endpointsByVpc: new Map(),
    privateZonesByVpc: new Map(),
    publicZones: [],
    recordsByZone: new Map(),
    eniVpcsByIp: new Map(),
  };
  for (const e of state.all("vpcEndpoint")) if (endpointServesDns(e)) push(idx.endpointsByVpc, e.vpcId, e);
  for (const list of idx.endpointsByVpc.values()) list.sort(byCreation);
  const zones = [...state.all("hostedZone")].sort(byCreation);
  for (const z of zones) {
    if (!z.privateZone) idx.publicZones.push(z);
    else for (const v of z.vpcs) push(idx.privateZonesByVpc, v.vpcId, z);
  }
  for (const r of state.all("recordSet")) push(idx.recordsByZone, r.zoneId, r);
  for (const list of idx.recordsByZone.values()) list.sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const eni of state.all("eni")) {
    const s = idx.eniVpcsByIp.get(eni.privateIp) ?? new Set<string>();
    idx.eniVpcsByIp.set(eni.privateIp, s);
    s.add(eni.vpcId);
  }
  return idx;
}

// ---------------------------------------------------------------------------------------------
// Addresses

type Mapper = (ip: string) => string;

/** Maps a user-written address to its host address when it lies in a privlink network. */
function addressMapper(idx: StateIndex, vpc?: Vpc): Mapper {
  return (ip) => {
    const own = vpc && hostAddressOf(vpc, ip);
    if (own) return own;
    const holders = idx.eniVpcsByIp.get(ip);
    if (holders?.size !== 1) return ip;
    const holder = idx.state.get("vpc", [...holders][0]!);
    return (holder && hostAddressOf(holder, ip)) ?? ip;
  };
}

// ---------------------------------------------------------------------------------------------
// Endpoint records

interface NamedAddresses {
  readonly name: string;
  readonly kind: "regional" | "zonal" | "private";
  readonly addresses: string[];
}

/** The endpoint's names with the host addresses of the ENIs each resolves to. */
export function endpointAddresses(state: State, e: VpcEndpoint): NamedAddresses[] {
  const vpc = state.get("vpc", e.vpcId);
  const enis = e.enis.flatMap((ref) => {
    const eni = state.get("eni", ref.eniId);
    if (!eni) return [];
    const az = state.get("subnet", ref.subnetId)?.az ?? eni.az;
    return [{ az, address: (vpc && hostAddressOf(vpc, eni.privateIp)) ?? eni.privateIp }];
  });
  return endpointDnsNames(state, e).map((n) => ({
    name: n.name.toLowerCase(),
    kind: n.kind,
    addresses: enis.filter((x) => n.kind !== "zonal" || x.az === n.az).map((x) => x.address),
  }));
}

/**
 * DnsRecordIpType decides the record types (spec §4.2). privlink's ENIs have IPv4 addresses
 * only, so AAAA records (ipv6, dualstack) have nothing to point at and are left out.
 */
function endpointRRs(e: VpcEndpoint, n: NamedAddresses): RR[] {
  if (e.dnsRecordIpType === "ipv6") return [];
  return n.addresses.map((a) => ({ name: n.name, type: "A", ttl: ENDPOINT_RECORD_TTL, data: a }));
}

const originOf = (name: string) => (name.startsWith("*.") ? name.slice(2) : name);

/** One zone per origin: `x` and `*.x` share the zone `x`. */
function zonesByOrigin(rrs: readonly RR[]): Zone[] {
  const byOrigin = new Map<string, RR[]>();
  for (const r of rrs) push(byOrigin, originOf(r.name), r);
  return [...byOrigin].map(([origin, records]) => ({ origin, records }));
}

// ---------------------------------------------------------------------------------------------
// Hosted zones

function rrData(type: string, value: string, map: Mapper): unknown {
  const data = parseRecordValue(type, value);
  return type === "A" ? map(data as string) : data;
}

export function hostedZoneToZone(z: HostedZone, records: readonly RecordSet[], map: Mapper): Zone {
  const rrs: RR[] = [];
  const aliases: Alias[] = [];
  for (const r of records) {
    if (r.alias) {
      aliases.push({ name: r.name, type: r.type as "A" | "AAAA", target: r.alias.dnsName });
      continue;
    }
    for (const v of r.values) {
      try {
        rrs.push({ name: r.name, type: r.type as RRType, ttl: r.ttl ?? 300, data: rrData(r.type, v, map) });
      } catch {
        // Values are validated when written; one that no longer parses is left out, not fatal.
      }
    }
  }
  return { origin: z.name, records: rrs, aliases };
}

// ---------------------------------------------------------------------------------------------
// Views

/** The zones of the public view (before the fallback). */
export function publicZones(idx: StateIndex): Zone[] {
  const map = addressMapper(idx);
  const zones = idx.publicZones.map((z) => hostedZoneToZone(z, idx.recordsByZone.get(z.id) ?? [], map));
  const vpce: RR[] = [];
  const elsewhere: RR[] = [];
  for (const list of idx.endpointsByVpc.values())
    for (const e of list)
      for (const n of endpointAddresses(idx.state, e))
        if (n.kind !== "private")
          for (const rr of endpointRRs(e, n))
            (inZone(originOf(rr.name), VPCE_ORIGIN) ? vpce : elsewhere).push(rr);
  zones.push({ origin: VPCE_ORIGIN, records: vpce }, ...zonesByOrigin(elsewhere));
  return zones;
}

/** The zones of a VPC's view (before the fallback to the public view). */
export function vpcZones(idx: StateIndex, vpc: Vpc): Zone[] {
  const map = addressMapper(idx, vpc);
  const phzs = idx.privateZonesByVpc.get(vpc.id) ?? [];
  const zones = phzs.map((z) => hostedZoneToZone(z, idx.recordsByZone.get(z.id) ?? [], map));
  const shadowed = (name: string) => phzs.some((z) => inZone(originOf(name), z.name));
  const privateRRs: RR[] = [];
  const publicRRs: RR[] = [];
  for (const e of idx.endpointsByVpc.get(vpc.id) ?? []) {
    for (const n of endpointAddresses(idx.state, e)) {
      if (shadowed(n.name)) continue;
      (n.kind === "private" ? privateRRs : publicRRs).push(...endpointRRs(e, n));
    }
  }
  // Each copied name gets a zone of its own, so that it never hides other endpoints' names.
  return [...zones, ...zonesByOrigin(privateRRs), ...zonesByOrigin(publicRRs)];
}

// ---------------------------------------------------------------------------------------------
// AWS public service names

const REGION_IN_NAME = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$/;

const AWS_SOA: RR = {
  name: AWS_ORIGIN,
  type: "SOA",
  ttl: AWS_NAME_TTL,
  data: {
    mname: "dns-external-master.amazon.com",
    rname: "root.amazon.com",
    serial: 1,
    refresh: 3600,
    retry: 900,
    expire: 7776000,
    minimum: 60,
  },
};

/**
 * The public answer for an AWS service's default DNS name, or undefined when `name` is not one.
 * Names ending in `.vpce.amazonaws.com` belong to the endpoint zone, never to this.
 */
export function awsServiceAnswer(name: string, type: string): Answer | undefined {
  const n = canonicalName(name);
  if (!inZone(n, AWS_ORIGIN) || inZone(n, VPCE_ORIGIN)) return undefined;
  const region = REGION_IN_NAME.exec(n)?.[1] ?? "us-east-1";
  if (!awsServiceByPrivateDnsName(n, region)) return undefined;
  if (type !== "A" && type !== "ANY")
    return { rcode: "NOERROR", answers: [], authority: [AWS_SOA], authoritative: false };
  return {
    rcode: "NOERROR",
    answers: [{ name: n, type: "A", ttl: AWS_NAME_TTL, data: AWS_PUBLIC_ADDRESS }],
    authority: [],
    authoritative: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Forwarding (--dns-forward)

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** `host`, `host:port`, `[v6]:port`. */
export function parseUpstream(text: string): Upstream {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: Number(v6[2] ?? 53) };
  const m = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m || !net.isIP(m[1]!)) throw new Error(`--dns-forward takes IP[:port] addresses, not '${text}'`);
  return { host: m[1]!, port: Number(m[2] ?? 53) };
}

/** The machine's resolvers from /etc/resolv.conf, minus privlink's own addresses. */
export function systemUpstreams(exclude: readonly string[] = [], path = "/etc/resolv.conf"): Upstream[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((h): h is string => h !== undefined && net.isIP(h) !== 0 && !exclude.includes(h))
    .map((host) => ({ host, port: 53 }));
}

const FORWARD_TYPES = new Set<string>(["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SOA", "SRV", "PTR", "CAA"]);
const FORWARD_RCODES = new Set(["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"]);

function servfail(): Answer {
  return { rcode: "SERVFAIL", answers: [], authority: [], authoritative: false, cacheable: false };
}

/** Asks the upstreams in turn (UDP, then TCP when truncated), each within `timeoutMs`. */
export function forwarder(upstreams: readonly Upstream[], timeoutMs = 2000): Fallback {
  return async (name, type) => {
    if (!FORWARD_TYPES.has(type)) return undefined;
    for (const u of upstreams) {
      const reply = await exchange(u, name, type, timeoutMs).catch(() => undefined);
      if (reply) return toAnswer(reply);
    }
    return servfail();
  };
}

function toAnswer(p: packet.Packet): Answer {
  const rcode = String((p as { rcode?: string }).rcode ?? "NOERROR");
  const keep = (rrs: packet.Answer[] | undefined, types: Set<string>) =>
    (rrs ?? [])
      .filter((r) => types.has(r.type))
      .map((r) => ({
        name: canonicalName(r.name),
        type: r.type as RRType,
        ttl: (r as { ttl?: number }).ttl ?? 0,
        data: (r as { data: unknown }).data,
      }));
  return {
    rcode: FORWARD_RCODES.has(rcode) ? (rcode as Answer["rcode"]) : "SERVFAIL",
    answers: keep(p.answers, FORWARD_TYPES),
    authority: keep(p.authorities, new Set(["SOA"])),
    authoritative: false,
    cacheable: false,
  };
}

let nextId = 1;

function exchange(u: Upstream, name: string, type: string, timeoutMs: number): Promise<packet.Packet> {
  nextId = (nextId + 1) & 0xffff;
  const query = packet.encode({
    type: "query",
    id: nextId,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType, class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232 } as packet.Answer],
  });
  return udpExchange(u, query, nextId, timeoutMs).then((p) =>
    (p.flags ?? 0) & packet.TRUNCATED_RESPONSE ? tcpExchange(u, query, timeoutMs) : p,
  );
}

function udpExchange(u: Upstream, query: Buffer, id: number, timeoutMs: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(u.host) ? "udp6" : "udp4");
    const done = (err?: Error, p?: packet.Packet) => {
      clearTimeout(timer);
      sock.close();
      if (p) resolve(p);
      else reject(err);
    };
    const timer = setTimeout(() => done(new Error("upstream timeout")), timeoutMs);
    sock.on("error", (e) => done(e));
    sock.on("message", (msg) => {
      try {
        const p = packet.decode(msg);
        if (p.id === id) done(undefined, p);
      } catch {
        // Not a DNS answer: keep waiting until the timeout.
      }
    });
    sock.send(query, u.port, u.host);
  });
}

function tcpExchange(u: Upstream, query: Buffer, timeoutMs: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: u.host, port: u.port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => sock.destroy(new Error("upstream timeout")), timeoutMs);
    sock.on("connect", () => sock.write(packet.streamEncode(packet.decode(query))));
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        try {
          resolve(packet.streamDecode(buf));
        } catch (e) {
          reject(e);
        }
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      reject(new Error("upstream closed"));
    });
  });
}
