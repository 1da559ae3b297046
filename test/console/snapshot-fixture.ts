import type { Snapshot } from "../../console/src/model.js";

const owned = (id: string, accountId: string, tags: Record<string, string> = {}) => ({
  id,
  accountId,
  region: "us-east-1",
  tags,
});

/**
 * A small world in the console's shapes: provider 111111111111 (VPC, NLB, service, an IP
 * target), consumer 222222222222 (VPC, subnet, workload, an endpoint to the service), a
 * peering between the two VPCs, a transit gateway and an on-premises site over VPN.
 */
export function world(): Snapshot {
  return {
    stateVersion: 7,
    accounts: [{ id: "111111111111" }, { id: "222222222222" }],
    vpcs: [
      {
        ...owned("vpc-p", "111111111111", { Name: "provider" }),
        cidrBlocks: [{ cidr: "10.0.0.0/16", state: "associated" }],
      },
      { ...owned("vpc-c", "222222222222"), cidrBlocks: [{ cidr: "10.1.0.0/16", state: "associated" }] },
    ],
    subnets: [
      {
        ...owned("subnet-p", "111111111111"),
        vpcId: "vpc-p",
        cidr: "10.0.1.0/24",
        az: "us-east-1a",
        azId: "use1-az1",
      },
      {
        ...owned("subnet-c", "222222222222"),
        vpcId: "vpc-c",
        cidr: "10.1.1.0/24",
        az: "us-east-1a",
        azId: "use1-az2",
      },
    ],
    enis: [
      {
        ...owned("eni-i", "222222222222"),
        vpcId: "vpc-c",
        subnetId: "subnet-c",
        privateIp: "10.1.1.10",
        interfaceType: "interface",
        description: "",
        securityGroupIds: [],
      },
      {
        ...owned("eni-e", "222222222222"),
        vpcId: "vpc-c",
        subnetId: "subnet-c",
        privateIp: "10.1.1.20",
        interfaceType: "vpc_endpoint",
        description: "",
        securityGroupIds: ["sg-e"],
      },
      {
        ...owned("eni-lb", "111111111111"),
        vpcId: "vpc-p",
        subnetId: "subnet-p",
        privateIp: "10.0.1.5",
        interfaceType: "network_load_balancer",
        description: "",
        securityGroupIds: [],
      },
    ],
    instances: [
      {
        ...owned("i-w", "222222222222", { Name: "workload" }),
        vpcId: "vpc-c",
        subnetId: "subnet-c",
        eniId: "eni-i",
        state: "running",
      },
    ],
    securityGroups: [
      { ...owned("sg-e", "222222222222"), vpcId: "vpc-c", name: "endpoint", ingress: [], egress: [] },
    ],
    loadBalancers: [
      {
        ...owned("arn:lb/p", "111111111111"),
        name: "nlb-p",
        type: "network",
        vpcId: "vpc-p",
        dnsName: "nlb-p.elb",
        state: "active",
        subnets: [{ subnetId: "subnet-p", az: "us-east-1a" }],
        enis: [{ subnetId: "subnet-p", eniId: "eni-lb" }],
      },
    ],
    targetGroups: [
      {
        ...owned("arn:tg/p", "111111111111"),
        name: "tg-p",
        port: 9000,
        targets: [{ id: "127.0.0.1", port: 9000 }],
      },
    ],
    listeners: [
      {
        ...owned("arn:listener/p", "111111111111"),
        loadBalancerArn: "arn:lb/p",
        port: 7070,
        protocol: "TCP",
        targetGroupArn: "arn:tg/p",
      },
    ],
    services: [
      {
        ...owned("vpce-svc-1", "111111111111"),
        serviceName: "com.amazonaws.vpce.us-east-1.vpce-svc-1",
        state: "Available",
        acceptanceRequired: true,
        networkLoadBalancerArns: ["arn:lb/p"],
        permissions: [{ principal: "arn:aws:iam::222222222222:root", principalType: "Account" }],
      },
    ],
    endpoints: [
      {
        ...owned("vpce-1", "222222222222"),
        type: "Interface",
        vpcId: "vpc-c",
        serviceName: "com.amazonaws.vpce.us-east-1.vpce-svc-1",
        serviceId: "vpce-svc-1",
        state: "pendingAcceptance",
        subnetIds: ["subnet-c"],
        enis: [{ subnetId: "subnet-c", eniId: "eni-e" }],
        securityGroupIds: ["sg-e"],
        privateDnsEnabled: false,
        dnsNames: [
          { name: "vpce-1-abc.vpce-svc-1.us-east-1.vpce.amazonaws.com", kind: "regional" },
          {
            name: "vpce-1-abc-us-east-1a.vpce-svc-1.us-east-1.vpce.amazonaws.com",
            kind: "zonal",
            az: "us-east-1a",
          },
          {
            name: "vpce-1-abc-us-east-1b.vpce-svc-1.us-east-1.vpce.amazonaws.com",
            kind: "zonal",
            az: "us-east-1b",
          },
        ],
        createdAt: "2026-01-01T00:00:00.000Z",
      },
    ],
    peerings: [
      {
        ...owned("pcx-1", "222222222222"),
        requester: { vpcId: "vpc-c", ownerId: "222222222222" },
        accepter: { vpcId: "vpc-p", ownerId: "111111111111" },
        status: "active",
      },
      {
        ...owned("pcx-old", "222222222222"),
        requester: { vpcId: "vpc-c", ownerId: "222222222222" },
        accepter: { vpcId: "vpc-p", ownerId: "111111111111" },
        status: "deleted",
      },
    ],
    transitGateways: [{ ...owned("tgw-1", "111111111111"), state: "available" }],
    tgwAttachments: [
      {
        ...owned("tgw-attach-1", "111111111111"),
        transitGatewayId: "tgw-1",
        resourceType: "vpc",
        resourceId: "vpc-p",
        state: "available",
      },
    ],
    natGateways: [],
    sites: [{ id: "dc1", cidr: "192.168.0.0/16", publicIp: "198.51.100.1", tunnelsDown: false }],
    customerGateways: [{ ...owned("cgw-1", "111111111111"), ipAddress: "198.51.100.1" }],
    vpnConnections: [
      {
        ...owned("vpn-1", "111111111111"),
        customerGatewayId: "cgw-1",
        transitGatewayId: "tgw-1",
        state: "available",
      },
    ],
    vpnGateways: [],
    connectionEvents: [],
  };
}
