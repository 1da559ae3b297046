import type * as ec2 from "@aws-sdk/client-ec2";
import { AwsError } from "../../cloud/errors.js";
import * as pcx from "../../cloud/peering.js";
import type { PeeringSide, VpcPeeringConnection } from "../../cloud/types.js";
import { describe, type HandlerTable, need, specTags, tagList } from "../handler.js";

function sideShape(s: PeeringSide): ec2.VpcPeeringConnectionVpcInfo {
  return {
    CidrBlock: s.cidrBlocks[0],
    CidrBlockSet: s.cidrBlocks.map((CidrBlock) => ({ CidrBlock })),
    Ipv6CidrBlockSet: [],
    OwnerId: s.ownerId,
    VpcId: s.vpcId,
    Region: s.region,
    PeeringOptions: {
      AllowDnsResolutionFromRemoteVpc: s.allowDnsResolutionFromRemoteVpc,
      AllowEgressFromLocalClassicLinkToRemoteVpc: false,
      AllowEgressFromLocalVpcToRemoteClassicLink: false,
    },
  };
}

export function peeringShape(p: VpcPeeringConnection): ec2.VpcPeeringConnection {
  return {
    VpcPeeringConnectionId: p.id,
    RequesterVpcInfo: sideShape(p.requester),
    AccepterVpcInfo: sideShape(p.accepter),
    Status: { Code: p.status, Message: p.message },
    ExpirationTime: p.expiresAt ? new Date(p.expiresAt) : undefined,
    Tags: tagList(p.tags),
  };
}

function optionsInput(o: Record<string, any> | undefined) {
  return o && { allowDnsResolutionFromRemoteVpc: o.AllowDnsResolutionFromRemoteVpc as boolean | undefined };
}

function optionsOutput(s: PeeringSide) {
  return {
    AllowDnsResolutionFromRemoteVpc: s.allowDnsResolutionFromRemoteVpc,
    AllowEgressFromLocalClassicLinkToRemoteVpc: false,
    AllowEgressFromLocalVpcToRemoteClassicLink: false,
  };
}

const sides = (p: VpcPeeringConnection) => [p.requester, p.accepter];

export const peeringHandlers: HandlerTable = {
  CreateVpcPeeringConnection: ({ tx, ctx, input }) => ({
    VpcPeeringConnection: peeringShape(
      pcx.createPeering(tx, ctx, {
        vpcId: input.VpcId,
        peerVpcId: input.PeerVpcId,
        peerOwnerId: input.PeerOwnerId,
        peerRegion: input.PeerRegion,
        tags: specTags(input.TagSpecifications, "vpc-peering-connection"),
      }),
    ),
  }),
  AcceptVpcPeeringConnection: ({ tx, ctx, input }) => ({
    VpcPeeringConnection: peeringShape(pcx.acceptPeering(tx, ctx, input.VpcPeeringConnectionId)),
  }),
  RejectVpcPeeringConnection: ({ tx, ctx, input }) => {
    pcx.rejectPeering(tx, ctx, input.VpcPeeringConnectionId);
    return { Return: true };
  },
  DeleteVpcPeeringConnection: ({ tx, ctx, input }) => {
    pcx.deletePeering(tx, ctx, input.VpcPeeringConnectionId);
    return { Return: true };
  },
  ModifyVpcPeeringConnectionOptions: ({ tx, ctx, input }) => {
    const p = pcx.modifyPeeringOptions(
      tx,
      ctx,
      need(input.VpcPeeringConnectionId, "VpcPeeringConnectionId"),
      {
        requester: optionsInput(input.RequesterPeeringConnectionOptions),
        accepter: optionsInput(input.AccepterPeeringConnectionOptions),
      },
    );
    return {
      RequesterPeeringConnectionOptions: input.RequesterPeeringConnectionOptions
        ? optionsOutput(p.requester)
        : undefined,
      AccepterPeeringConnectionOptions: input.AccepterPeeringConnectionOptions
        ? optionsOutput(p.accepter)
        : undefined,
    };
  },
  DescribeVpcPeeringConnections: ({ tx, ctx, input }) => {
    const page = describe(pcx.peeringsOf(tx, ctx), input, {
      ids: input.VpcPeeringConnectionIds,
      notFound: (id) =>
        new AwsError(
          "InvalidVpcPeeringConnectionID.NotFound",
          `The vpcPeeringConnection ID '${id}' does not exist`,
        ),
      fields: {
        "vpc-peering-connection-id": (p) => p.id,
        "status-code": (p) => p.status,
        "status-message": (p) => p.message,
        "expiration-time": (p) => p.expiresAt,
        "requester-vpc-info.vpc-id": (p) => p.requester.vpcId,
        "requester-vpc-info.owner-id": (p) => p.requester.ownerId,
        "requester-vpc-info.cidr-block": (p) => [...p.requester.cidrBlocks],
        "accepter-vpc-info.vpc-id": (p) => p.accepter.vpcId,
        "accepter-vpc-info.owner-id": (p) => p.accepter.ownerId,
        "accepter-vpc-info.cidr-block": (p) => [...p.accepter.cidrBlocks],
        "vpc-id": (p) => sides(p).map((s) => s.vpcId),
      },
    });
    return { VpcPeeringConnections: page.items.map(peeringShape), NextToken: page.nextToken };
  },
};
