import { AwsError } from "../../cloud/errors.js";
import * as nat from "../../cloud/nat-gateway.js";
import type { NatGateway } from "../../cloud/types.js";
import { ensureRegion } from "../../cloud/vpc.js";
import { describe, type HandlerTable, specTags, tagList } from "../handler.js";

function natGatewayShape(n: NatGateway) {
  return {
    NatGatewayId: n.id,
    SubnetId: n.subnetId,
    VpcId: n.vpcId,
    State: n.state,
    ConnectivityType: n.connectivityType,
    CreateTime: new Date(n.createdAt),
    DeleteTime: n.deletedAt ? new Date(n.deletedAt) : undefined,
    NatGatewayAddresses:
      n.state === "deleted"
        ? []
        : [
            {
              AllocationId: n.allocationId,
              NetworkInterfaceId: n.eniId,
              PublicIp: n.publicIp,
              IsPrimary: true,
              Status: "succeeded",
            },
          ],
    Tags: tagList(n.tags),
  };
}

/** The private IP is the ENI's; a deleted gateway's ENI is gone, so it is read while it lasts. */
function withPrivateIp(shape: ReturnType<typeof natGatewayShape>, privateIp: string | undefined) {
  for (const a of shape.NatGatewayAddresses) Object.assign(a, { PrivateIp: privateIp });
  return shape;
}

export const natHandlers: HandlerTable = {
  CreateNatGateway: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const n = nat.createNatGateway(tx, ctx, {
      subnetId: input.SubnetId,
      connectivityType: input.ConnectivityType,
      allocationId: input.AllocationId,
      privateIp: input.PrivateIpAddress,
      clientToken: input.ClientToken,
      tags: specTags(input.TagSpecifications, "natgateway"),
    });
    return {
      NatGateway: withPrivateIp(natGatewayShape(n), tx.get("eni", n.eniId)?.privateIp),
      ClientToken: input.ClientToken,
    };
  },
  DeleteNatGateway: ({ tx, ctx, input }) => {
    const n = nat.deleteNatGateway(tx, ctx, input.NatGatewayId);
    return { NatGatewayId: n.id };
  },
  DescribeNatGateways: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const mine = [...tx.all("natGateway")].filter(
      (n) => n.accountId === ctx.accountId && n.region === ctx.region,
    );
    const page = describe(
      mine,
      { ...input, Filters: input.Filter ?? input.Filters },
      {
        ids: input.NatGatewayIds,
        notFound: (id) => new AwsError("NatGatewayNotFound", `The Nat Gateway ${id} was not found`),
        fields: {
          "nat-gateway-id": (n) => n.id,
          state: (n) => n.state,
          "subnet-id": (n) => n.subnetId,
          "vpc-id": (n) => n.vpcId,
        },
      },
    );
    return {
      NatGateways: page.items.map((n) =>
        withPrivateIp(natGatewayShape(n), tx.get("eni", n.eniId)?.privateIp),
      ),
      NextToken: page.nextToken,
    };
  },
};
