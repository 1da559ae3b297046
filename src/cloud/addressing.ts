import { cidrContains, formatIp, parseCidr, parseIp } from "./cidr.js";
import type { Ctx, HostConfig } from "./context.js";
import { AwsError } from "./errors.js";
import type { State, Tx } from "./state.js";
import type { Vpc, VpcCidrBlock } from "./types.js";

/**
 * Host addresses (DESIGN.md "addresses"): each VPC CIDR block that needs one gets a slot S,
 * and private IP = base + offset lives on the host at 127.S.(offset>>8).(offset&255).
 * 127.0.x.x is never a slot, so privlink's own fixed addresses (127.0.0.153) never collide.
 */
/**
 * The address that stands for AWS's public service endpoints: the public resolver answers AWS
 * names with it, and the flow decision treats it as outside every VPC (reached over an internet
 * or NAT route). It is privlink's own edge.
 */
export const AWS_PUBLIC_ADDRESS = "127.0.0.1";

export function hostAddress(slot: number, offset: number): string {
  return `127.${slot}.${offset >> 8}.${offset & 255}`;
}

/** The VPC resolver (VPC base + 2) of a block's slot. */
export function resolverAddress(slot: number): string {
  return hostAddress(slot, 2);
}

function blockFor(vpc: Vpc, ip: number): VpcCidrBlock | undefined {
  return vpc.cidrBlocks.find((b) => b.state === "associated" && cidrContains(parseCidr(b.cidr)!, ip));
}

function usedSlots(tx: Tx | State): Set<number> {
  const used = new Set<number>();
  for (const v of tx.all("vpc")) for (const b of v.cidrBlocks) if (b.slot !== undefined) used.add(b.slot);
  for (const s of tx.all("site")) used.add(s.slot);
  return used;
}

/** The lowest slot of this host's range that no VPC block or site holds. */
export function freeSlot(tx: Tx, host: HostConfig): number {
  const used = usedSlots(tx);
  const { min, max } = host.slots;
  for (let s = min; s <= max; s++) if (!used.has(s)) return s;
  throw new AwsError(
    "InsufficientAddressCapacity",
    `privlink has no free host address slot (slots ${min}-${max} are all in use by VPC CIDR blocks and sites that hold addresses); delete a VPC or give this host more slots with --slots`,
    500,
  );
}

/** Gives the block holding `ip` a slot if it has none yet; returns the (possibly updated) VPC. */
export function ensureSlot(tx: Tx, ctx: Ctx, vpc: Vpc, ip: number): Vpc {
  const block = blockFor(vpc, ip);
  if (!block)
    throw new AwsError(
      "InvalidParameterValue",
      `Address ${formatIp(ip)} is not in a CIDR block of ${vpc.id}`,
    );
  if (block.slot !== undefined) return vpc;
  const slot = freeSlot(tx, ctx.host);
  const next: Vpc = { ...vpc, cidrBlocks: vpc.cidrBlocks.map((b) => (b === block ? { ...b, slot } : b)) };
  return tx.put("vpc", next);
}

/** The host address of a private IP in a VPC, when its block has a slot. */
export function hostAddressOf(vpc: Vpc, privateIp: string): string | undefined {
  const ip = parseIp(privateIp);
  if (ip === undefined) return undefined;
  const block = blockFor(vpc, ip);
  if (!block || block.slot === undefined) return undefined;
  return hostAddress(block.slot, ip - parseCidr(block.cidr)!.base);
}

/** Maps a host address back to its VPC and private IP. */
export function privateIpOfHost(
  state: State | Tx,
  host: string,
): { vpc: Vpc; privateIp: string } | undefined {
  const m = /^127\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (!m) return undefined;
  const slot = Number(m[1]);
  const offset = (Number(m[2]) << 8) | Number(m[3]);
  if (slot === 0) return undefined;
  for (const vpc of state.all("vpc")) {
    for (const b of vpc.cidrBlocks) {
      if (b.slot !== slot) continue;
      const c = parseCidr(b.cidr)!;
      if (offset >= c.size) return undefined;
      return { vpc, privateIp: formatIp(c.base + offset) };
    }
  }
  return undefined;
}

export interface AddrRow {
  privateIp: string;
  hostAddress: string;
  vpcId: string;
  eniId: string | null;
}

/**
 * `privlink addr X`: X is a private IP (with vpc), a host address, an ENI, an instance, or a
 * VPC (for its resolver). Works across accounts: the host is one machine.
 */
export function lookupAddresses(state: State | Tx, q: string, vpcId?: string): AddrRow[] {
  const eniRow = (eniId: string): AddrRow[] => {
    const e = state.get("eni", eniId);
    const vpc = e && state.get("vpc", e.vpcId);
    const host = vpc && hostAddressOf(vpc, e.privateIp);
    return e && host ? [{ privateIp: e.privateIp, hostAddress: host, vpcId: e.vpcId, eniId: e.id }] : [];
  };
  if (q.startsWith("eni-")) return eniRow(q);
  if (q.startsWith("i-")) {
    const i = state.get("instance", q);
    return i ? eniRow(i.eniId) : [];
  }
  if (q.startsWith("vpc-")) {
    const vpc = state.get("vpc", q);
    if (!vpc) return [];
    return vpc.cidrBlocks.flatMap((b) => {
      if (b.slot === undefined) return [];
      const ip = formatIp(parseCidr(b.cidr)!.base + 2);
      return [{ privateIp: ip, hostAddress: resolverAddress(b.slot), vpcId: vpc.id, eniId: null }];
    });
  }
  if (q.startsWith("127.")) {
    const hit = privateIpOfHost(state, q);
    if (!hit) return [];
    const eni = [...state.all("eni")].find((e) => e.vpcId === hit.vpc.id && e.privateIp === hit.privateIp);
    return [{ privateIp: hit.privateIp, hostAddress: q, vpcId: hit.vpc.id, eniId: eni?.id ?? null }];
  }
  const candidates = [...state.all("vpc")].filter((v) => (vpcId ? v.id === vpcId : true));
  return candidates.flatMap((vpc) => {
    const host = hostAddressOf(vpc, q);
    if (!host) return [];
    const eni = [...state.all("eni")].find((e) => e.vpcId === vpc.id && e.privateIp === q);
    return [{ privateIp: q, hostAddress: host, vpcId: vpc.id, eniId: eni?.id ?? null }];
  });
}
