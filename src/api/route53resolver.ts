import type { Ctx } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import * as r53r from "../cloud/resolver-endpoint.js";
import type { Tx } from "../cloud/state.js";
import type { ResolverEndpoint, ResolverRule, ResolverRuleAssociation, Tags } from "../cloud/types.js";
import type { HandlerTable } from "./handler.js";

/** Route 53 Resolver (JSON 1.1, PascalCase): endpoints, rules, rule associations. */

const tagsIn = (tags: unknown): Tags =>
  Object.fromEntries(
    (Array.isArray(tags) ? tags : []).map((t: { Key?: string; Value?: string }) => [
      String(t.Key),
      t.Value ?? "",
    ]),
  );

function endpointShape(e: ResolverEndpoint) {
  return {
    Id: e.id,
    CreatorRequestId: e.creatorRequestId,
    Arn: e.arn,
    Name: e.name,
    SecurityGroupIds: e.securityGroupIds,
    Direction: e.direction,
    IpAddressCount: e.ipAddresses.length,
    HostVPCId: e.vpcId,
    Status: e.status,
    StatusMessage: "This Resolver Endpoint is operational.",
    CreationTime: e.createdAt,
    ModificationTime: e.modifiedAt,
    ResolverEndpointType: "IPV4",
    Protocols: ["Do53"],
  };
}

/** AWS writes rule domains fully qualified, with the trailing dot. */
function ruleShape(r: ResolverRule) {
  return {
    Id: r.id,
    CreatorRequestId: r.creatorRequestId,
    Arn: r.arn,
    DomainName: `${r.domainName}.`,
    Status: r.status,
    StatusMessage: "[Trace id: privlink] Successfully created Resolver Rule",
    RuleType: r.ruleType,
    Name: r.name,
    TargetIps: r.targetIps.length
      ? r.targetIps.map((t) => ({ Ip: t.ip, Port: t.port, Protocol: "Do53" }))
      : undefined,
    ResolverEndpointId: r.resolverEndpointId,
    OwnerId: r.accountId,
    ShareStatus: "NOT_SHARED",
    CreationTime: r.createdAt,
    ModificationTime: r.modifiedAt,
  };
}

function associationShape(a: ResolverRuleAssociation) {
  return {
    Id: a.id,
    ResolverRuleId: a.ruleId,
    Name: a.name,
    VPCId: a.vpcId,
    Status: a.status,
    StatusMessage: "",
  };
}

type Filters = { Name?: string; Values?: string[] }[] | undefined;

/** List filters: every named field must hold one of its values. */
function filtered<T>(
  items: T[],
  filters: Filters,
  fields: Record<string, (t: T) => string | undefined>,
): T[] {
  for (const f of filters ?? []) {
    const get = f.Name ? fields[f.Name] : undefined;
    if (!get)
      throw new AwsError(
        "InvalidParameterException",
        `[RSLVR-00200] Filter ${f.Name ?? ""} is not supported.`,
      );
    items = items.filter((t) => (f.Values ?? []).includes(get(t) ?? ""));
  }
  return items;
}

/** NextToken is the index of the next item, as text. */
function page<T>(items: T[], input: { MaxResults?: number; NextToken?: string }) {
  const max = input.MaxResults ?? 100;
  if (!Number.isInteger(max) || max < 1 || max > 100)
    throw new AwsError("InvalidParameterException", "MaxResults must be between 1 and 100");
  const start = input.NextToken ? Number(input.NextToken) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError("InvalidNextTokenException", "The NextToken is not valid.");
  const next = start + max < items.length ? String(start + max) : undefined;
  return { items: items.slice(start, start + max), NextToken: next, MaxResults: max };
}

const mine = <K extends "resolverEndpoint" | "resolverRule" | "resolverRuleAssociation">(
  tx: Tx,
  ctx: Ctx,
  kind: K,
) => [...tx.all(kind)].filter((x) => x.accountId === ctx.accountId && x.region === ctx.region);

export const route53ResolverHandlers: HandlerTable = {
  CreateResolverEndpoint: ({ tx, ctx, input }) => ({
    ResolverEndpoint: endpointShape(
      r53r.createResolverEndpoint(tx, ctx, {
        creatorRequestId: input.CreatorRequestId,
        name: input.Name,
        direction: input.Direction,
        securityGroupIds: input.SecurityGroupIds,
        ipAddresses: (input.IpAddresses ?? []).map((a: { SubnetId?: string; Ip?: string }) => ({
          subnetId: a.SubnetId,
          ip: a.Ip,
        })),
        tags: tagsIn(input.Tags),
      }),
    ),
  }),
  GetResolverEndpoint: ({ tx, ctx, input }) => ({
    ResolverEndpoint: endpointShape(r53r.getResolverEndpoint(tx, ctx, input.ResolverEndpointId)),
  }),
  UpdateResolverEndpoint: ({ tx, ctx, input }) => ({
    ResolverEndpoint: endpointShape(
      r53r.updateResolverEndpoint(tx, ctx, input.ResolverEndpointId, input.Name),
    ),
  }),
  DeleteResolverEndpoint: ({ tx, ctx, input }) => ({
    ResolverEndpoint: {
      ...endpointShape(r53r.deleteResolverEndpoint(tx, ctx, input.ResolverEndpointId)),
      Status: "DELETING",
    },
  }),
  ListResolverEndpoints: ({ tx, ctx, input }) => {
    const all = filtered(mine(tx, ctx, "resolverEndpoint"), input.Filters, {
      Direction: (e) => e.direction,
      HostVPCId: (e) => e.vpcId,
      Name: (e) => e.name,
      Status: (e) => e.status,
      CreatorRequestId: (e) => e.creatorRequestId,
    });
    const p = page(all, input);
    return {
      ResolverEndpoints: p.items.map(endpointShape),
      NextToken: p.NextToken,
      MaxResults: p.MaxResults,
    };
  },
  ListResolverEndpointIpAddresses: ({ tx, ctx, input }) => {
    const e = r53r.getResolverEndpoint(tx, ctx, input.ResolverEndpointId);
    const p = page([...e.ipAddresses], input);
    return {
      IpAddresses: p.items.map((a) => ({
        IpId: a.ipId,
        SubnetId: a.subnetId,
        Ip: a.ip,
        Status: "ATTACHED",
        StatusMessage: "This IP address is operational.",
        CreationTime: e.createdAt,
        ModificationTime: e.modifiedAt,
      })),
      NextToken: p.NextToken,
      MaxResults: p.MaxResults,
    };
  },
  CreateResolverRule: ({ tx, ctx, input }) => ({
    ResolverRule: ruleShape(
      r53r.createResolverRule(tx, ctx, {
        creatorRequestId: input.CreatorRequestId,
        name: input.Name,
        ruleType: input.RuleType,
        domainName: input.DomainName,
        targetIps: input.TargetIps,
        resolverEndpointId: input.ResolverEndpointId,
        tags: tagsIn(input.Tags),
      }),
    ),
  }),
  GetResolverRule: ({ tx, ctx, input }) => ({
    ResolverRule: ruleShape(r53r.getResolverRule(tx, ctx, input.ResolverRuleId)),
  }),
  DeleteResolverRule: ({ tx, ctx, input }) => ({
    ResolverRule: {
      ...ruleShape(r53r.deleteResolverRule(tx, ctx, input.ResolverRuleId)),
      Status: "DELETING",
    },
  }),
  ListResolverRules: ({ tx, ctx, input }) => {
    const all = filtered(mine(tx, ctx, "resolverRule"), input.Filters, {
      CreatorRequestId: (r) => r.creatorRequestId,
      DomainName: (r) => `${r.domainName}.`,
      Name: (r) => r.name,
      ResolverEndpointId: (r) => r.resolverEndpointId,
      Status: (r) => r.status,
      Type: (r) => r.ruleType,
    });
    const p = page(all, input);
    return { ResolverRules: p.items.map(ruleShape), NextToken: p.NextToken, MaxResults: p.MaxResults };
  },
  AssociateResolverRule: ({ tx, ctx, input }) => ({
    ResolverRuleAssociation: associationShape(
      r53r.associateResolverRule(tx, ctx, {
        ruleId: input.ResolverRuleId,
        vpcId: input.VPCId,
        name: input.Name,
      }),
    ),
  }),
  DisassociateResolverRule: ({ tx, ctx, input }) => ({
    ResolverRuleAssociation: {
      ...associationShape(
        r53r.disassociateResolverRule(tx, ctx, { ruleId: input.ResolverRuleId, vpcId: input.VPCId }),
      ),
      Status: "DELETING",
    },
  }),
  GetResolverRuleAssociation: ({ tx, ctx, input }) => ({
    ResolverRuleAssociation: associationShape(
      r53r.getRuleAssociation(tx, ctx, input.ResolverRuleAssociationId),
    ),
  }),
  ListResolverRuleAssociations: ({ tx, ctx, input }) => {
    const all = filtered(mine(tx, ctx, "resolverRuleAssociation"), input.Filters, {
      Name: (a) => a.name,
      ResolverRuleId: (a) => a.ruleId,
      Status: (a) => a.status,
      VPCId: (a) => a.vpcId,
    });
    const p = page(all, input);
    return {
      ResolverRuleAssociations: p.items.map(associationShape),
      NextToken: p.NextToken,
      MaxResults: p.MaxResults,
    };
  },
};
