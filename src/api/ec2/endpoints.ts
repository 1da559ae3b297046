import type * as ec2 from "@aws-sdk/client-ec2";
import type { Ctx } from "../../cloud/context.js";
import {
  checkEndpointId,
  connectionsOf,
  endpointNotFound,
  endpointsOf,
  getVpcEndpoint,
} from "../../cloud/endpoint.js";
import type { DnsOptionsInput } from "../../cloud/endpoint-checks.js";
import {
  acceptConnections,
  deleteVpcEndpoints,
  rejectConnections,
  type Unsuccessful,
} from "../../cloud/endpoint-connections.js";
import { createVpcEndpoint } from "../../cloud/endpoint-create.js";
import { endpointDnsNames } from "../../cloud/endpoint-dns.js";
import {
  modifyPayerResponsibility,
  modifyVpcEndpoint,
  payerResponsibilitiesOf,
} from "../../cloud/endpoint-modify.js";
import { azNamesFor, type ServiceView, servicesVisibleTo } from "../../cloud/endpoint-service-view.js";
import { AwsError } from "../../cloud/errors.js";
import {
  AWS_PREFIX_LIST_OWNER,
  getPrefixList,
  type ManagedPrefixList,
  prefixListArn,
  prefixListsOf,
} from "../../cloud/prefix-list.js";
import { compileFilters, type FilterFields, paginate } from "../../cloud/query.js";
import type { State, Tx } from "../../cloud/state.js";
import type { VpcEndpoint } from "../../cloud/types.js";
import {
  type Call,
  describe,
  filtersBut,
  filtersOf,
  type HandlerTable,
  need,
  pinnedBy,
  specTags,
  stateRead,
  tagList,
} from "../handler.js";
import { perVersion } from "../shape-memo.js";

/** A Describe's input without its filters: what is left to `describe` once they have run. */
const pageOf = (input: { MaxResults?: number; NextToken?: string }) => ({
  MaxResults: input.MaxResults,
  NextToken: input.NextToken,
});

/**
 * The consumer side of PrivateLink on the EC2 wire (spec §2.1), the provider's decisions on
 * connections (§2.2: accept, reject, describe connections) and the prefix lists gateway
 * endpoints route. The rules live in cloud/endpoint.ts; this file maps shapes.
 */

// ---- shapes ----

function dnsEntries(state: State | Tx, e: VpcEndpoint, withPrivate: boolean): ec2.DnsEntry[] {
  return endpointDnsNames(state, e)
    .filter((n) => withPrivate || n.kind !== "private")
    .map((n) => ({ DnsName: n.name, HostedZoneId: n.hostedZoneId }));
}

function payerShape(state: State | Tx, e: VpcEndpoint): ec2.PayerResponsibilityEntry[] | undefined {
  return payerResponsibilitiesOf(state, e)?.map((p) => ({
    Scope: p.scope as ec2.PayerResponsibilityScope,
    PayerResponsibilityType: p.type as ec2.PayerResponsibilityType,
  }));
}

export const vpcEndpointShape = perVersion((tx: Tx, e: VpcEndpoint): ec2.VpcEndpoint => {
  return {
    VpcEndpointId: e.id,
    VpcEndpointType: e.type,
    VpcId: e.vpcId,
    ServiceName: e.serviceName,
    // The wire carries the lowerCamel states (spec §3.2), not the SDK enum's capitalised ones.
    State: e.state as ec2.State,
    PolicyDocument: e.policyDocument,
    RouteTableIds: [...e.routeTableIds],
    SubnetIds: [...e.subnetIds],
    Groups: e.securityGroupIds.map((id) => ({ GroupId: id, GroupName: tx.get("securityGroup", id)?.name })),
    IpAddressType: e.ipAddressType,
    DnsOptions:
      e.type === "Interface"
        ? {
            DnsRecordIpType: e.dnsRecordIpType,
            PrivateDnsOnlyForInboundResolverEndpoint: e.privateDnsOnlyForInboundResolverEndpoint,
          }
        : undefined,
    PrivateDnsEnabled: e.privateDnsEnabled,
    RequesterManaged: false,
    NetworkInterfaceIds: e.enis.map((x) => x.eniId),
    DnsEntries: dnsEntries(tx, e, true),
    CreationTimestamp: new Date(e.createdAt),
    Tags: tagList(e.tags),
    OwnerId: e.accountId,
    LastError: e.lastError ? { Code: e.lastError.code, Message: e.lastError.message } : undefined,
    ServiceRegion: e.serviceRegion,
    PayerResponsibilities: payerShape(tx, e),
  };
});

function connectionShape(tx: Tx, e: VpcEndpoint): ec2.VpcEndpointConnection {
  const svc = e.serviceId ? tx.get("endpointService", e.serviceId) : undefined;
  return {
    ServiceId: e.serviceId,
    VpcEndpointId: e.id,
    VpcEndpointOwner: e.accountId,
    VpcEndpointState: e.state as ec2.State,
    CreationTimestamp: new Date(e.createdAt),
    DnsEntries: dnsEntries(tx, e, false),
    NetworkLoadBalancerArns: [...(svc?.networkLoadBalancerArns ?? [])],
    GatewayLoadBalancerArns: [...(svc?.gatewayLoadBalancerArns ?? [])],
    IpAddressType: e.ipAddressType,
    VpcEndpointConnectionId: e.connectionId,
    Tags: [],
    VpcEndpointRegion: e.region,
    PayerResponsibilities: payerShape(tx, e),
  };
}

function serviceDetailShape(ctx: Ctx, v: ServiceView): ec2.ServiceDetail {
  return {
    ServiceName: v.serviceName,
    ServiceId: v.serviceId,
    ServiceType: v.types.map((t) => ({ ServiceType: t as ec2.ServiceType })),
    ServiceRegion: v.region,
    AvailabilityZoneIds: [...v.azIds].sort(),
    AvailabilityZones: azNamesFor(ctx, v.region, v.azIds).sort(),
    Owner: v.owner,
    BaseEndpointDnsNames: [...v.baseEndpointDnsNames],
    PrivateDnsName: v.privateDnsNames[0],
    PrivateDnsNames:
      v.privateDnsNames.length > 0 ? v.privateDnsNames.map((n) => ({ PrivateDnsName: n })) : undefined,
    VpcEndpointPolicySupported: v.policySupported,
    AcceptanceRequired: v.acceptanceRequired,
    ManagesVpcEndpoints: false,
    PayerResponsibility: v.payerResponsibility,
    Tags: tagList(v.tags),
    PrivateDnsNameVerificationState: v.privateDnsVerificationState,
    SupportedIpAddressTypes: [...v.supportedIpAddressTypes],
  };
}

function unsuccessful(items: readonly Unsuccessful[]): ec2.UnsuccessfulItem[] {
  return items.map((u) => ({ Error: { Code: u.code, Message: u.message }, ResourceId: u.resourceId }));
}

// ---- inputs ----

function dnsOptionsOf(d: ec2.DnsOptionsSpecification | undefined): DnsOptionsInput | undefined {
  if (!d) return undefined;
  return {
    dnsRecordIpType: d.DnsRecordIpType,
    privateDnsOnlyForInboundResolverEndpoint: d.PrivateDnsOnlyForInboundResolverEndpoint,
    privateDnsPreference: d.PrivateDnsPreference,
    privateDnsSpecifiedDomains: d.PrivateDnsSpecifiedDomains,
  };
}

function subnetConfigsOf(list: ec2.SubnetConfiguration[] | undefined) {
  return list?.map((c) => ({ subnetId: c.SubnetId, ipv4: c.Ipv4, ipv6: c.Ipv6 }));
}

/** Explicit endpoint IDs in a Describe: malformed ones fail before unknown ones. */
function endpointIds(ids: string[] | undefined): string[] | undefined {
  for (const id of ids ?? []) checkEndpointId(id);
  return ids;
}

// ---- filters ----

const endpointFields: FilterFields<VpcEndpoint> = {
  "ip-address-type": (e) => e.ipAddressType,
  "service-name": (e) => e.serviceName,
  "service-region": (e) => e.serviceRegion,
  "vpc-id": (e) => e.vpcId,
  "vpc-endpoint-id": (e) => e.id,
  "vpc-endpoint-state": (e) => e.state,
  "vpc-endpoint-type": (e) => e.type,
};

const connectionFields: FilterFields<VpcEndpoint> = {
  "ip-address-type": (e) => e.ipAddressType,
  "service-id": (e) => e.serviceId,
  "vpc-endpoint-owner": (e) => e.accountId,
  "vpc-endpoint-region": (e) => e.region,
  "vpc-endpoint-state": (e) => e.state,
  "vpc-endpoint-id": (e) => e.id,
};

const serviceFields: FilterFields<ServiceView> = {
  owner: (v) => v.owner,
  "service-name": (v) => v.serviceName,
  "service-region": (v) => v.region,
  "service-type": (v) => [...v.types],
  "supported-ip-address-types": (v) => [...v.supportedIpAddressTypes],
};

/** Resource and ServiceNetwork endpoints have associations; privlink has none of those yet. */
const associationFields: FilterFields<never> = {
  "vpc-endpoint-id": () => undefined,
  "associated-resource-accessibility": () => undefined,
  "association-id": () => undefined,
  "associated-resource-id": () => undefined,
  "service-network-arn": () => undefined,
  "resource-configuration-group-arn": () => undefined,
};

const prefixListFields: FilterFields<ManagedPrefixList & { tags: Record<string, string> }> = {
  "prefix-list-id": (p) => p.id,
  "prefix-list-name": (p) => p.name,
};

const managedPrefixListFields: FilterFields<ManagedPrefixList & { tags: Record<string, string> }> = {
  ...prefixListFields,
  "owner-id": () => AWS_PREFIX_LIST_OWNER,
};

const prefixListNotFound = (id: string) =>
  new AwsError("InvalidPrefixListID.NotFound", `The prefix list ID '${id}' does not exist`);

// ---- handlers ----

function describeServices({ tx, ctx, input }: Call<ec2.DescribeVpcEndpointServicesRequest>) {
  let views = servicesVisibleTo(tx, ctx, input.ServiceRegions);
  if (input.ServiceNames?.length) {
    const known = new Set(views.map((v) => v.serviceName));
    const missing = input.ServiceNames.find((n) => !known.has(n));
    if (missing !== undefined)
      throw new AwsError("InvalidServiceName", `The Vpc Endpoint Service '${missing}' does not exist`);
    const wanted = new Set(input.ServiceNames);
    views = views.filter((v) => wanted.has(v.serviceName));
  }
  const match = compileFilters(filtersOf(input), serviceFields, (v) => v.tags, "InvalidFilter");
  const page = paginate(views.filter(match), input.MaxResults, input.NextToken);
  return {
    ServiceNames: [...new Set(page.items.map((v) => v.serviceName))],
    ServiceDetails: page.items.map((v) => serviceDetailShape(ctx, v)),
    NextToken: page.nextToken,
  };
}

function describeAssociations({ tx, ctx, input }: Call<ec2.DescribeVpcEndpointAssociationsRequest>) {
  for (const id of input.VpcEndpointIds ?? []) getVpcEndpoint(tx, ctx, id);
  compileFilters(filtersOf(input), associationFields, undefined, "InvalidFilter");
  const page = paginate([], input.MaxResults, input.NextToken);
  return { VpcEndpointAssociations: page.items, NextToken: page.nextToken };
}

const withTags = (p: ManagedPrefixList) => ({ ...p, tags: {} as Record<string, string> });

export const endpointHandlers: HandlerTable = {
  CreateVpcEndpoint: ({ tx, ctx, input }: Call<ec2.CreateVpcEndpointRequest>) => {
    const { endpoint, clientToken } = createVpcEndpoint(tx, ctx, {
      vpcId: input.VpcId,
      type: input.VpcEndpointType,
      serviceName: input.ServiceName,
      policyDocument: input.PolicyDocument,
      routeTableIds: input.RouteTableIds,
      subnetIds: input.SubnetIds,
      securityGroupIds: input.SecurityGroupIds,
      ipAddressType: input.IpAddressType,
      dnsOptions: dnsOptionsOf(input.DnsOptions),
      privateDnsEnabled: input.PrivateDnsEnabled,
      subnetConfigurations: subnetConfigsOf(input.SubnetConfigurations),
      serviceNetworkArn: input.ServiceNetworkArn,
      resourceConfigurationArn: input.ResourceConfigurationArn,
      serviceRegion: input.ServiceRegion,
      clientToken: input.ClientToken,
      tags: specTags(input.TagSpecifications, "vpc-endpoint"),
    });
    return { VpcEndpoint: vpcEndpointShape(tx, endpoint), ClientToken: clientToken };
  },

  ModifyVpcEndpoint: ({ tx, ctx, input }: Call<ec2.ModifyVpcEndpointRequest>) => {
    modifyVpcEndpoint(tx, ctx, need(input.VpcEndpointId, "VpcEndpointId"), {
      resetPolicy: input.ResetPolicy,
      policyDocument: input.PolicyDocument,
      addRouteTableIds: input.AddRouteTableIds,
      removeRouteTableIds: input.RemoveRouteTableIds,
      addSubnetIds: input.AddSubnetIds,
      removeSubnetIds: input.RemoveSubnetIds,
      addSecurityGroupIds: input.AddSecurityGroupIds,
      removeSecurityGroupIds: input.RemoveSecurityGroupIds,
      ipAddressType: input.IpAddressType,
      dnsOptions: dnsOptionsOf(input.DnsOptions),
      privateDnsEnabled: input.PrivateDnsEnabled,
      subnetConfigurations: subnetConfigsOf(input.SubnetConfigurations),
    });
    return { Return: true };
  },

  DeleteVpcEndpoints: ({ tx, ctx, input }: Call<ec2.DeleteVpcEndpointsRequest>) => ({
    Unsuccessful: unsuccessful(deleteVpcEndpoints(tx, ctx, need(input.VpcEndpointIds, "VpcEndpointId"))),
  }),

  DescribeVpcEndpoints: stateRead(({ tx, ctx, input }: Call<ec2.DescribeVpcEndpointsRequest>) => {
    const ids = endpointIds(input.VpcEndpointIds);
    const vpcId = pinnedBy(input, "vpc-id", ids);
    // Without IDs the filters run during the scan, before the sort, and only there (the vpc-id
    // one that chose the index bucket not at all: `endpointFields` reads that very field); with
    // IDs an ID that does not match must still be found, not missing, so describe runs them.
    const where = ids?.length
      ? undefined
      : compileFilters(
          filtersBut(input, vpcId === undefined ? undefined : "vpc-id"),
          endpointFields,
          (e) => e.tags,
          "InvalidFilter",
        );
    const page = describe(endpointsOf(tx, ctx, where, vpcId), where ? pageOf(input) : input, {
      ids,
      notFound: endpointNotFound,
      fields: endpointFields,
      invalidFilter: "InvalidFilter",
    });
    return { VpcEndpoints: page.items.map((e) => vpcEndpointShape(tx, e)), NextToken: page.nextToken };
  }),

  DescribeVpcEndpointServices: describeServices,

  AcceptVpcEndpointConnections: ({ tx, ctx, input }: Call<ec2.AcceptVpcEndpointConnectionsRequest>) => ({
    Unsuccessful: unsuccessful(
      acceptConnections(tx, ctx, input.ServiceId, need(input.VpcEndpointIds, "VpcEndpointId")),
    ),
  }),

  RejectVpcEndpointConnections: ({ tx, ctx, input }: Call<ec2.RejectVpcEndpointConnectionsRequest>) => ({
    Unsuccessful: unsuccessful(
      rejectConnections(tx, ctx, input.ServiceId, need(input.VpcEndpointIds, "VpcEndpointId")),
    ),
  }),

  DescribeVpcEndpointConnections: ({ tx, ctx, input }: Call<ec2.DescribeVpcEndpointConnectionsRequest>) => {
    const page = describe(connectionsOf(tx, ctx), input, {
      notFound: endpointNotFound,
      fields: connectionFields,
      invalidFilter: "InvalidFilter",
    });
    return {
      VpcEndpointConnections: page.items.map((e) => connectionShape(tx, e)),
      NextToken: page.nextToken,
    };
  },

  ModifyVpcEndpointPayerResponsibility: ({
    tx,
    ctx,
    input,
  }: Call<ec2.ModifyVpcEndpointPayerResponsibilityRequest>) => {
    const e = modifyPayerResponsibility(tx, ctx, input.VpcEndpointId, {
      payer: input.PayerResponsibility,
      scope: input.Scope,
      serviceId: input.ServiceId,
    });
    return { VpcEndpointId: e.id, PayerResponsibilities: payerShape(tx, e) };
  },

  DescribeVpcEndpointAssociations: describeAssociations,

  DescribePrefixLists: ({ ctx, input }: Call<ec2.DescribePrefixListsRequest>) => {
    const page = describe(prefixListsOf(ctx).map(withTags), input, {
      ids: input.PrefixListIds,
      notFound: prefixListNotFound,
      fields: prefixListFields,
    });
    return {
      PrefixLists: page.items.map((p) => ({
        PrefixListId: p.id,
        PrefixListName: p.name,
        Cidrs: [...p.cidrs],
      })),
      NextToken: page.nextToken,
    };
  },

  DescribeManagedPrefixLists: ({ ctx, input }: Call<ec2.DescribeManagedPrefixListsRequest>) => {
    const page = describe(prefixListsOf(ctx).map(withTags), input, {
      ids: input.PrefixListIds,
      notFound: prefixListNotFound,
      fields: managedPrefixListFields,
      limits: { min: 1, max: 100 },
    });
    return {
      PrefixLists: page.items.map(
        (p): ec2.ManagedPrefixList => ({
          PrefixListId: p.id,
          AddressFamily: "IPv4",
          State: "create-complete",
          PrefixListArn: prefixListArn(p),
          PrefixListName: p.name,
          Version: 1,
          Tags: [],
          OwnerId: AWS_PREFIX_LIST_OWNER,
        }),
      ),
      NextToken: page.nextToken,
    };
  },

  GetManagedPrefixListEntries: ({ ctx, input }: Call<ec2.GetManagedPrefixListEntriesRequest>) => {
    const pl = getPrefixList(ctx, need(input.PrefixListId, "PrefixListId"));
    const page = paginate(pl.cidrs, input.MaxResults, input.NextToken, { min: 1, max: 100 });
    return { Entries: page.items.map((cidr) => ({ Cidr: cidr })), NextToken: page.nextToken };
  },
};
