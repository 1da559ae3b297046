import { AwsError } from "../../cloud/errors.js";
import { compileFilters, paginate } from "../../cloud/query.js";
import * as tgw from "../../cloud/transit-gateway.js";
import * as att from "../../cloud/transit-gateway-attachment.js";
import { getTgwRouteTable } from "../../cloud/transit-gateway-lookup.js";
import * as rtb from "../../cloud/transit-gateway-route-table.js";
import type { TransitGatewayAttachment } from "../../cloud/types.js";
import { describe, filtersOf, type HandlerTable, need, specTags } from "../handler.js";
import {
  attachmentRef,
  attachmentShape,
  routeTableShape,
  tgwRouteShape,
  transitGatewayShape,
  vpcAttachmentShape,
} from "./transit-gateway-shapes.js";

const attachmentNotFound = (id: string) =>
  new AwsError(
    "InvalidTransitGatewayAttachmentID.NotFound",
    `Transit Gateway Attachment ${id} was deleted or does not exist.`,
  );

const attachmentFields = {
  "transit-gateway-attachment-id": (a: TransitGatewayAttachment) => a.id,
  "transit-gateway-id": (a: TransitGatewayAttachment) => a.transitGatewayId,
  "transit-gateway-owner-id": (a: TransitGatewayAttachment) => a.transitGatewayOwnerId,
  "resource-owner-id": (a: TransitGatewayAttachment) => a.accountId,
  "resource-type": (a: TransitGatewayAttachment) => a.resourceType,
  "resource-id": (a: TransitGatewayAttachment) => a.resourceId,
  state: (a: TransitGatewayAttachment) => a.state,
  "association.transit-gateway-route-table-id": (a: TransitGatewayAttachment) => a.associatedRouteTableId,
  "association.state": (a: TransitGatewayAttachment) => (a.associatedRouteTableId ? "associated" : undefined),
  "vpc-id": (a: TransitGatewayAttachment) => a.vpc?.vpcId,
};

/** Associate/Disassociate/Enable/Disable all answer with the same small record. */
function link(r: { table: { id: string }; att: TransitGatewayAttachment }, state: string) {
  return { TransitGatewayRouteTableId: r.table.id, ...attachmentRef(r.att, state) };
}

function tgwOptionsInput(o: Record<string, any> | undefined): tgw.TgwOptionsInput | undefined {
  if (!o) return undefined;
  return {
    amazonSideAsn: o.AmazonSideAsn,
    autoAcceptSharedAttachments: o.AutoAcceptSharedAttachments,
    defaultRouteTableAssociation: o.DefaultRouteTableAssociation,
    defaultRouteTablePropagation: o.DefaultRouteTablePropagation,
    vpnEcmpSupport: o.VpnEcmpSupport,
    dnsSupport: o.DnsSupport,
    securityGroupReferencingSupport: o.SecurityGroupReferencingSupport,
    multicastSupport: o.MulticastSupport,
  };
}

function vpcOptionsInput(o: Record<string, any> | undefined) {
  return (
    o && {
      dnsSupport: o.DnsSupport,
      ipv6Support: o.Ipv6Support,
      applianceModeSupport: o.ApplianceModeSupport,
      securityGroupReferencingSupport: o.SecurityGroupReferencingSupport,
    }
  );
}

export const transitGatewayHandlers: HandlerTable = {
  CreateTransitGateway: ({ tx, ctx, input }) => ({
    TransitGateway: transitGatewayShape(
      tgw.createTransitGateway(tx, ctx, {
        description: input.Description,
        options: tgwOptionsInput(input.Options),
        tags: specTags(input.TagSpecifications, "transit-gateway"),
      }),
    ),
  }),
  ModifyTransitGateway: ({ tx, ctx, input }) => ({
    TransitGateway: transitGatewayShape(
      tgw.modifyTransitGateway(tx, ctx, need(input.TransitGatewayId, "TransitGatewayId"), {
        description: input.Description,
        options: input.Options && {
          ...tgwOptionsInput(input.Options),
          associationDefaultRouteTableId: input.Options.AssociationDefaultRouteTableId,
          propagationDefaultRouteTableId: input.Options.PropagationDefaultRouteTableId,
        },
      }),
    ),
  }),
  DeleteTransitGateway: ({ tx, ctx, input }) => ({
    TransitGateway: transitGatewayShape(
      tgw.deleteTransitGateway(tx, ctx, need(input.TransitGatewayId, "TransitGatewayId")),
    ),
  }),
  DescribeTransitGateways: ({ tx, ctx, input }) => {
    const page = describe(tgw.transitGatewaysOf(tx, ctx), input, {
      ids: input.TransitGatewayIds,
      notFound: (id) =>
        new AwsError(
          "InvalidTransitGatewayID.NotFound",
          `Transit Gateway ${id} was deleted or does not exist.`,
        ),
      fields: {
        "transit-gateway-id": (t) => t.id,
        state: (t) => t.state,
        "owner-id": (t) => t.accountId,
        "options.amazon-side-asn": (t) => String(t.options.amazonSideAsn),
        "options.association-default-route-table-id": (t) => t.options.associationDefaultRouteTableId,
        "options.propagation-default-route-table-id": (t) => t.options.propagationDefaultRouteTableId,
        "options.default-route-table-association": (t) => t.options.defaultRouteTableAssociation,
        "options.default-route-table-propagation": (t) => t.options.defaultRouteTablePropagation,
        "options.auto-accept-shared-attachments": (t) => t.options.autoAcceptSharedAttachments,
        "options.dns-support": (t) => t.options.dnsSupport,
        "options.vpn-ecmp-support": (t) => t.options.vpnEcmpSupport,
      },
    });
    return { TransitGateways: page.items.map(transitGatewayShape), NextToken: page.nextToken };
  },

  CreateTransitGatewayVpcAttachment: ({ tx, ctx, input }) => ({
    TransitGatewayVpcAttachment: vpcAttachmentShape(
      att.createVpcAttachment(tx, ctx, {
        transitGatewayId: need(input.TransitGatewayId, "TransitGatewayId"),
        vpcId: need(input.VpcId, "VpcId"),
        subnetIds: need(input.SubnetIds, "SubnetIds"),
        options: vpcOptionsInput(input.Options),
        tags: specTags(input.TagSpecifications, "transit-gateway-attachment"),
      }),
    ),
  }),
  ModifyTransitGatewayVpcAttachment: ({ tx, ctx, input }) => ({
    TransitGatewayVpcAttachment: vpcAttachmentShape(
      att.modifyVpcAttachment(tx, ctx, need(input.TransitGatewayAttachmentId, "TransitGatewayAttachmentId"), {
        add: input.AddSubnetIds,
        remove: input.RemoveSubnetIds,
        options: vpcOptionsInput(input.Options),
      }),
    ),
  }),
  DeleteTransitGatewayVpcAttachment: ({ tx, ctx, input }) => ({
    TransitGatewayVpcAttachment: vpcAttachmentShape(
      att.deleteAttachment(tx, ctx, need(input.TransitGatewayAttachmentId, "TransitGatewayAttachmentId")),
    ),
  }),
  AcceptTransitGatewayVpcAttachment: ({ tx, ctx, input }) => ({
    TransitGatewayVpcAttachment: vpcAttachmentShape(
      att.acceptAttachment(tx, ctx, need(input.TransitGatewayAttachmentId, "TransitGatewayAttachmentId")),
    ),
  }),
  RejectTransitGatewayVpcAttachment: ({ tx, ctx, input }) => ({
    TransitGatewayVpcAttachment: vpcAttachmentShape(
      att.rejectAttachment(tx, ctx, need(input.TransitGatewayAttachmentId, "TransitGatewayAttachmentId")),
    ),
  }),
  DescribeTransitGatewayVpcAttachments: ({ tx, ctx, input }) => {
    const page = describe(att.attachmentsOf(tx, ctx, "vpc"), input, {
      ids: input.TransitGatewayAttachmentIds,
      notFound: attachmentNotFound,
      fields: attachmentFields,
    });
    return { TransitGatewayVpcAttachments: page.items.map(vpcAttachmentShape), NextToken: page.nextToken };
  },
  DescribeTransitGatewayAttachments: ({ tx, ctx, input }) => {
    const page = describe(att.attachmentsOf(tx, ctx), input, {
      ids: input.TransitGatewayAttachmentIds,
      notFound: attachmentNotFound,
      fields: attachmentFields,
    });
    return {
      TransitGatewayAttachments: page.items.map(attachmentShape),
      NextToken: page.nextToken,
    };
  },

  CreateTransitGatewayRouteTable: ({ tx, ctx, input }) => {
    const t = tgw.transitGatewaysOf(tx, ctx).find((x) => x.id === input.TransitGatewayId);
    const owned = t && t.accountId === ctx.accountId && t.state !== "deleted" && t.state !== "deleting";
    if (!owned)
      throw new AwsError(
        "InvalidTransitGatewayID.NotFound",
        `Transit Gateway ${need(input.TransitGatewayId, "TransitGatewayId")} was deleted or does not exist.`,
      );
    return {
      TransitGatewayRouteTable: routeTableShape(
        rtb.newTgwRouteTable(tx, ctx, t, {
          tags: specTags(input.TagSpecifications, "transit-gateway-route-table"),
        }),
      ),
    };
  },
  DeleteTransitGatewayRouteTable: ({ tx, ctx, input }) => ({
    TransitGatewayRouteTable: routeTableShape(
      rtb.deleteTgwRouteTable(tx, ctx, need(input.TransitGatewayRouteTableId, "TransitGatewayRouteTableId")),
    ),
  }),
  DescribeTransitGatewayRouteTables: ({ tx, ctx, input }) => {
    const page = describe(rtb.tgwRouteTablesOf(tx, ctx), input, {
      ids: input.TransitGatewayRouteTableIds,
      notFound: (id) =>
        new AwsError(
          "InvalidRouteTableID.NotFound",
          `Transit Gateway Route Table ${id} was deleted or does not exist.`,
        ),
      fields: {
        "transit-gateway-route-table-id": (r) => r.id,
        "transit-gateway-id": (r) => r.transitGatewayId,
        state: (r) => r.state,
        "default-association-route-table": (r) => String(r.defaultAssociationRouteTable),
        "default-propagation-route-table": (r) => String(r.defaultPropagationRouteTable),
      },
    });
    return { TransitGatewayRouteTables: page.items.map(routeTableShape), NextToken: page.nextToken };
  },
  AssociateTransitGatewayRouteTable: ({ tx, ctx, input }) => ({
    Association: link(
      rtb.associateTgwRouteTable(tx, ctx, input.TransitGatewayRouteTableId, input.TransitGatewayAttachmentId),
      "associated",
    ),
  }),
  DisassociateTransitGatewayRouteTable: ({ tx, ctx, input }) => ({
    Association: link(
      rtb.disassociateTgwRouteTable(
        tx,
        ctx,
        input.TransitGatewayRouteTableId,
        input.TransitGatewayAttachmentId,
      ),
      "disassociated",
    ),
  }),
  EnableTransitGatewayRouteTablePropagation: ({ tx, ctx, input }) => ({
    Propagation: link(
      rtb.enableTgwPropagation(tx, ctx, input.TransitGatewayRouteTableId, input.TransitGatewayAttachmentId),
      "enabled",
    ),
  }),
  DisableTransitGatewayRouteTablePropagation: ({ tx, ctx, input }) => ({
    Propagation: link(
      rtb.disableTgwPropagation(tx, ctx, input.TransitGatewayRouteTableId, input.TransitGatewayAttachmentId),
      "disabled",
    ),
  }),
  GetTransitGatewayRouteTableAssociations: ({ tx, ctx, input }) => {
    const table = getTgwRouteTable(tx, ctx, input.TransitGatewayRouteTableId);
    const match = compileFilters(filtersOf(input), attachmentFields);
    const page = paginate(rtb.associationsOf(tx, table).filter(match), input.MaxResults, input.NextToken);
    return { Associations: page.items.map((a) => attachmentRef(a, "associated")), NextToken: page.nextToken };
  },
  GetTransitGatewayRouteTablePropagations: ({ tx, ctx, input }) => {
    const table = getTgwRouteTable(tx, ctx, input.TransitGatewayRouteTableId);
    const items = table.propagations
      .map((id) => tx.get("transitGatewayAttachment", id))
      .filter((a): a is TransitGatewayAttachment => !!a)
      .filter(compileFilters(filtersOf(input), attachmentFields));
    const page = paginate(items, input.MaxResults, input.NextToken);
    return {
      TransitGatewayRouteTablePropagations: page.items.map((a) => attachmentRef(a, "enabled")),
      NextToken: page.nextToken,
    };
  },
  GetTransitGatewayAttachmentPropagations: ({ tx, ctx, input }) => {
    const a = att.attachmentsOf(tx, ctx).find((x) => x.id === input.TransitGatewayAttachmentId);
    if (!a) throw attachmentNotFound(need(input.TransitGatewayAttachmentId, "TransitGatewayAttachmentId"));
    const tables = [...tx.all("transitGatewayRouteTable")].filter((t) => t.propagations.includes(a.id));
    return {
      TransitGatewayAttachmentPropagations: tables.map((t) => ({
        TransitGatewayRouteTableId: t.id,
        State: "enabled",
      })),
    };
  },

  CreateTransitGatewayRoute: ({ tx, ctx, input }) => ({
    Route: tgwRouteShape(
      rtb.createTgwRoute(tx, ctx, need(input.TransitGatewayRouteTableId, "TransitGatewayRouteTableId"), {
        destinationCidr: input.DestinationCidrBlock,
        attachmentId: input.TransitGatewayAttachmentId,
        blackhole: input.Blackhole,
      }),
    ),
  }),
  ReplaceTransitGatewayRoute: ({ tx, ctx, input }) => ({
    Route: tgwRouteShape(
      rtb.replaceTgwRoute(tx, ctx, need(input.TransitGatewayRouteTableId, "TransitGatewayRouteTableId"), {
        destinationCidr: input.DestinationCidrBlock,
        attachmentId: input.TransitGatewayAttachmentId,
        blackhole: input.Blackhole,
      }),
    ),
  }),
  DeleteTransitGatewayRoute: ({ tx, ctx, input }) => ({
    Route: tgwRouteShape(
      rtb.deleteTgwRoute(
        tx,
        ctx,
        need(input.TransitGatewayRouteTableId, "TransitGatewayRouteTableId"),
        input.DestinationCidrBlock,
      ),
    ),
  }),
  SearchTransitGatewayRoutes: ({ tx, ctx, input }) => {
    const table = getTgwRouteTable(tx, ctx, input.TransitGatewayRouteTableId);
    const filters = need(filtersOf(input), "Filters");
    const max = input.MaxResults ?? 1000;
    if (!Number.isInteger(max) || max < 5 || max > 1000)
      throw new AwsError(
        "InvalidParameterValue",
        `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
      );
    let routes = rtb.tgwRoutes(tx, table);
    const plain = filters.filter((f) => !f.name.startsWith("route-search."));
    for (const f of filters.filter((x) => x.name.startsWith("route-search."))) {
      if (f.name === "route-search.longest-prefix-match") {
        const hits = rtb.longestPrefixMatches(routes, f.values);
        routes = routes.filter((r) => hits.has(r));
      } else {
        if (
          rtb.routeSearchMatches(
            routes[0] ?? ({ destinationCidr: "0.0.0.0/0" } as never),
            f.name,
            f.values,
          ) === undefined
        )
          throw new AwsError("InvalidParameterValue", `The filter '${f.name}' is invalid`);
        routes = routes.filter((r) => rtb.routeSearchMatches(r, f.name, f.values));
      }
    }
    const match = compileFilters(plain, {
      state: (r: rtb.TgwRoute) => r.state,
      type: (r: rtb.TgwRoute) => r.type,
      "attachment.transit-gateway-attachment-id": (r: rtb.TgwRoute) => r.attachmentId,
      "attachment.resource-id": (r: rtb.TgwRoute) => r.resourceId,
      "attachment.resource-type": (r: rtb.TgwRoute) => r.resourceType,
      "prefix-list-id": () => undefined,
    });
    const found = routes.filter(match);
    return {
      Routes: found.slice(0, max).map(tgwRouteShape),
      AdditionalRoutesAvailable: found.length > max,
    };
  },
};
