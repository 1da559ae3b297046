import {
  AttachVpnGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateTransitGatewayCommand,
  CreateTransitGatewayVpcAttachmentCommand,
  CreateVpcCommand,
  CreateVpnGatewayCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeTransitGatewayAttachmentsCommand,
  DescribeTransitGatewaysCommand,
  DescribeVpcEndpointsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhyResult } from "../../src/analyze/why.js";
import { decide } from "../../src/flow/index.js";
import { addresses, type Consumer, exchange, newAccount, type Provider, until } from "../dataplane/world.js";
import { fails } from "../helpers/errors.js";
import { jsonWire } from "../helpers/json-wire.js";
import { echoHub } from "../helpers/net-world-echo.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { Listening } from "../net/sockets.js";

/**
 * A Direct Connect gateway shared across accounts, as AWS does it: network account A owns the
 * connection at site pdc, the DX gateway and a transit VIF; workload account B owns the transit
 * gateway and the VPC with the interface endpoint. B proposes the association, A accepts it
 * (overriding the prefixes), and the allowed prefixes decide what site pdc reaches: the
 * endpoint inside them over real sockets, an address outside them refused with the reason.
 */

const A = "555700000003";
const B = "555700000002";
const DX = jsonWire("directconnect", "OvertureService");

describe("Direct Connect gateway association proposals and allowed prefixes (two accounts)", () => {
  let srv: TestServer;
  let echoServer: Listening;
  let provider: Provider;
  let hub: Consumer;
  let ec2: EC2Client;
  let endpointHost: string;
  let endpointIp: string;
  let tgwId: string;
  let site: { workloadHost: string };
  let dxA: { send(c: unknown): Promise<any> };
  let dxB: { send(c: unknown): Promise<any> };
  let dxgw: string;
  let associationId: string;

  const D = DX.sdk;
  const probe = () =>
    exchange({ host: endpointHost, port: provider.listenerPort }, site.workloadHost, Buffer.from("pdc"));
  const why = (destination: string) =>
    decide(srv.state, {
      source: { kind: "outside", address: site.workloadHost },
      destination,
      port: provider.listenerPort,
    });
  const associationState = async () =>
    (await dxB.send(new D.DescribeDirectConnectGatewayAssociationsCommand({ associatedGatewayId: tgwId })))
      .directConnectGatewayAssociations[0];
  const settled = (state: string) =>
    until(async () => {
      const a = await associationState();
      return a?.associationState === state ? a : undefined;
    }, `association ${state}`);

  beforeAll(async () => {
    srv = await startTestServer();
    ({ echoServer, provider, hub, ec2, endpointHost } = await echoHub(
      srv,
      { provider: "555700000001", consumer: B },
      "10.71.0.0/16",
    ));
    site = await srv.admin("POST", "/_privlink/sites", { name: "pdc", cidr: "172.22.0.0/16" });
    dxA = DX.client(srv.url, await newAccount(srv, A));
    dxB = DX.client(srv.url, hub.creds);
    const eniId = (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [hub.endpointId] })))
      .VpcEndpoints![0]!.NetworkInterfaceIds![0]!;
    endpointIp = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })))
      .NetworkInterfaces![0]!.PrivateIpAddress!;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: hub.endpointSg,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: provider.listenerPort,
            ToPort: provider.listenerPort,
            IpRanges: [{ CidrIp: "172.22.0.0/16" }],
          },
        ],
      }),
    );
    tgwId = (await ec2.send(new CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
    await until(async () => {
      const t = await ec2.send(new DescribeTransitGatewaysCommand({ TransitGatewayIds: [tgwId] }));
      return t.TransitGateways![0]!.State === "available" || undefined;
    }, "tgw");
    await ec2.send(
      new CreateTransitGatewayVpcAttachmentCommand({
        TransitGatewayId: tgwId,
        VpcId: hub.vpcId,
        SubnetIds: [hub.subnetId],
      }),
    );
    const rtb = (
      await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: [hub.vpcId] }] }))
    ).RouteTables![0]!.RouteTableId!;
    await until(async () => {
      const a = await ec2.send(
        new DescribeTransitGatewayAttachmentsCommand({
          Filters: [{ Name: "resource-id", Values: [hub.vpcId] }],
        }),
      );
      return a.TransitGatewayAttachments![0]?.State === "available" || undefined;
    }, "vpc attachment");
    await ec2.send(
      new CreateRouteCommand({
        RouteTableId: rtb,
        DestinationCidrBlock: "172.22.0.0/16",
        TransitGatewayId: tgwId,
      }),
    );
    // Account A: the cross-connect from site pdc, its DX gateway and a transit VIF on it.
    const con = await dxA.send(
      new D.CreateConnectionCommand({ location: "pdc", bandwidth: "1Gbps", connectionName: "pdc-link" }),
    );
    dxgw = (
      await dxA.send(
        new D.CreateDirectConnectGatewayCommand({ directConnectGatewayName: "shared", amazonSideAsn: 64620 }),
      )
    ).directConnectGateway.directConnectGatewayId;
    await dxA.send(
      new D.CreateTransitVirtualInterfaceCommand({
        connectionId: con.connectionId,
        newTransitVirtualInterface: {
          virtualInterfaceName: "pdc-transit",
          vlan: 301,
          asn: 65030,
          directConnectGatewayId: dxgw,
        },
      }),
    );
    await until(() => (srv.dataplane.dataplane.listenerCount > 0 ? true : undefined), "listener");
  }, 90_000);

  afterAll(async () => {
    await srv?.stop();
    await echoServer?.close();
  });

  it("B proposes, only A accepts (overriding the prefixes), and the association shows both owners", async () => {
    // B cannot associate its TGW with A's DX gateway directly: A's gateway is not B's to use.
    const direct = await fails(
      dxB.send(
        new D.CreateDirectConnectGatewayAssociationCommand({
          directConnectGatewayId: dxgw,
          gatewayId: tgwId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.0.0/16" }],
        }),
      ),
    );
    expect(direct).toMatchObject({ name: "DirectConnectClientException", status: 400 });
    expect(direct.message).toContain(`Direct Connect gateway ${dxgw} does not exist`);
    const wrongOwner = await fails(
      dxB.send(
        new D.CreateDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          directConnectGatewayOwnerAccount: "999999999999",
          gatewayId: tgwId,
        }),
      ),
    );
    expect(wrongOwner.name).toBe("DirectConnectClientException");
    const badPrefix = await fails(
      dxB.send(
        new D.CreateDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          directConnectGatewayOwnerAccount: A,
          gatewayId: tgwId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.0.1/16" }],
        }),
      ),
    );
    expect(badPrefix.message).toContain("10.71.0.1/16");

    const proposal = (
      await dxB.send(
        new D.CreateDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          directConnectGatewayOwnerAccount: A,
          gatewayId: tgwId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.0.0/16" }],
        }),
      )
    ).directConnectGatewayAssociationProposal;
    expect(proposal).toMatchObject({
      directConnectGatewayId: dxgw,
      directConnectGatewayOwnerAccount: A,
      proposalState: "requested",
      associatedGateway: { id: tgwId, type: "transitGateway", ownerAccount: B, region: "us-east-1" },
      existingAllowedPrefixesToDirectConnectGateway: [],
      requestedAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.0.0/16" }],
    });
    // Both parties see it; a second proposal for the same pair waits for this one.
    for (const client of [dxA, dxB])
      expect(
        (
          await client.send(
            new D.DescribeDirectConnectGatewayAssociationProposalsCommand({ directConnectGatewayId: dxgw }),
          )
        ).directConnectGatewayAssociationProposals.map((p: any) => p.proposalId),
      ).toEqual([proposal.proposalId]);
    expect(
      (
        await fails(
          dxB.send(
            new D.CreateDirectConnectGatewayAssociationProposalCommand({
              directConnectGatewayId: dxgw,
              directConnectGatewayOwnerAccount: A,
              gatewayId: tgwId,
              addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.0.0/16" }],
            }),
          ),
        )
      ).message,
    ).toContain("already requested");
    // The proposer cannot accept its own proposal; the DX gateway's owner cannot delete it.
    const selfAccept = await fails(
      dxB.send(
        new D.AcceptDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          proposalId: proposal.proposalId,
          associatedGatewayOwnerAccount: B,
        }),
      ),
    );
    expect(selfAccept.name).toBe("DirectConnectClientException");
    const foreignDelete = await fails(
      dxA.send(
        new D.DeleteDirectConnectGatewayAssociationProposalCommand({ proposalId: proposal.proposalId }),
      ),
    );
    expect(foreignDelete.message).toContain("only the proposer deletes it");
    const wrongAccount = await fails(
      dxA.send(
        new D.AcceptDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          proposalId: proposal.proposalId,
          associatedGatewayOwnerAccount: "999999999999",
        }),
      ),
    );
    expect(wrongAccount.name).toBe("DirectConnectClientException");

    // A accepts, narrowing what pdc learns to the endpoint's own address.
    const accepted = (
      await dxA.send(
        new D.AcceptDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          proposalId: proposal.proposalId,
          associatedGatewayOwnerAccount: B,
          overrideAllowedPrefixesToDirectConnectGateway: [{ cidr: `${endpointIp}/32` }],
        }),
      )
    ).directConnectGatewayAssociation;
    expect(accepted).toMatchObject({
      directConnectGatewayId: dxgw,
      directConnectGatewayOwnerAccount: A,
      associationState: "associating",
      associatedGateway: { id: tgwId, type: "transitGateway", ownerAccount: B, region: "us-east-1" },
      allowedPrefixesToDirectConnectGateway: [{ cidr: `${endpointIp}/32` }],
    });
    associationId = accepted.associationId;
    const proposals = await dxB.send(
      new D.DescribeDirectConnectGatewayAssociationProposalsCommand({ proposalId: proposal.proposalId }),
    );
    expect(proposals.directConnectGatewayAssociationProposals[0].proposalState).toBe("accepted");
    expect(await settled("associated")).toMatchObject({ associationId });
    // A sees the same association from its side.
    const fromA = await dxA.send(
      new D.DescribeDirectConnectGatewayAssociationsCommand({ directConnectGatewayId: dxgw }),
    );
    expect(fromA.directConnectGatewayAssociations.map((a: any) => a.associationId)).toEqual([associationId]);
    // The DX gateway attachment is B's, on B's TGW.
    const att = await until(async () => {
      const r = await ec2.send(
        new DescribeTransitGatewayAttachmentsCommand({ Filters: [{ Name: "resource-id", Values: [dxgw] }] }),
      );
      const a = r.TransitGatewayAttachments![0];
      return a?.State === "available" ? a : undefined;
    }, "dx gateway attachment");
    expect(att).toMatchObject({ ResourceType: "direct-connect-gateway", TransitGatewayOwnerId: B });
  });

  it("the site reaches an address inside the allowed prefixes and is refused outside them, with the reason", async () => {
    expect(await probe()).toEqual({ kind: "data", data: Buffer.from("pdc") });
    const inside = why(endpointHost);
    expect(inside.allowed).toBe(true);
    expect(inside.hops.find((h) => h.kind === "direct-connect")?.allowed).toBe(true);
    // The workload instance is in the same VPC but outside the /32 pdc learns.
    const workload = addresses(srv, hub).workload;
    const outside = why(workload);
    expect(outside.allowed).toBe(false);
    expect(outside.reason).toContain(
      `outside the allowed prefixes of Direct Connect gateway association ${associationId}`,
    );
    expect(outside.reason).toContain(`learns only ${endpointIp}/32`);
    // `why` names the smallest fix: add the VPC's CIDR to the association's allowed prefixes.
    const explained = await srv.admin<WhyResult>("POST", "/_privlink/why", {
      source: "site:pdc",
      destination: `${workload}:${provider.listenerPort}`,
    });
    expect(explained.allowed).toBe(false);
    expect(explained.hops[explained.refusedAt!]!.kind).toBe("direct-connect");
    expect(explained.fix).toBe(
      `aws directconnect update-direct-connect-gateway-association --association-id ${associationId} --add-allowed-prefixes-to-direct-connect-gateway cidr=${srv.state.get("vpc", hub.vpcId)!.cidrBlocks[0]!.cidr}`,
    );
    expect(
      (await exchange({ host: workload, port: provider.listenerPort }, site.workloadHost, Buffer.from("x")))
        .kind,
    ).toBe("refused");
    // The other way: the workload's own address is not advertised, so pdc cannot answer it.
    const eniId = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [hub.instanceId] })))
      .Reservations![0]!.Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId!;
    const back = decide(srv.state, {
      source: { kind: "eni", eniId },
      destination: site.workloadHost,
      port: 22,
    });
    expect(back.allowed).toBe(false);
    expect(back.reason).toContain(`Direct Connect gateway association ${associationId}`);
  });

  it("A updates the prefixes (B must propose instead), and the endpoint falls outside them", async () => {
    const byB = await fails(
      dxB.send(
        new D.UpdateDirectConnectGatewayAssociationCommand({
          associationId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.0.0/16" }],
        }),
      ),
    );
    expect(byB.message).toContain("CreateDirectConnectGatewayAssociationProposal");
    const notThere = await fails(
      dxA.send(
        new D.UpdateDirectConnectGatewayAssociationCommand({
          associationId,
          removeAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.0.0.0/8" }],
        }),
      ),
    );
    expect(notThere.message).toContain("10.0.0.0/8 is not an allowed prefix");
    const updated = (
      await dxA.send(
        new D.UpdateDirectConnectGatewayAssociationCommand({
          associationId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.99.0.0/16" }],
          removeAllowedPrefixesToDirectConnectGateway: [{ cidr: `${endpointIp}/32` }],
        }),
      )
    ).directConnectGatewayAssociation;
    expect(updated).toMatchObject({
      associationState: "updating",
      allowedPrefixesToDirectConnectGateway: [{ cidr: "10.99.0.0/16" }],
    });
    await settled("associated");
    expect((await probe()).kind).toBe("refused");
    const reason = why(endpointHost).reason;
    expect(reason).toContain(associationId);
    expect(reason).toContain("allowed prefixes: 10.99.0.0/16");

    // B's change is a proposal over the existing association: existing and requested prefixes.
    const change = (
      await dxB.send(
        new D.CreateDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          directConnectGatewayOwnerAccount: A,
          gatewayId: tgwId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.1.0/24" }],
          removeAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.99.0.0/16" }],
        }),
      )
    ).directConnectGatewayAssociationProposal;
    expect(change).toMatchObject({
      existingAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.99.0.0/16" }],
      requestedAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.1.0/24" }],
    });
    await dxA.send(
      new D.AcceptDirectConnectGatewayAssociationProposalCommand({
        directConnectGatewayId: dxgw,
        proposalId: change.proposalId,
        associatedGatewayOwnerAccount: B,
      }),
    );
    await settled("associated");
    expect(await probe()).toEqual({ kind: "data", data: Buffer.from("pdc") });
  });

  it("the proposer deletes a requested proposal; either owner disassociates", async () => {
    const p = (
      await dxB.send(
        new D.CreateDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          directConnectGatewayOwnerAccount: A,
          gatewayId: tgwId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.2.0/24" }],
        }),
      )
    ).directConnectGatewayAssociationProposal;
    const deleted = (
      await dxB.send(new D.DeleteDirectConnectGatewayAssociationProposalCommand({ proposalId: p.proposalId }))
    ).directConnectGatewayAssociationProposal;
    expect(deleted.proposalState).toBe("deleted");
    const late = await fails(
      dxA.send(
        new D.AcceptDirectConnectGatewayAssociationProposalCommand({
          directConnectGatewayId: dxgw,
          proposalId: p.proposalId,
          associatedGatewayOwnerAccount: B,
        }),
      ),
    );
    expect(late.message).toContain("does not exist");

    const gone = (await dxB.send(new D.DeleteDirectConnectGatewayAssociationCommand({ associationId })))
      .directConnectGatewayAssociation;
    expect(gone.associationState).toBe("disassociating");
    await until(
      async () => ((await associationState()) === undefined ? true : undefined),
      "association disassociated",
    );
    expect((await probe()).kind).toBe("refused");
  });

  it("a VGW association defaults to its VPC's CIDRs and needs an attached VGW", async () => {
    const dx = (
      await dxB.send(new D.CreateDirectConnectGatewayCommand({ directConnectGatewayName: "b-own" }))
    ).directConnectGateway.directConnectGatewayId;
    const vgw = (await ec2.send(new CreateVpnGatewayCommand({ Type: "ipsec.1" }))).VpnGateway!.VpnGatewayId!;
    const detached = await fails(
      dxB.send(
        new D.CreateDirectConnectGatewayAssociationCommand({ directConnectGatewayId: dx, gatewayId: vgw }),
      ),
    );
    expect(detached.message).toContain("is not attached to a VPC");
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.72.0.0/16" }))).Vpc!.VpcId!;
    await ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: vgw, VpcId: vpcId }));
    const a = (
      await dxB.send(
        new D.CreateDirectConnectGatewayAssociationCommand({ directConnectGatewayId: dx, gatewayId: vgw }),
      )
    ).directConnectGatewayAssociation;
    expect(a).toMatchObject({
      virtualGatewayId: vgw,
      virtualGatewayOwnerAccount: B,
      allowedPrefixesToDirectConnectGateway: [{ cidr: "10.72.0.0/16" }],
    });
    // A DX gateway with a VGW association cannot also take a transit gateway.
    const mixed = await fails(
      dxB.send(
        new D.CreateDirectConnectGatewayAssociationCommand({
          directConnectGatewayId: dx,
          gatewayId: tgwId,
          addAllowedPrefixesToDirectConnectGateway: [{ cidr: "10.71.0.0/16" }],
        }),
      ),
    );
    expect(mixed.message).toContain("cannot be associated with transit gateway");
  });
});
