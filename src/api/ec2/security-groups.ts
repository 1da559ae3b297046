import type * as ec2 from "@aws-sdk/client-ec2";
import { AwsError } from "../../cloud/errors.js";
import type { FilterFields } from "../../cloud/query.js";
import * as sg from "../../cloud/security-group.js";
import type { SecurityGroup, SgRule } from "../../cloud/types.js";
import { ensureRegion } from "../../cloud/vpc.js";
import { type Call, candidates, describe, type HandlerTable, specTags, stateRead } from "../handler.js";
import { listedSecurityGroupShape, ruleShape, securityGroupShape } from "./shapes.js";

function permissionsOf(input: {
  IpPermissions?: ec2.IpPermission[];
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp?: string;
  SourceSecurityGroupName?: string;
}): sg.Permission[] {
  const perms: sg.Permission[] = (input.IpPermissions ?? []).map((p) => ({
    protocol: p.IpProtocol,
    fromPort: p.FromPort,
    toPort: p.ToPort,
    cidrs: p.IpRanges?.map((r) => ({ cidr: r.CidrIp, description: r.Description })),
    ipv6Cidrs: p.Ipv6Ranges?.map((r) => ({ cidr: r.CidrIpv6, description: r.Description })),
    prefixLists: p.PrefixListIds?.map((r) => ({ id: r.PrefixListId, description: r.Description })),
    groups: p.UserIdGroupPairs?.map((r) => ({
      groupId: r.GroupId,
      userId: r.UserId,
      description: r.Description,
    })),
  }));
  // The legacy flat form: --protocol tcp --port 443 --cidr 10.0.0.0/16 in the CLI.
  if (input.IpProtocol !== undefined || input.CidrIp !== undefined)
    perms.push({
      protocol: input.IpProtocol,
      fromPort: input.FromPort,
      toPort: input.ToPort,
      cidrs: input.CidrIp ? [{ cidr: input.CidrIp }] : [],
    });
  if (perms.length === 0)
    throw new AwsError("MissingParameter", "The request must contain the parameter ipPermissions");
  return perms;
}

function groupOf(call: Call): string {
  const { tx, ctx, input } = call;
  if (input.GroupId) return input.GroupId;
  if (input.GroupName) {
    ensureRegion(tx, ctx);
    const byName = [...tx.all("securityGroup")].find(
      (g) =>
        g.accountId === ctx.accountId &&
        g.region === ctx.region &&
        g.name === input.GroupName &&
        tx.get("vpc", g.vpcId)?.isDefault,
    );
    if (!byName)
      throw new AwsError(
        "InvalidGroup.NotFound",
        `The security group '${input.GroupName}' does not exist in default VPC`,
      );
    return byName.id;
  }
  throw new AwsError("MissingParameter", "The request must contain the parameter groupId or groupName");
}

const ruleList = (g: SecurityGroup, rules: SgRule[], egress: boolean) =>
  rules.map((r) => ruleShape(g, r, egress));

function authorize(direction: "ingress" | "egress") {
  return (call: Call) => {
    const id = groupOf(call);
    const rules = sg.authorize(call.tx, call.ctx, id, direction, permissionsOf(call.input));
    return {
      Return: true,
      SecurityGroupRules: ruleList(call.tx.get("securityGroup", id)!, rules, direction === "egress"),
    };
  };
}

function revoke(direction: "ingress" | "egress") {
  return (call: Call) => {
    const { input } = call;
    const ruleIds: string[] = input.SecurityGroupRuleIds ?? [];
    const perms =
      ruleIds.length && !input.IpPermissions?.length && input.IpProtocol === undefined
        ? []
        : permissionsOf(input);
    const { unknown } = sg.revoke(call.tx, call.ctx, groupOf(call), direction, perms, ruleIds);
    return {
      Return: true,
      ...(unknown.length
        ? {
            UnknownIpPermissions: unknown.map((r) => ({
              IpProtocol: r.protocol,
              FromPort: r.fromPort,
              ToPort: r.toPort,
            })),
          }
        : {}),
    };
  };
}

/** The filter whose one value reads an index bucket of groups: filter name → the field it reads. */
const GROUP_INDEXED = { "vpc-id": "vpcId" };

/** The ip-permission filters of one direction (`egress.` before the egress ones' names). */
const permissionFields = (prefix: string, dir: "ingress" | "egress"): FilterFields<SecurityGroup> => ({
  [`${prefix}ip-permission.cidr`]: (g) => g[dir].map((r) => r.cidrIpv4),
  [`${prefix}ip-permission.from-port`]: (g) => g[dir].map((r) => String(r.fromPort)),
  [`${prefix}ip-permission.to-port`]: (g) => g[dir].map((r) => String(r.toPort)),
  [`${prefix}ip-permission.protocol`]: (g) => g[dir].map((r) => r.protocol),
  [`${prefix}ip-permission.group-id`]: (g) => g[dir].map((r) => r.groupId),
  [`${prefix}ip-permission.prefix-list-id`]: (g) => g[dir].map((r) => r.prefixListId),
});

/** The filters DescribeSecurityGroups knows, made once (not a closure per filter per request). */
const groupFields: FilterFields<SecurityGroup> = {
  "group-id": (g) => g.id,
  "group-name": (g) => g.name,
  description: (g) => g.description,
  "vpc-id": (g) => g.vpcId,
  "owner-id": (g) => g.accountId,
  ...permissionFields("", "ingress"),
  ...permissionFields("egress.", "egress"),
};

export const securityGroupHandlers: HandlerTable = {
  CreateSecurityGroup: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const g = sg.createSecurityGroup(tx, ctx, {
      name: input.GroupName,
      description: input.Description,
      vpcId: input.VpcId,
      tags: specTags(input.TagSpecifications, "security-group"),
    });
    return {
      GroupId: g.id,
      Tags: securityGroupShape(g).Tags,
      SecurityGroupArn: securityGroupShape(g).SecurityGroupArn,
    };
  },
  DeleteSecurityGroup: (call) => {
    sg.deleteSecurityGroup(call.tx, call.ctx, groupOf(call));
    return { Return: true, GroupId: groupOf(call) };
  },
  DescribeSecurityGroups: stateRead(({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const ids = [...(input.GroupIds ?? []), ...(input.GroupNames ?? [])];
    const from = candidates(tx, "securityGroup", input, GROUP_INDEXED, ids);
    const all = [...from.items].filter((g) => g.accountId === ctx.accountId && g.region === ctx.region);
    const byName: string[] | undefined = input.GroupNames;
    const page = describe(byName?.length ? all.filter((g) => byName.includes(g.name)) : all, input, {
      ids: input.GroupIds,
      notFound: (id) => new AwsError("InvalidGroup.NotFound", `The security group '${id}' does not exist`),
      fields: groupFields,
      pinned: from.pinned,
    });
    return {
      SecurityGroups: page.items.map((g) => listedSecurityGroupShape(tx, g)),
      NextToken: page.nextToken,
    };
  }),
  DescribeSecurityGroupRules: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    type Row = { id: string; g: SecurityGroup; r: SgRule; egress: boolean; tags: Record<string, string> };
    const rows: Row[] = [];
    for (const g of tx.all("securityGroup")) {
      if (g.accountId !== ctx.accountId || g.region !== ctx.region) continue;
      for (const r of g.ingress) rows.push({ id: r.ruleId, g, r, egress: false, tags: {} });
      for (const r of g.egress) rows.push({ id: r.ruleId, g, r, egress: true, tags: {} });
    }
    const page = describe(rows, input, {
      ids: input.SecurityGroupRuleIds,
      notFound: (id) =>
        new AwsError(
          "InvalidSecurityGroupRuleId.NotFound",
          `The security group rule ID '${id}' does not exist`,
        ),
      fields: { "group-id": (x) => x.g.id, "security-group-rule-id": (x) => x.id },
      limits: { min: 5, max: 1000 },
    });
    return {
      SecurityGroupRules: page.items.map((x) => ruleShape(x.g, x.r, x.egress)),
      NextToken: page.nextToken,
    };
  },
  AuthorizeSecurityGroupIngress: authorize("ingress"),
  AuthorizeSecurityGroupEgress: authorize("egress"),
  RevokeSecurityGroupIngress: revoke("ingress"),
  RevokeSecurityGroupEgress: revoke("egress"),
};
