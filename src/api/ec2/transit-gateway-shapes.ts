import type * as ec2 from "@aws-sdk/client-ec2";
import type { TgwRoute } from "../../cloud/transit-gateway-route-table.js";
import type {
  TransitGateway,
  TransitGatewayAttachment,
  TransitGatewayRouteTable,
} from "../../cloud/types.js";
import { tagList } from "../handler.js";

/** Transit gateway objects as the EC2 API shows them. */

export function transitGatewayShape(t: TransitGateway): ec2.TransitGateway {
  const o = t.options;
  return {
    TransitGatewayId: t.id,
    TransitGatewayArn: `arn:aws:ec2:${t.region}:${t.accountId}:transit-gateway/${t.id}`,
    State: t.state,
    OwnerId: t.accountId,
    Description: t.description,
    CreationTime: new Date(t.createdAt),
    Options: {
      AmazonSideAsn: o.amazonSideAsn,
      AutoAcceptSharedAttachments: o.autoAcceptSharedAttachments,
      DefaultRouteTableAssociation: o.defaultRouteTableAssociation,
      AssociationDefaultRouteTableId: o.associationDefaultRouteTableId,
      DefaultRouteTablePropagation: o.defaultRouteTablePropagation,
      PropagationDefaultRouteTableId: o.propagationDefaultRouteTableId,
      VpnEcmpSupport: o.vpnEcmpSupport,
      DnsSupport: o.dnsSupport,
      SecurityGroupReferencingSupport: o.securityGroupReferencingSupport,
      MulticastSupport: o.multicastSupport,
    },
    Tags: tagList(t.tags),
  };
}

function association(a: TransitGatewayAttachment) {
  if (!a.associatedRouteTableId) return undefined;
  return { TransitGatewayRouteTableId: a.associatedRouteTableId, State: "associated" as const };
}

export function attachmentShape(a: TransitGatewayAttachment): ec2.TransitGatewayAttachment {
  return {
    TransitGatewayAttachmentId: a.id,
    TransitGatewayId: a.transitGatewayId,
    TransitGatewayOwnerId: a.transitGatewayOwnerId,
    ResourceOwnerId: a.accountId,
    ResourceType: a.resourceType,
    ResourceId: a.resourceId,
    State: a.state,
    Association: association(a),
    CreationTime: new Date(a.createdAt),
    Tags: tagList(a.tags),
  };
}

export function vpcAttachmentShape(a: TransitGatewayAttachment): ec2.TransitGatewayVpcAttachment {
  const v = a.vpc!;
  return {
    TransitGatewayAttachmentId: a.id,
    TransitGatewayId: a.transitGatewayId,
    VpcId: v.vpcId,
    VpcOwnerId: a.accountId,
    State: a.state,
    SubnetIds: v.subnets.map((s) => s.subnetId),
    CreationTime: new Date(a.createdAt),
    Options: {
      DnsSupport: v.dnsSupport,
      Ipv6Support: v.ipv6Support,
      ApplianceModeSupport: v.applianceModeSupport,
      SecurityGroupReferencingSupport: v.securityGroupReferencingSupport,
    },
    Tags: tagList(a.tags),
  };
}

export function routeTableShape(r: TransitGatewayRouteTable): ec2.TransitGatewayRouteTable {
  return {
    TransitGatewayRouteTableId: r.id,
    TransitGatewayId: r.transitGatewayId,
    State: r.state,
    DefaultAssociationRouteTable: r.defaultAssociationRouteTable,
    DefaultPropagationRouteTable: r.defaultPropagationRouteTable,
    CreationTime: new Date(r.createdAt),
    Tags: tagList(r.tags),
  };
}

export function tgwRouteShape(r: TgwRoute): ec2.TransitGatewayRoute {
  return {
    DestinationCidrBlock: r.destinationCidr,
    Type: r.type,
    State: r.state,
    TransitGatewayAttachments: r.attachmentId
      ? [
          {
            TransitGatewayAttachmentId: r.attachmentId,
            ResourceId: r.resourceId,
            ResourceType: r.resourceType,
          },
        ]
      : undefined,
  };
}

/** The row GetTransitGatewayRouteTableAssociations / Propagations return for an attachment. */
export function attachmentRef(a: TransitGatewayAttachment, state: string) {
  return {
    TransitGatewayAttachmentId: a.id,
    ResourceId: a.resourceId,
    ResourceType: a.resourceType,
    State: state,
  };
}
