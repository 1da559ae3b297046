import {
  ENDPOINT_RECORD_TTL,
  type Fallback,
  type RR,
  View,
  type ViewOptions,
  type Zone,
} from "../../src/dns/index.js";

export const ENDPOINT = "vpce-0a1b2c3d4e5f60718-abcd1234.secretsmanager.us-east-1.vpce.amazonaws.com";

/** ~800 bytes: fits a 1232-byte EDNS answer, not a 512-byte classic one. */
export const MEDIUM_TXT = Array.from({ length: 4 }, (_, i) => `${"m".repeat(190)}${i}`);
/** ~3,000 bytes: only TCP (or a large EDNS buffer) carries it. */
export const BIG_TXT = Array.from(
  { length: 15 },
  (_, i) => `${String(i).padStart(2, "0")}${"b".repeat(198)}`,
);

const rr = (name: string, type: RR["type"], data: unknown, ttl = 300): RR => ({ name, type, ttl, data });

/** A customer private hosted zone, in mixed case on purpose. */
const phz: Zone = {
  origin: "Example.COM.",
  records: [
    rr("www.example.com", "A", "10.0.0.1"),
    rr("www.example.com", "A", "10.0.0.2"),
    rr("www.example.com", "AAAA", "fd00::1"),
    rr("Mixed.Case.example.com.", "A", "10.0.0.9"),
    rr("txt.example.com", "TXT", ["hello world", "second"]),
    rr("mx.example.com", "MX", { preference: 10, exchange: "mail.example.com" }),
    rr("mail.example.com", "A", "10.0.0.25"),
    rr("cname.example.com", "CNAME", "www.example.com"),
    rr("chain1.example.com", "CNAME", "chain2.example.com"),
    rr("chain2.example.com", "CNAME", "CNAME.example.com"),
    rr("loop1.example.com", "CNAME", "loop2.example.com"),
    rr("loop2.example.com", "CNAME", "loop1.example.com"),
    rr("dangling.example.com", "CNAME", "nothing-here.example.com"),
    rr("a.b.c.example.com", "A", "10.0.0.3"),
    rr("*.wild.example.com", "A", "10.0.0.50"),
    rr("*.wild.example.com", "TXT", "wildcard"),
    rr("exists.wild.example.com", "TXT", "exact wins"),
    rr("*.wc.example.com", "CNAME", "www.example.com"),
    rr("medium.example.com", "TXT", MEDIUM_TXT),
    rr("big.example.com", "TXT", BIG_TXT),
    rr("_https._tcp.example.com", "SRV", { priority: 1, weight: 5, port: 443, target: "www.example.com" }),
    rr("example.com", "CAA", { flags: 0, tag: "issue", value: "amazon.com" }),
    rr("example.com", "NS", "ns-1536.awsdns-00.co.uk"),
    rr("ptr.example.com", "PTR", "www.example.com"),
    rr("ext.example.com", "CNAME", "www.elsewhere.test"),
    rr("toep.example.com", "CNAME", ENDPOINT),
  ],
  aliases: [
    { name: "example.com", type: "A", target: ENDPOINT },
    { name: "alias-cname.example.com", type: "A", target: "cname.example.com" },
    { name: "alias-loop.example.com", type: "A", target: "alias-loop.example.com" },
  ],
};

/** A nested zone: closer origin wins for names under it. */
const nested: Zone = { origin: "sub.example.com", records: [rr("x.sub.example.com", "A", "10.9.9.9")] };

/** An endpoint's zone: TTL 60, regional name plus S3-style wildcard. */
const endpointZone: Zone = {
  origin: "secretsmanager.us-east-1.vpce.amazonaws.com",
  records: [
    rr(ENDPOINT, "A", "10.1.0.5", ENDPOINT_RECORD_TTL),
    rr(ENDPOINT, "A", "10.1.1.5", ENDPOINT_RECORD_TTL),
    rr(`*.${ENDPOINT}`, "A", "10.1.0.5", ENDPOINT_RECORD_TTL),
  ],
};

/** Public data for the same origin as the PHZ: shadowed, never answers. */
const shadowed: Zone = {
  origin: "example.com",
  records: [rr("public-only.example.com", "A", "198.51.100.1"), rr("www.example.com", "A", "198.51.100.2")],
};

export const zones: Zone[] = [phz, nested, endpointZone, shadowed];

export function sampleView(options?: ViewOptions | Fallback): View {
  return new View(zones, options);
}

/** `count` A records host-N.bench.test → 10.x.y.z, for load tests. */
export function manyRecordsZone(count: number): Zone {
  const records: RR[] = [];
  for (let i = 0; i < count; i++)
    records.push(rr(`host-${i}.bench.test`, "A", `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 60));
  return { origin: "bench.test", records };
}
