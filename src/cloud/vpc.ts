import { cidrOverlaps, formatCidr, isCanonicalCidr, parseCidr } from "./cidr.js";
import { type Ctx, isoNow } from "./context.js";
import { AwsError, dependencyViolation, invalidParameterValue } from "./errors.js";
import { isIdOf, newId } from "./ids.js";
import { availabilityZones } from "./regions.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { InternetGateway, RouteTable, SecurityGroup, SgRule, Subnet, Tags, Vpc } from "./types.js";

registerTaggable("vpc", "vpc", "vpc");

/** Every new group, a VPC's default one included, starts with egress to anywhere. */
export function defaultEgressRules(ctx: Ctx): SgRule[] {
  return [{ ruleId: newId(ctx.rt, "sgr"), protocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" }];
}

export function getVpc(tx: Tx, ctx: Ctx, id: string | undefined): Vpc {
  if (id !== undefined && !isIdOf("vpc", id))
    throw new AwsError("InvalidVpcID.Malformed", `Invalid id: "${id}"`);
  const vpc = id ? tx.get("vpc", id) : undefined;
  if (!vpc || vpc.accountId !== ctx.accountId || vpc.region !== ctx.region)
    throw new AwsError("InvalidVpcID.NotFound", `The vpc ID '${id ?? ""}' does not exist`);
  return vpc;
}

function checkVpcCidr(cidr: string | undefined): void {
  if (cidr === undefined)
    throw new AwsError("MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.");
  const c = parseCidr(cidr);
  if (!c || !isCanonicalCidr(cidr))
    throw invalidParameterValue(
      `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  if (c.prefix < 16 || c.prefix > 28)
    throw new AwsError("InvalidVpc.Range", `The CIDR '${cidr}' is invalid.`);
}

export function createVpc(
  tx: Tx,
  ctx: Ctx,
  input: { cidr?: string; tenancy?: string; tags?: Tags; isDefault?: boolean },
): Vpc {
  checkVpcCidr(input.cidr);
  if (input.tenancy !== undefined && !["default", "dedicated", "host"].includes(input.tenancy))
    throw invalidParameterValue(`Value (${input.tenancy}) for parameter instanceTenancy is invalid.`);
  const vpc: Vpc = {
    id: newId(ctx.rt, "vpc"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    cidrBlocks: [{ associationId: newId(ctx.rt, "vpc-cidr-assoc"), cidr: input.cidr!, state: "associated" }],
    isDefault: input.isDefault ?? false,
    // AWS: a new non-default VPC resolves names but gives instances no DNS hostnames.
    dnsSupport: true,
    dnsHostnames: input.isDefault ?? false,
    instanceTenancy: input.tenancy ?? "default",
    dhcpOptionsId: `dopt-${ctx.rt.hex(17)}`,
    createdAt: isoNow(ctx),
  };
  tx.put("vpc", vpc);
  createMainRouteTable(tx, ctx, vpc);
  createDefaultSecurityGroup(tx, ctx, vpc);
  for (const f of vpcCreated) f(tx, ctx, vpc);
  return vpc;
}

/** Other modules make a new VPC's default objects of their kind (network ACLs…), and remove them with it. */
const vpcCreated: ((tx: Tx, ctx: Ctx, vpc: Vpc) => void)[] = [];
const vpcDeleted: ((tx: Tx, vpc: Vpc) => void)[] = [];
export function registerVpcDefaults(
  create: (tx: Tx, ctx: Ctx, vpc: Vpc) => void,
  remove: (tx: Tx, vpc: Vpc) => void,
): void {
  vpcCreated.push(create);
  vpcDeleted.push(remove);
}

function createMainRouteTable(tx: Tx, ctx: Ctx, vpc: Vpc): RouteTable {
  return tx.put("routeTable", {
    id: newId(ctx.rt, "rtb"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: {},
    vpcId: vpc.id,
    associations: [{ id: newId(ctx.rt, "rtbassoc"), main: true }],
    routes: vpc.cidrBlocks.map((b) => ({
      destinationCidr: b.cidr,
      target: { kind: "local" as const },
      origin: "CreateRouteTable" as const,
      state: "active" as const,
    })),
  });
}

function createDefaultSecurityGroup(tx: Tx, ctx: Ctx, vpc: Vpc): SecurityGroup {
  const id = newId(ctx.rt, "sg");
  return tx.put("securityGroup", {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: {},
    vpcId: vpc.id,
    name: "default",
    description: "default VPC security group",
    // AWS's default group admits all traffic from its own members.
    ingress: [
      {
        ruleId: newId(ctx.rt, "sgr"),
        protocol: "-1",
        fromPort: -1,
        toPort: -1,
        groupId: id,
        groupOwnerId: ctx.accountId,
      },
    ],
    egress: defaultEgressRules(ctx),
  });
}

export function deleteVpc(tx: Tx, ctx: Ctx, id: string | undefined): void {
  const vpc = getVpc(tx, ctx, id);
  const inVpc = <T extends { vpcId: string }>(it: Iterable<T>) => [...it].filter((x) => x.vpcId === vpc.id);
  const blockers: string[] = [
    ...inVpc(tx.all("subnet")).map((s) => s.id),
    ...inVpc(tx.all("securityGroup"))
      .filter((g) => g.name !== "default")
      .map((g) => g.id),
    ...inVpc(tx.all("routeTable"))
      .filter((r) => !r.associations.some((a) => a.main))
      .map((r) => r.id),
    ...[...tx.all("internetGateway")]
      .filter((g) => g.attachments.some((a) => a.vpcId === vpc.id))
      .map((g) => g.id),
    ...vpcDependents.flatMap((f) => f(tx, vpc)),
  ];
  if (blockers.length > 0)
    throw dependencyViolation(`The vpc '${vpc.id}' has dependencies and cannot be deleted.`);
  for (const g of inVpc(tx.all("securityGroup"))) tx.delete("securityGroup", g.id);
  for (const r of inVpc(tx.all("routeTable"))) tx.delete("routeTable", r.id);
  for (const f of vpcDeleted) f(tx, vpc);
  tx.delete("vpc", vpc.id);
}

/** Other modules (endpoints, peering…) name what keeps a VPC from being deleted. */
const vpcDependents: ((tx: Tx, vpc: Vpc) => string[])[] = [];
export function registerVpcDependents(f: (tx: Tx, vpc: Vpc) => string[]): void {
  vpcDependents.push(f);
}

export type VpcAttribute = "enableDnsSupport" | "enableDnsHostnames" | "enableNetworkAddressUsageMetrics";

export function modifyVpcAttribute(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  attr: { dnsSupport?: boolean; dnsHostnames?: boolean },
): void {
  const vpc = getVpc(tx, ctx, id);
  const set = Object.entries(attr).filter(([, v]) => v !== undefined);
  if (set.length !== 1)
    throw new AwsError(
      "InvalidParameterCombination",
      "Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames",
    );
  const next = { ...vpc, ...Object.fromEntries(set) } as Vpc;
  if (next.dnsHostnames && !next.dnsSupport)
    throw new AwsError("InvalidParameterValue", "Cannot enable DNS hostnames unless DNS support is enabled.");
  tx.put("vpc", next);
}

export function associateVpcCidrBlock(
  tx: Tx,
  ctx: Ctx,
  id: string | undefined,
  cidr: string | undefined,
): { vpc: Vpc; associationId: string } {
  const vpc = getVpc(tx, ctx, id);
  checkVpcCidr(cidr);
  const c = parseCidr(cidr!)!;
  const active = vpc.cidrBlocks.filter((b) => b.state === "associated");
  if (active.length >= 5)
    throw new AwsError(
      "CidrLimitExceeded",
      `This network '${vpc.id}' has met its maximum number of allowed CIDRs: 5`,
    );
  for (const b of active)
    if (cidrOverlaps(parseCidr(b.cidr)!, c))
      throw new AwsError("InvalidVpc.Range", `The CIDR '${formatCidr(c)}' conflicts with another subnet`);
  const associationId = newId(ctx.rt, "vpc-cidr-assoc");
  const next = tx.put("vpc", {
    ...vpc,
    cidrBlocks: [...vpc.cidrBlocks, { associationId, cidr: cidr!, state: "associated" }],
  });
  for (const rt of tx.all("routeTable"))
    if (rt.vpcId === vpc.id)
      tx.put("routeTable", {
        ...rt,
        routes: [
          ...rt.routes,
          { destinationCidr: cidr!, target: { kind: "local" }, origin: "CreateRouteTable", state: "active" },
        ],
      });
  return { vpc: next, associationId };
}

/**
 * AWS gives every account a default VPC in every region: 172.31.0.0/16, a /20 default subnet
 * per AZ, an attached internet gateway and a main route to it. privlink makes them the first
 * time an account touches a region, in the same transaction as that request.
 */
export function ensureRegion(tx: Tx, ctx: Ctx): void {
  const key = `${ctx.accountId}/${ctx.region}`;
  if (tx.get("regionInit", key)) return;
  tx.put("regionInit", { id: key });
  const vpc = createVpc(tx, ctx, { cidr: "172.31.0.0/16", isDefault: true });
  availabilityZones(ctx.accountId, ctx.region).forEach((az, i) => {
    const subnet: Subnet = {
      id: newId(ctx.rt, "subnet"),
      accountId: ctx.accountId,
      region: ctx.region,
      tags: {},
      vpcId: vpc.id,
      cidr: `172.31.${i * 16}.0/20`,
      az: az.name,
      azId: az.id,
      defaultForAz: true,
      mapPublicIpOnLaunch: true,
    };
    tx.put("subnet", subnet);
  });
  const igw: InternetGateway = {
    id: newId(ctx.rt, "igw"),
    accountId: ctx.accountId,
    region: ctx.region,
    tags: {},
    attachments: [{ vpcId: vpc.id, state: "available" }],
  };
  tx.put("internetGateway", igw);
  const main = [...tx.all("routeTable")].find((r) => r.vpcId === vpc.id)!;
  tx.put("routeTable", {
    ...main,
    routes: [
      ...main.routes,
      {
        destinationCidr: "0.0.0.0/0",
        target: { kind: "gateway", id: igw.id },
        origin: "CreateRoute",
        state: "active",
      },
    ],
  });
}
