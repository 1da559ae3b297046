import {
  cidrContains,
  cidrOverlaps,
  cidrWithin,
  formatIp,
  isCanonicalCidr,
  parseCidr,
  parseIp,
} from "./cidr.js";
import type { Ctx } from "./context.js";
import { AwsError, invalidParameterValue } from "./errors.js";
import { isIdOf, newId } from "./ids.js";
import { availabilityZones } from "./regions.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { Eni, Subnet, Tags } from "./types.js";
import { getVpc } from "./vpc.js";

registerTaggable("subnet", "subnet", "subnet");

/** AWS reserves the first four addresses and the last one of every subnet. */
export const RESERVED_HEAD = 4;

export function getSubnet(tx: Tx, ctx: Ctx, id: string | undefined): Subnet {
  if (id !== undefined && !isIdOf("subnet", id))
    throw new AwsError(
      "InvalidSubnetID.Malformed",
      `Invalid Subnet Id: '${id}' (expecting 'subnet-...; the Id may only contain lowercase alphanumeric characters and a single dash')`,
    );
  const s = id ? tx.get("subnet", id) : undefined;
  if (!s || s.accountId !== ctx.accountId || s.region !== ctx.region)
    throw new AwsError("InvalidSubnetID.NotFound", `The subnet ID '${id ?? ""}' does not exist`);
  return s;
}

export function createSubnet(
  tx: Tx,
  ctx: Ctx,
  input: { vpcId?: string; cidr?: string; az?: string; azId?: string; tags?: Tags },
): Subnet {
  if (!input.vpcId) throw new AwsError("MissingParameter", "The request must contain the parameter vpcId");
  const vpc = getVpc(tx, ctx, input.vpcId);
  if (!input.cidr) throw new AwsError("MissingParameter", "The request must contain the parameter cidrBlock");
  const c = parseCidr(input.cidr);
  if (!c || !isCanonicalCidr(input.cidr))
    throw invalidParameterValue(
      `Value (${input.cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  if (
    !vpc.cidrBlocks.some((b) => b.state === "associated" && cidrWithin(c, parseCidr(b.cidr)!)) ||
    c.prefix < 16 ||
    c.prefix > 28
  )
    throw new AwsError("InvalidSubnet.Range", `The CIDR '${input.cidr}' is invalid.`);
  for (const s of tx.where("subnet", "vpcId", vpc.id))
    if (cidrOverlaps(parseCidr(s.cidr)!, c))
      throw new AwsError("InvalidSubnet.Conflict", `The CIDR '${input.cidr}' conflicts with another subnet`);
  const azs = availabilityZones(ctx.accountId, ctx.region);
  const az =
    input.az !== undefined || input.azId !== undefined
      ? azs.find((a) => a.name === input.az || a.id === input.azId)
      : azs[0];
  if (!az)
    throw invalidParameterValue(
      `Value (${input.az ?? input.azId}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${azs.map((a) => a.name).join(", ")}.`,
    );
  if (input.az !== undefined && input.azId !== undefined && az.name !== input.az)
    throw new AwsError(
      "InvalidParameterCombination",
      "Both AvailabilityZone and AvailabilityZoneId were given and they do not name the same zone.",
    );
  return tx.put("subnet", {
    id: newId(ctx.rt, "subnet"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    vpcId: vpc.id,
    cidr: input.cidr,
    az: az.name,
    azId: az.id,
    defaultForAz: false,
    mapPublicIpOnLaunch: false,
  });
}

export function deleteSubnet(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const s = getSubnet(tx, ctx, id);
  if (!tx.where("eni", "subnetId", s.id).next().done)
    throw new AwsError("DependencyViolation", `The subnet '${s.id}' has dependencies and cannot be deleted.`);
  for (const rt of tx.all("routeTable"))
    if (rt.associations.some((a) => a.subnetId === s.id))
      tx.put("routeTable", { ...rt, associations: rt.associations.filter((a) => a.subnetId !== s.id) });
  tx.delete("subnet", s.id);
}

/**
 * Each ENI's address as a number, by ENI object: every allocation in a subnet reads all its
 * ENIs' addresses, and an ENI object never changes (a change is a new object).
 */
const IP_OF_ENI = new WeakMap<Eni, number>();

/** Addresses in use in a subnet (by ENIs) — the rest, less the reserved ones, are free. */
function usedIps(tx: Tx, subnetId: string): Set<number> {
  const used = new Set<number>();
  for (const e of tx.where("eni", "subnetId", subnetId)) {
    let ip = IP_OF_ENI.get(e);
    if (ip === undefined) {
      ip = parseIp(e.privateIp)!;
      IP_OF_ENI.set(e, ip);
    }
    used.add(ip);
  }
  return used;
}

export function availableIpCount(tx: Tx, s: Subnet): number {
  const c = parseCidr(s.cidr)!;
  return c.size - RESERVED_HEAD - 1 - usedIps(tx, s.id).size;
}

/**
 * Picks the ENI address: the one asked for (checked), else the lowest free one. AWS picks at
 * random; lowest-free keeps privlink's addresses predictable for users and tests.
 */
export function allocateIp(tx: Tx, s: Subnet, wanted?: string): string {
  const c = parseCidr(s.cidr)!;
  const used = usedIps(tx, s.id);
  if (wanted !== undefined) {
    const ip = parseIp(wanted);
    if (ip === undefined)
      throw invalidParameterValue(`Value (${wanted}) for parameter privateIpAddress is invalid.`);
    if (!cidrContains(c, ip))
      throw new AwsError(
        "InvalidParameterValue",
        `Address ${wanted} does not fall within the subnet's address range`,
      );
    if (ip < c.base + RESERVED_HEAD || ip === c.base + c.size - 1)
      throw new AwsError("InvalidParameterValue", `Address ${wanted} is reserved by AWS in subnet ${s.id}`);
    if (used.has(ip)) throw new AwsError("InvalidIPAddress.InUse", `Address ${wanted} is in use.`);
    return wanted;
  }
  for (let ip = c.base + RESERVED_HEAD; ip < c.base + c.size - 1; ip++)
    if (!used.has(ip)) return formatIp(ip);
  throw new AwsError(
    "InsufficientFreeAddressesInSubnet",
    `The specified subnet ${s.id} does not have enough free addresses to satisfy the request.`,
  );
}

/** ModifySubnetAttribute's attributes, by wire name; privlink models MapPublicIpOnLaunch. */
export type SubnetAttributes = Readonly<Record<string, boolean | string | number | undefined>>;

/**
 * AWS changes one attribute per call ("Only one subnet attribute can be modified at a time").
 * Turning on an attribute privlink does not model is refused rather than silently ignored, so
 * that a design never depends on something that has no effect here.
 */
export function modifySubnetAttribute(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  attrs: SubnetAttributes,
): Subnet {
  if (id === undefined)
    throw new AwsError("MissingParameter", "The request must contain the parameter subnetId");
  const s = getSubnet(tx, ctx, id);
  const given = Object.entries(attrs).filter(([, v]) => v !== undefined);
  if (given.length === 0)
    throw new AwsError("MissingParameter", "The request must contain exactly one subnet attribute to modify");
  if (given.length > 1)
    throw new AwsError(
      "InvalidRequest",
      `Only one subnet attribute can be modified at a time. Provided attributes: [${given.map(([k]) => k[0]!.toLowerCase() + k.slice(1)).join(", ")}]`,
    );
  const [name, value] = given[0]!;
  if (name === "MapPublicIpOnLaunch") return tx.put("subnet", { ...s, mapPublicIpOnLaunch: value === true });
  // Off, or the default hostname type: nothing privlink would do differently.
  if (value === false || value === "ip-name") return s;
  throw new AwsError(
    "UnsupportedOperation",
    `privlink does not model the subnet attribute ${name}; only MapPublicIpOnLaunch can be changed.`,
  );
}
