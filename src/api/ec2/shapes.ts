import type * as ec2 from "@aws-sdk/client-ec2";
import { instancePublicName, privateDnsName } from "../../cloud/instance-address.js";
import type { Tx } from "../../cloud/state.js";
import { availableIpCount } from "../../cloud/subnet.js";
import type {
  Eni,
  Instance,
  InternetGateway,
  RouteTable,
  SecurityGroup,
  SgRule,
  Subnet,
  Vpc,
} from "../../cloud/types.js";
import { tagList } from "../handler.js";
import { perVersion } from "../shape-memo.js";

/** Domain objects as the EC2 API shows them (SDK output shapes). */

export function vpcShape(v: Vpc): ec2.Vpc {
  const primary = v.cidrBlocks[0]!;
  return {
    OwnerId: v.accountId,
    InstanceTenancy: v.instanceTenancy as ec2.Tenancy,
    CidrBlockAssociationSet: v.cidrBlocks.map((b) => ({
      AssociationId: b.associationId,
      CidrBlock: b.cidr,
      CidrBlockState: { State: b.state },
    })),
    IsDefault: v.isDefault,
    Tags: tagList(v.tags),
    VpcId: v.id,
    State: "available",
    CidrBlock: primary.cidr,
    DhcpOptionsId: v.dhcpOptionsId,
  };
}

export const subnetShape = perVersion((tx: Tx, s: Subnet): ec2.Subnet => {
  return {
    AvailabilityZoneId: s.azId,
    MapCustomerOwnedIpOnLaunch: false,
    OwnerId: s.accountId,
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: [],
    Tags: tagList(s.tags),
    SubnetArn: `arn:aws:ec2:${s.region}:${s.accountId}:subnet/${s.id}`,
    EnableDns64: false,
    Ipv6Native: false,
    PrivateDnsNameOptionsOnLaunch: {
      HostnameType: "ip-name",
      EnableResourceNameDnsARecord: false,
      EnableResourceNameDnsAAAARecord: false,
    },
    SubnetId: s.id,
    State: "available",
    VpcId: s.vpcId,
    CidrBlock: s.cidr,
    AvailableIpAddressCount: availableIpCount(tx, s),
    AvailabilityZone: s.az,
    DefaultForAz: s.defaultForAz,
    MapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
  };
});

/** The shapes DescribeVpcs and DescribeSecurityGroups list, built once per state version. */
export const listedVpcShape = perVersion((_tx: Tx, v: Vpc) => vpcShape(v));
export const listedSecurityGroupShape = perVersion((_tx: Tx, g: SecurityGroup) => securityGroupShape(g));

/** AWS groups rules with the same protocol and ports into one IpPermission. */
function permissions(rules: readonly SgRule[]): ec2.IpPermission[] {
  const out = new Map<string, ec2.IpPermission>();
  for (const r of rules) {
    const key = `${r.protocol}/${r.fromPort}/${r.toPort}`;
    let p = out.get(key);
    if (!p) {
      p = {
        IpProtocol: r.protocol,
        ...(r.protocol === "-1" ? {} : { FromPort: r.fromPort, ToPort: r.toPort }),
        UserIdGroupPairs: [],
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
      };
      out.set(key, p);
    }
    if (r.cidrIpv4) p.IpRanges!.push({ CidrIp: r.cidrIpv4, Description: r.description });
    if (r.cidrIpv6) p.Ipv6Ranges!.push({ CidrIpv6: r.cidrIpv6, Description: r.description });
    if (r.prefixListId) p.PrefixListIds!.push({ PrefixListId: r.prefixListId, Description: r.description });
    if (r.groupId)
      p.UserIdGroupPairs!.push({ GroupId: r.groupId, UserId: r.groupOwnerId, Description: r.description });
  }
  return [...out.values()];
}

export function securityGroupShape(g: SecurityGroup): ec2.SecurityGroup {
  return {
    GroupId: g.id,
    IpPermissionsEgress: permissions(g.egress),
    Tags: tagList(g.tags),
    VpcId: g.vpcId,
    SecurityGroupArn: `arn:aws:ec2:${g.region}:${g.accountId}:security-group/${g.id}`,
    OwnerId: g.accountId,
    GroupName: g.name,
    Description: g.description,
    IpPermissions: permissions(g.ingress),
  };
}

export function ruleShape(g: SecurityGroup, r: SgRule, isEgress: boolean): ec2.SecurityGroupRule {
  return {
    SecurityGroupRuleId: r.ruleId,
    GroupId: g.id,
    GroupOwnerId: g.accountId,
    IsEgress: isEgress,
    IpProtocol: r.protocol,
    FromPort: r.fromPort,
    ToPort: r.toPort,
    CidrIpv4: r.cidrIpv4,
    CidrIpv6: r.cidrIpv6,
    PrefixListId: r.prefixListId,
    ReferencedGroupInfo: r.groupId ? { GroupId: r.groupId, UserId: r.groupOwnerId } : undefined,
    Description: r.description,
    Tags: [],
    SecurityGroupRuleArn: `arn:aws:ec2:${g.region}:${g.accountId}:security-group-rule/${r.ruleId}`,
  };
}

export function routeTableShape(r: RouteTable): ec2.RouteTable {
  return {
    Associations: r.associations.map((a) => ({
      Main: a.main,
      RouteTableAssociationId: a.id,
      RouteTableId: r.id,
      SubnetId: a.subnetId,
      AssociationState: { State: "associated" },
    })),
    PropagatingVgws: (r.propagatingVgws ?? []).map((GatewayId) => ({ GatewayId })),
    RouteTableId: r.id,
    Routes: r.routes.map((x) => ({
      DestinationCidrBlock: x.destinationCidr,
      DestinationPrefixListId: x.destinationPrefixListId,
      GatewayId: x.target.kind === "local" ? "local" : x.target.kind === "gateway" ? x.target.id : undefined,
      NatGatewayId: x.target.kind === "nat" ? x.target.id : undefined,
      VpcPeeringConnectionId: x.target.kind === "peering" ? x.target.id : undefined,
      TransitGatewayId: x.target.kind === "transit" ? x.target.id : undefined,
      NetworkInterfaceId: x.target.kind === "eni" ? x.target.id : undefined,
      Origin: x.origin,
      State: x.state,
    })),
    Tags: tagList(r.tags),
    VpcId: r.vpcId,
    OwnerId: r.accountId,
  };
}

export function internetGatewayShape(g: InternetGateway): ec2.InternetGateway {
  return {
    Attachments: g.attachments.map((a) => ({ State: a.state as ec2.AttachmentStatus, VpcId: a.vpcId })),
    InternetGatewayId: g.id,
    OwnerId: g.accountId,
    Tags: tagList(g.tags),
  };
}

function groupRefs(tx: Tx, ids: readonly string[]): ec2.GroupIdentifier[] {
  return ids.map((id) => ({ GroupId: id, GroupName: tx.get("securityGroup", id)?.name }));
}

export const eniShape = perVersion((tx: Tx, e: Eni): ec2.NetworkInterface => {
  const subnet = tx.get("subnet", e.subnetId);
  return {
    Attachment: e.attachment
      ? { ...attachmentOf(e.attachment), InstanceId: e.attachment.instanceId, InstanceOwnerId: e.accountId }
      : undefined,
    AvailabilityZone: e.az,
    AvailabilityZoneId: subnet?.azId,
    Description: e.description,
    Groups: groupRefs(tx, e.securityGroupIds),
    InterfaceType: e.interfaceType as ec2.NetworkInterfaceType,
    Ipv6Addresses: [],
    MacAddress: e.macAddress,
    NetworkInterfaceId: e.id,
    OwnerId: e.accountId,
    ...primaryAddress(e),
    Association: publicAssociation(tx, e),
    RequesterId: e.requesterId,
    RequesterManaged: e.requesterManaged,
    SourceDestCheck: true,
    Status: e.status,
    SubnetId: e.subnetId,
    TagSet: tagList(e.tags),
    VpcId: e.vpcId,
  };
});

const STATE_CODES: Record<Instance["state"], number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
};

export function instanceStateShape(state: Instance["state"]): ec2.InstanceState {
  return { Code: STATE_CODES[state], Name: state };
}

export function instanceShape(tx: Tx, i: Instance): ec2.Instance {
  const eni = tx.get("eni", i.eniId);
  const live = i.state !== "terminated" && eni;
  const ip = live ? eni.privateIp : undefined;
  return {
    AmiLaunchIndex: 0,
    ImageId: i.imageId,
    InstanceId: i.id,
    InstanceType: i.instanceType as ec2._InstanceType,
    KeyName: i.keyName,
    LaunchTime: new Date(i.launchTime),
    Monitoring: { State: "disabled" },
    Placement: { AvailabilityZone: tx.get("subnet", i.subnetId)?.az, Tenancy: "default", GroupName: "" },
    PrivateDnsName: ip ? privateDnsName(i.region, ip) : "",
    PrivateIpAddress: ip,
    PublicDnsName: (live && instancePublicName(tx, i)) || "",
    PublicIpAddress: live ? i.publicIp : undefined,
    State: instanceStateShape(i.state),
    SubnetId: live ? i.subnetId : undefined,
    VpcId: live ? i.vpcId : undefined,
    Architecture: "x86_64",
    RootDeviceType: "ebs",
    RootDeviceName: "/dev/xvda",
    Hypervisor: "xen",
    VirtualizationType: "hvm",
    IamInstanceProfile: i.iamRoleArn
      ? {
          Arn: i.iamRoleArn.replace(":role/", ":instance-profile/"),
          Id: `AIPA${i.id.slice(2, 19).toUpperCase()}`,
        }
      : undefined,
    NetworkInterfaces: live ? [{ ...eniAsInstanceNic(tx, eni) }] : [],
    SecurityGroups: live ? groupRefs(tx, eni.securityGroupIds) : [],
    Tags: tagList(i.tags),
  };
}

/** Both views show the attachment; only the ENI view says which instance holds it. */
function attachmentOf(a: NonNullable<Eni["attachment"]>) {
  return {
    AttachTime: new Date(a.attachedAt),
    AttachmentId: a.id,
    DeleteOnTermination: true,
    DeviceIndex: a.deviceIndex,
    NetworkCardIndex: 0,
    Status: "attached" as const,
  };
}

/** The public address of the instance holding the ENI (AWS's auto-assigned ones are owned by "amazon"). */
function publicAssociation(tx: Tx, e: Eni) {
  const i = e.attachment?.instanceId ? tx.get("instance", e.attachment.instanceId) : undefined;
  if (!i?.publicIp || i.state === "terminated") return undefined;
  return { IpOwnerId: "amazon", PublicIp: i.publicIp, PublicDnsName: instancePublicName(tx, i) ?? "" };
}

/** DescribeNetworkInterfaces and an instance's NetworkInterfaces name the one address alike. */
function primaryAddress(e: Eni) {
  const dns = privateDnsName(e.region, e.privateIp);
  return {
    PrivateDnsName: dns,
    PrivateIpAddress: e.privateIp,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: e.privateIp, PrivateDnsName: dns }],
  };
}

function eniAsInstanceNic(tx: Tx, e: Eni): ec2.InstanceNetworkInterface {
  return {
    Attachment: e.attachment ? attachmentOf(e.attachment) : undefined,
    Description: e.description,
    Groups: groupRefs(tx, e.securityGroupIds),
    MacAddress: e.macAddress,
    NetworkInterfaceId: e.id,
    OwnerId: e.accountId,
    ...primaryAddress(e),
    Association: publicAssociation(tx, e),
    SourceDestCheck: true,
    Status: e.status,
    SubnetId: e.subnetId,
    VpcId: e.vpcId,
    InterfaceType: e.interfaceType,
  };
}
