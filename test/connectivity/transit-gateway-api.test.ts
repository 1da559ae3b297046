import {
  AcceptTransitGatewayVpcAttachmentCommand,
  AssociateTransitGatewayRouteTableCommand,
  CreateSubnetCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayRouteCommand,
  CreateTransitGatewayRouteTableCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  DeleteTransitGatewayCommand,
  DeleteTransitGatewayRouteCommand,
  DeleteTransitGatewayRouteTableCommand,
  DeleteTransitGatewayVpcAttachmentCommand,
  DescribeNetworkInterfacesCommand,
  DescribeTransitGatewayAttachmentsCommand,
  DescribeTransitGatewayRouteTablesCommand,
  DescribeTransitGatewaysCommand,
  DescribeTransitGatewayVpcAttachmentsCommand,
  DisableTransitGatewayRouteTablePropagationCommand,
  type EC2Client,
  EnableTransitGatewayRouteTablePropagationCommand,
  GetTransitGatewayRouteTableAssociationsCommand,
  GetTransitGatewayRouteTablePropagationsCommand,
  RejectTransitGatewayVpcAttachmentCommand,
  ReplaceTransitGatewayRouteCommand,
  SearchTransitGatewayRoutesCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeVpc } from "../control-plane/consumer-fixtures.js";
import { clients, newAccount, until } from "../dataplane/world.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

async function vpcWithSubnets(ec2: EC2Client, cidr: string, azs: string[]) {
  const v = await makeVpc(ec2, { cidr, azs, dns: false });
  return { vpcId: v.vpcId, subnets: Object.values(v.subnets) };
}

async function available(ec2: EC2Client, attachmentId: string) {
  await until(async () => {
    const out = await ec2.send(
      new DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: [attachmentId] }),
    );
    return out.TransitGatewayAttachments?.[0]?.State === "available" ? true : undefined;
  }, `${attachmentId} available`);
}

describe("transit gateway API (SDK)", () => {
  let server: TestServer;
  let ec2: EC2Client;
  let tgwId: string;
  let defaultRtb: string;

  beforeAll(async () => {
    server = await startTestServer();
    ec2 = server.ec2();
    const out = await ec2.send(new CreateTransitGatewayCommand({ Description: "hub" }));
    tgwId = out.TransitGateway!.TransitGatewayId!;
    expect(out.TransitGateway!.State).toBe("pending");
    defaultRtb = out.TransitGateway!.Options!.AssociationDefaultRouteTableId!;
    expect(out.TransitGateway!.Options!.PropagationDefaultRouteTableId).toBe(defaultRtb);
    await until(async () => {
      const d = await ec2.send(new DescribeTransitGatewaysCommand({ TransitGatewayIds: [tgwId] }));
      return d.TransitGateways?.[0]?.State === "available" ? true : undefined;
    }, "tgw available");
  });
  afterAll(async () => server?.stop());

  it("attaches VPCs with one ENI per AZ, associates and propagates by default", async () => {
    const a = await vpcWithSubnets(ec2, "10.10.0.0/16", ["us-east-1a", "us-east-1b"]);
    const att = (
      await ec2.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgwId,
          VpcId: a.vpcId,
          SubnetIds: a.subnets,
        }),
      )
    ).TransitGatewayVpcAttachment!;
    expect(att.State).toBe("pending");
    await available(ec2, att.TransitGatewayAttachmentId!);
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "vpc-id", Values: [a.vpcId] }] }),
    );
    expect(enis.NetworkInterfaces!.filter((n) => n.InterfaceType === "transit_gateway")).toHaveLength(2);
    const assoc = await ec2.send(
      new GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: defaultRtb }),
    );
    expect(assoc.Associations!.map((x) => x.TransitGatewayAttachmentId)).toContain(
      att.TransitGatewayAttachmentId,
    );
    const props = await ec2.send(
      new GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: defaultRtb }),
    );
    expect(props.TransitGatewayRouteTablePropagations!.map((x) => x.ResourceId)).toContain(a.vpcId);
    const routes = await ec2.send(
      new SearchTransitGatewayRoutesCommand({
        TransitGatewayRouteTableId: defaultRtb,
        Filters: [{ Name: "type", Values: ["propagated"] }],
      }),
    );
    expect(routes.Routes).toContainEqual(
      expect.objectContaining({ DestinationCidrBlock: "10.10.0.0/16", Type: "propagated", State: "active" }),
    );
    expect(
      (
        await fails(
          ec2.send(
            new CreateTransitGatewayVpcAttachmentCommand({
              TransitGatewayId: tgwId,
              VpcId: a.vpcId,
              SubnetIds: [a.subnets[0]!],
            }),
          ),
        )
      ).name,
    ).toBe("DuplicateTransitGatewayAttachment");
  });

  it("refuses two subnets in one AZ and leaves nothing behind", async () => {
    const b = await vpcWithSubnets(ec2, "10.11.0.0/16", ["us-east-1a"]);
    const second = await ec2.send(
      new CreateSubnetCommand({ VpcId: b.vpcId, CidrBlock: "10.11.9.0/24", AvailabilityZone: "us-east-1a" }),
    );
    b.subnets.push(second.Subnet!.SubnetId!);
    expect(
      (
        await fails(
          ec2.send(
            new CreateTransitGatewayVpcAttachmentCommand({
              TransitGatewayId: tgwId,
              VpcId: b.vpcId,
              SubnetIds: b.subnets,
            }),
          ),
        )
      ).name,
    ).toBe("DuplicateSubnetsInSameZone");
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "vpc-id", Values: [b.vpcId] }] }),
    );
    expect(enis.NetworkInterfaces).toHaveLength(0);
  });

  it("static, blackhole and replaced routes; search filters; route table life", async () => {
    const c = await vpcWithSubnets(ec2, "10.12.0.0/16", ["us-east-1a"]);
    const attId = (
      await ec2.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgwId,
          VpcId: c.vpcId,
          SubnetIds: c.subnets,
        }),
      )
    ).TransitGatewayVpcAttachment!.TransitGatewayAttachmentId!;
    await available(ec2, attId);
    const rt = (await ec2.send(new CreateTransitGatewayRouteTableCommand({ TransitGatewayId: tgwId })))
      .TransitGatewayRouteTable!.TransitGatewayRouteTableId!;
    expect(
      (
        await fails(
          ec2.send(
            new AssociateTransitGatewayRouteTableCommand({
              TransitGatewayRouteTableId: rt,
              TransitGatewayAttachmentId: attId,
            }),
          ),
        )
      ).name,
    ).toBe("Resource.AlreadyAssociated");
    await ec2.send(
      new EnableTransitGatewayRouteTablePropagationCommand({
        TransitGatewayRouteTableId: rt,
        TransitGatewayAttachmentId: attId,
      }),
    );
    expect(
      (
        await fails(
          ec2.send(
            new EnableTransitGatewayRouteTablePropagationCommand({
              TransitGatewayRouteTableId: rt,
              TransitGatewayAttachmentId: attId,
            }),
          ),
        )
      ).name,
    ).toBe("TransitGatewayRouteTablePropagation.Duplicate");
    const r1 = await ec2.send(
      new CreateTransitGatewayRouteCommand({
        TransitGatewayRouteTableId: rt,
        DestinationCidrBlock: "192.168.0.0/16",
        TransitGatewayAttachmentId: attId,
      }),
    );
    expect(r1.Route).toMatchObject({ Type: "static", State: "active" });
    expect(
      (
        await fails(
          ec2.send(
            new CreateTransitGatewayRouteCommand({
              TransitGatewayRouteTableId: rt,
              DestinationCidrBlock: "192.168.0.0/16",
              Blackhole: true,
            }),
          ),
        )
      ).name,
    ).toBe("RouteAlreadyExists");
    const r2 = await ec2.send(
      new ReplaceTransitGatewayRouteCommand({
        TransitGatewayRouteTableId: rt,
        DestinationCidrBlock: "192.168.0.0/16",
        Blackhole: true,
      }),
    );
    expect(r2.Route!.State).toBe("blackhole");
    const lpm = await ec2.send(
      new SearchTransitGatewayRoutesCommand({
        TransitGatewayRouteTableId: rt,
        Filters: [{ Name: "route-search.longest-prefix-match", Values: ["10.12.1.7/32"] }],
      }),
    );
    expect(lpm.Routes!.map((r) => r.DestinationCidrBlock)).toEqual(["10.12.0.0/16"]);
    const sup = await ec2.send(
      new SearchTransitGatewayRoutesCommand({
        TransitGatewayRouteTableId: rt,
        Filters: [{ Name: "route-search.subnet-of-match", Values: ["192.0.0.0/8"] }],
      }),
    );
    expect(sup.Routes!.map((r) => r.DestinationCidrBlock)).toEqual(["192.168.0.0/16"]);
    expect(
      (
        await fails(
          ec2.send(new SearchTransitGatewayRoutesCommand({ TransitGatewayRouteTableId: rt } as never)),
        )
      ).name,
    ).toBe("MissingParameter");
    await ec2.send(
      new DeleteTransitGatewayRouteCommand({
        TransitGatewayRouteTableId: rt,
        DestinationCidrBlock: "192.168.0.0/16",
      }),
    );
    expect(
      (
        await fails(
          ec2.send(
            new DeleteTransitGatewayRouteCommand({
              TransitGatewayRouteTableId: rt,
              DestinationCidrBlock: "192.168.0.0/16",
            }),
          ),
        )
      ).name,
    ).toBe("InvalidRoute.NotFound");
    await ec2.send(
      new DisableTransitGatewayRouteTablePropagationCommand({
        TransitGatewayRouteTableId: rt,
        TransitGatewayAttachmentId: attId,
      }),
    );
    await ec2.send(new DeleteTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: rt }));
    const left = await ec2.send(
      new DescribeTransitGatewayRouteTablesCommand({
        Filters: [{ Name: "transit-gateway-route-table-id", Values: [rt] }],
      }),
    );
    expect(left.TransitGatewayRouteTables).toEqual([]);
    expect((await fails(ec2.send(new DeleteTransitGatewayCommand({ TransitGatewayId: tgwId })))).name).toBe(
      "IncorrectState",
    );
    await ec2.send(new DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: attId }));
  });

  it("another account's attachment waits for the owner's acceptance", async () => {
    const creds = await newAccount(server, "222200000001");
    const other = clients(server, creds).ec2;
    const d = await vpcWithSubnets(other, "10.13.0.0/16", ["us-east-1a"]);
    const attId = (
      await other.send(
        new CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgwId,
          VpcId: d.vpcId,
          SubnetIds: d.subnets,
        }),
      )
    ).TransitGatewayVpcAttachment!.TransitGatewayAttachmentId!;
    const seen = await ec2.send(
      new DescribeTransitGatewayVpcAttachmentsCommand({ TransitGatewayAttachmentIds: [attId] }),
    );
    expect(seen.TransitGatewayVpcAttachments![0]!.State).toBe("pendingAcceptance");
    expect(
      (
        await fails(
          other.send(new AcceptTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: attId })),
        )
      ).name,
    ).toBe("OperationNotPermitted");
    await ec2.send(new AcceptTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: attId }));
    await available(other, attId);
    expect(
      (
        await fails(
          ec2.send(new RejectTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: attId })),
        )
      ).name,
    ).toBe("IncorrectState");
    expect(
      (
        await fails(
          ec2.send(new DescribeTransitGatewaysCommand({ TransitGatewayIds: ["tgw-0123456789abcdef0"] })),
        )
      ).name,
    ).toBe("InvalidTransitGatewayID.NotFound");
    expect(
      (
        await fails(
          ec2.send(
            new DescribeTransitGatewayAttachmentsCommand({
              TransitGatewayAttachmentIds: ["tgw-attach-0123456789abcdef0"],
            }),
          ),
        )
      ).name,
    ).toBe("InvalidTransitGatewayAttachmentID.NotFound");
  });
});
