/**
 * The commercial AWS regions (partition `aws`) and their Availability Zones, as plain data.
 *
 * Sources: the region list is the `aws` partition of botocore 1.43 `endpoints.json` (the
 * @aws-sdk partition table also names me-west-1 and sa-west-1, but AWS publishes no AZs for
 * them yet, so they are left out). AZ IDs are AWS's published table ("AWS Availability Zones",
 * global-infrastructure guide, 2026), including the newer euw2-az4 (eu-west-2d). Zone letters
 * and the letter→ID pairs of regions with a uniform mapping come from real
 * DescribeAvailabilityZones output (e.g. eu-central-1a is euc1-az2 in every account).
 * Uncertain: the letters of ap-east-2, ap-southeast-5/6/7 and mx-central-1 (assumed a/b/c in ID
 * order, as in every other post-2012 region).
 *
 * Name → ID mapping per account. AWS mapped AZ names independently for every account in the
 * regions opened before November 2012 (us-east-1, us-west-1, us-west-2, eu-west-1,
 * ap-northeast-1, ap-southeast-1, ap-southeast-2, sa-east-1); later regions use one uniform
 * mapping for all accounts. privlink reproduces that: in a uniform region every account sees
 * the table below. In an independently mapped region the default account 000000000000 sees
 * the table below (the identity us-east-1a = use1-az1, b = az2, … where the letters allow) and
 * every other account sees the zone IDs rotated over the letters by a non-zero amount derived
 * from its account ID — a bijection, and never the default account's mapping, so code that
 * crosses accounts must match on AZ IDs exactly as it must on AWS.
 */
import { DEFAULT_ACCOUNT } from "./ids.js";

export interface AzInfo {
  name: string;
  id: string;
}

export interface RegionInfo {
  name: string;
  /** privlink enables every opt-in region for every account, so these read "opted-in". */
  optInStatus: "opt-in-not-required" | "opted-in";
  /** `ec2.<region>.amazonaws.com`, as DescribeRegions returns it. */
  endpoint: string;
  /** Zone IDs in the order of the default account's zone names. */
  azIds: readonly string[];
}

export const DEFAULT_REGION = "us-east-1";

interface RegionRow {
  name: string;
  optIn: boolean;
  /** Default-account zones as letter + AZ number, e.g. "a4 c1 d2" = ap-northeast-1a is apne1-az4. */
  zones: string;
  /** AZ names are mapped per account (regions opened before November 2012). */
  independent: boolean;
}

const row = (name: string, zones: string, flags = ""): RegionRow => ({
  name,
  zones,
  optIn: flags.includes("opt-in"),
  independent: flags.includes("independent"),
});

const ROWS: readonly RegionRow[] = [
  row("af-south-1", "a1 b2 c3", "opt-in"),
  row("ap-east-1", "a1 b2 c3", "opt-in"),
  row("ap-east-2", "a1 b2 c3", "opt-in"),
  // apne1-az3 is constrained: new accounts do not see it, so no "b" letter.
  row("ap-northeast-1", "a4 c1 d2", "independent"),
  row("ap-northeast-2", "a1 b2 c3 d4"),
  row("ap-northeast-3", "a3 b1 c2"),
  row("ap-south-1", "a1 b3 c2"),
  row("ap-south-2", "a1 b2 c3", "opt-in"),
  row("ap-southeast-1", "a1 b2 c3", "independent"),
  row("ap-southeast-2", "a1 b2 c3", "independent"),
  row("ap-southeast-3", "a1 b2 c3", "opt-in"),
  row("ap-southeast-4", "a1 b2 c3", "opt-in"),
  row("ap-southeast-5", "a1 b2 c3", "opt-in"),
  row("ap-southeast-6", "a1 b2 c3", "opt-in"),
  row("ap-southeast-7", "a1 b2 c3", "opt-in"),
  // cac1-az3 does not exist for customers; the third zone is cac1-az4 (ca-central-1d).
  row("ca-central-1", "a1 b2 d4"),
  row("ca-west-1", "a1 b2 c3", "opt-in"),
  row("eu-central-1", "a2 b3 c1"),
  row("eu-central-2", "a1 b2 c3", "opt-in"),
  row("eu-north-1", "a1 b2 c3"),
  row("eu-south-1", "a1 b2 c3", "opt-in"),
  row("eu-south-2", "a1 b2 c3", "opt-in"),
  row("eu-west-1", "a1 b2 c3", "independent"),
  row("eu-west-2", "a2 b3 c1 d4"),
  row("eu-west-3", "a1 b2 c3"),
  row("il-central-1", "a1 b2 c3", "opt-in"),
  row("me-central-1", "a1 b2 c3", "opt-in"),
  row("me-south-1", "a1 b2 c3", "opt-in"),
  row("mx-central-1", "a1 b2 c3", "opt-in"),
  row("sa-east-1", "a1 b2 c3", "independent"),
  row("us-east-1", "a1 b2 c3 d4 e5 f6", "independent"),
  row("us-east-2", "a1 b2 c3"),
  // New accounts see two of us-west-1's three zones (usw1-az2 is closed to them).
  row("us-west-1", "a1 c3", "independent"),
  row("us-west-2", "a1 b2 c3 d4", "independent"),
];

const DIRECTIONS: Record<string, string> = {
  east: "e",
  west: "w",
  north: "n",
  south: "s",
  central: "c",
  northeast: "ne",
  northwest: "nw",
  southeast: "se",
  southwest: "sw",
};

/** AWS's AZ ID prefix: "us-east-1" → "use1", "ap-northeast-2" → "apne2", "ca-central-1" → "cac1". */
export function azIdPrefix(region: string): string {
  const [geo, direction, number] = region.split("-");
  return `${geo}${DIRECTIONS[direction] ?? direction}${number}`;
}

interface Zone {
  letter: string;
  id: string;
}

function zonesOf(r: RegionRow): Zone[] {
  return r.zones.split(" ").map((z) => ({ letter: z[0], id: `${azIdPrefix(r.name)}-az${z.slice(1)}` }));
}

const BY_NAME = new Map(ROWS.map((r) => [r.name, r]));

const INFOS: readonly RegionInfo[] = Object.freeze(
  ROWS.map((r) =>
    Object.freeze({
      name: r.name,
      optInStatus: r.optIn ? "opted-in" : "opt-in-not-required",
      endpoint: `ec2.${r.name}.amazonaws.com`,
      azIds: Object.freeze(zonesOf(r).map((z) => z.id)),
    } as const),
  ),
);
const INFO_BY_NAME = new Map(INFOS.map((i) => [i.name, i]));

/** Every commercial region, sorted by name (the order DescribeRegions uses). */
export function regions(): readonly RegionInfo[] {
  return INFOS;
}

export function regionInfo(name: string): RegionInfo | undefined {
  return INFO_BY_NAME.get(name);
}

/** FNV-1a: a stable, dependency-free hash so an account's zone mapping never changes. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** How far an account's zone IDs are rotated over the letters; 0 only for the default account. */
function rotation(accountId: string, r: RegionRow, zoneCount: number): number {
  if (!r.independent || accountId === DEFAULT_ACCOUNT || zoneCount < 2) return 0;
  return 1 + (fnv1a(`${accountId}/${r.name}`) % (zoneCount - 1));
}

const AZ_CACHE = new Map<string, readonly AzInfo[]>();

/** The zones an account sees in a region, sorted by zone name; empty for an unknown region. */
export function availabilityZones(accountId: string, region: string): readonly AzInfo[] {
  const key = `${accountId}/${region}`;
  const hit = AZ_CACHE.get(key);
  if (hit) return hit;
  const r = BY_NAME.get(region);
  if (!r) return [];
  const zones = zonesOf(r);
  const k = rotation(accountId, r, zones.length);
  const list = Object.freeze(
    zones.map((z, i) =>
      Object.freeze({ name: `${region}${z.letter}`, id: zones[(i + k) % zones.length].id }),
    ),
  );
  // Bounded: one entry per (account, region) pair that asked.
  if (AZ_CACHE.size < 10_000) AZ_CACHE.set(key, list);
  return list;
}

export function azById(accountId: string, region: string, azId: string): AzInfo | undefined {
  return availabilityZones(accountId, region).find((a) => a.id === azId);
}

export function azByName(accountId: string, region: string, name: string): AzInfo | undefined {
  return availabilityZones(accountId, region).find((a) => a.name === name);
}
