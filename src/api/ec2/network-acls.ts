import type * as ec2 from "@aws-sdk/client-ec2";
import { AwsError } from "../../cloud/errors.js";
import * as nacl from "../../cloud/network-acl.js";
import type { Tx } from "../../cloud/state.js";
import type { NetworkAcl, NetworkAclEntry } from "../../cloud/types.js";
import * as vpc from "../../cloud/vpc.js";
import { describe, type HandlerTable, need, specTags, tagList } from "../handler.js";

/** AWS shows the implicit last rule (32767, deny all) in each direction. */
const IMPLICIT_DENY = (egress: boolean): NetworkAclEntry => ({
  ruleNumber: 32767,
  egress,
  protocol: "-1",
  ruleAction: "deny",
  cidrBlock: "0.0.0.0/0",
});

function entryShape(e: NetworkAclEntry): ec2.NetworkAclEntry {
  return {
    RuleNumber: e.ruleNumber,
    Egress: e.egress,
    Protocol: e.protocol,
    RuleAction: e.ruleAction,
    CidrBlock: e.cidrBlock,
    Ipv6CidrBlock: e.ipv6CidrBlock,
    PortRange: e.portRange && { From: e.portRange.from, To: e.portRange.to },
    IcmpTypeCode: e.icmpTypeCode && { Type: e.icmpTypeCode.type, Code: e.icmpTypeCode.code },
  };
}

function aclShape(tx: Tx, a: NetworkAcl): ec2.NetworkAcl {
  return {
    NetworkAclId: a.id,
    VpcId: a.vpcId,
    IsDefault: a.isDefault,
    OwnerId: a.accountId,
    Entries: [...a.entries, IMPLICIT_DENY(false), IMPLICIT_DENY(true)].map(entryShape),
    Associations: nacl.associationsOf(tx, a).map((x) => ({
      NetworkAclAssociationId: x.id,
      NetworkAclId: a.id,
      SubnetId: x.subnetId,
    })),
    Tags: tagList(a.tags),
  };
}

function entryInput(input: Record<string, any>): nacl.EntryInput {
  return {
    ruleNumber: input.RuleNumber,
    egress: input.Egress,
    protocol: input.Protocol,
    ruleAction: input.RuleAction,
    cidrBlock: input.CidrBlock,
    ipv6CidrBlock: input.Ipv6CidrBlock,
    portRange: input.PortRange && { from: input.PortRange.From, to: input.PortRange.To },
    icmpTypeCode: input.IcmpTypeCode && { type: input.IcmpTypeCode.Type, code: input.IcmpTypeCode.Code },
  };
}

export const networkAclHandlers: HandlerTable = {
  CreateNetworkAcl: ({ tx, ctx, input }) => ({
    NetworkAcl: aclShape(
      tx,
      nacl.createNetworkAcl(tx, ctx, {
        vpcId: input.VpcId,
        tags: specTags(input.TagSpecifications, "network-acl"),
      }),
    ),
  }),
  DeleteNetworkAcl: ({ tx, ctx, input }) => {
    nacl.deleteNetworkAcl(tx, ctx, input.NetworkAclId);
    return {};
  },
  CreateNetworkAclEntry: ({ tx, ctx, input }) => {
    nacl.createNetworkAclEntry(tx, ctx, input.NetworkAclId, entryInput(input));
    return {};
  },
  ReplaceNetworkAclEntry: ({ tx, ctx, input }) => {
    nacl.replaceNetworkAclEntry(tx, ctx, input.NetworkAclId, entryInput(input));
    return {};
  },
  DeleteNetworkAclEntry: ({ tx, ctx, input }) => {
    nacl.deleteNetworkAclEntry(tx, ctx, input.NetworkAclId, {
      ruleNumber: input.RuleNumber,
      egress: input.Egress,
    });
    return {};
  },
  ReplaceNetworkAclAssociation: ({ tx, ctx, input }) => ({
    NewAssociationId: nacl.replaceNetworkAclAssociation(
      tx,
      ctx,
      need(input.AssociationId, "AssociationId"),
      need(input.NetworkAclId, "NetworkAclId"),
    ),
  }),
  DescribeNetworkAcls: ({ tx, ctx, input }) => {
    vpc.ensureRegion(tx, ctx);
    const page = describe(nacl.networkAclsOf(tx, ctx), input, {
      ids: input.NetworkAclIds,
      notFound: (id) =>
        new AwsError("InvalidNetworkAclID.NotFound", `The network acl ID '${id}' does not exist`),
      fields: {
        "network-acl-id": (a) => a.id,
        "vpc-id": (a) => a.vpcId,
        default: (a) => String(a.isDefault),
        "owner-id": (a) => a.accountId,
        "association.subnet-id": (a) => nacl.associationsOf(tx, a).map((x) => x.subnetId),
        "association.association-id": (a) => nacl.associationsOf(tx, a).map((x) => x.id),
        "association.network-acl-id": (a) => a.id,
        "entry.rule-number": (a) => a.entries.map((e) => String(e.ruleNumber)),
        "entry.rule-action": (a) => a.entries.map((e) => e.ruleAction),
        "entry.egress": (a) => a.entries.map((e) => String(e.egress)),
        "entry.protocol": (a) => a.entries.map((e) => e.protocol),
        "entry.cidr": (a) => a.entries.map((e) => e.cidrBlock),
      },
    });
    return { NetworkAcls: page.items.map((a) => aclShape(tx, a)), NextToken: page.nextToken };
  },
};
