import type * as ec2 from "@aws-sdk/client-ec2";
import { serviceBaseDnsName } from "../../cloud/endpoint-dns.js";
import * as svcs from "../../cloud/endpoint-service.js";
import { AwsError } from "../../cloud/errors.js";
import type { Tx } from "../../cloud/state.js";
import type { ConnectionNotification, EndpointService, ServicePermission } from "../../cloud/types.js";
import { describe, type HandlerTable, need, specTags, tagList } from "../handler.js";

/**
 * The provider's EC2 actions: endpoint service configurations, their allowed principals,
 * private DNS verification, payer responsibility, and connection notifications.
 */

function serviceConfigurationShape(tx: Tx, svc: EndpointService): ec2.ServiceConfiguration {
  const v = svc.privateDnsVerification;
  const regionState = svc.state === "Available" ? "Available" : "Pending";
  return {
    ServiceType: [{ ServiceType: svc.serviceType }],
    ServiceId: svc.id,
    ServiceName: svc.serviceName,
    ServiceState: svc.state,
    AvailabilityZoneIds: svcs.serviceAzIds(tx, svc),
    AvailabilityZones: svcs.serviceAzNames(tx, svc),
    AcceptanceRequired: svc.acceptanceRequired,
    ManagesVpcEndpoints: false,
    NetworkLoadBalancerArns: [...svc.networkLoadBalancerArns],
    GatewayLoadBalancerArns: [...svc.gatewayLoadBalancerArns],
    SupportedIpAddressTypes: [...svc.supportedIpAddressTypes],
    BaseEndpointDnsNames: [serviceBaseDnsName(svc)],
    PrivateDnsName: svc.privateDnsName,
    // AWS answers an empty <privateDnsNameConfiguration/> when the service has no name.
    PrivateDnsNameConfiguration: v ? { State: v.state, Type: v.type, Value: v.value, Name: v.name } : {},
    PayerResponsibility: svc.payerResponsibility,
    Tags: tagList(svc.tags),
    SupportedRegions: svc.supportedRegions.map((r) => ({ Region: r, ServiceState: regionState })),
    RemoteAccessEnabled: svc.supportedRegions.some((r) => r !== svc.region),
  };
}

function notificationShape(n: ConnectionNotification): ec2.ConnectionNotification {
  return {
    ConnectionNotificationId: n.id,
    ServiceId: n.serviceId,
    VpcEndpointId: n.vpcEndpointId,
    ConnectionNotificationType: "Topic",
    ConnectionNotificationArn: n.arn,
    ConnectionEvents: [...n.events],
    ConnectionNotificationState: n.state,
    ServiceRegion: n.region,
  };
}

function unsuccessful(items: svcs.UnsuccessfulItem[]): ec2.UnsuccessfulItem[] {
  return items.map((i) => ({ Error: { Code: i.code, Message: i.message }, ResourceId: i.resourceId }));
}

/** The parameters a ClientToken retry must repeat: everything but the token and DryRun. */
function requestParams(input: Record<string, unknown>): Record<string, unknown> {
  const { ClientToken: _t, DryRun: _d, ...rest } = input;
  return rest;
}

type PermissionRow = ServicePermission & { serviceId: string };

export const endpointServiceHandlers: HandlerTable = {
  CreateVpcEndpointServiceConfiguration: ({ tx, ctx, input }) => {
    const i = input as ec2.CreateVpcEndpointServiceConfigurationRequest;
    const svc = svcs.idempotent(
      tx,
      ctx,
      "CreateVpcEndpointServiceConfiguration",
      i.ClientToken,
      requestParams(input),
      (id) => {
        const s = tx.get("endpointService", id);
        return s && s.accountId === ctx.accountId ? s : undefined;
      },
      () => {
        const s = svcs.createService(tx, ctx, {
          acceptanceRequired: i.AcceptanceRequired,
          privateDnsName: i.PrivateDnsName,
          networkLoadBalancerArns: i.NetworkLoadBalancerArns,
          gatewayLoadBalancerArns: i.GatewayLoadBalancerArns,
          supportedIpAddressTypes: i.SupportedIpAddressTypes,
          supportedRegions: i.SupportedRegions,
          tags: specTags(i.TagSpecifications, "vpc-endpoint-service"),
          clientToken: i.ClientToken,
        });
        return { result: s, resourceId: s.id };
      },
    );
    return { ServiceConfiguration: serviceConfigurationShape(tx, svc), ClientToken: i.ClientToken };
  },
  DescribeVpcEndpointServiceConfigurations: ({ tx, ctx, input }) => {
    const page = describe(svcs.servicesOf(tx, ctx), input, {
      ids: input.ServiceIds,
      notFound: svcs.serviceNotFound,
      fields: {
        "service-name": (s) => s.serviceName,
        "service-id": (s) => s.id,
        "service-state": (s) => s.state,
        "service-region": (s) => s.region,
        "supported-ip-address-types": (s) => [...s.supportedIpAddressTypes],
      },
      invalidFilter: "InvalidFilter",
    });
    return {
      ServiceConfigurations: page.items.map((s) => serviceConfigurationShape(tx, s)),
      NextToken: page.nextToken,
    };
  },
  ModifyVpcEndpointServiceConfiguration: ({ tx, ctx, input }) => {
    const i = input as ec2.ModifyVpcEndpointServiceConfigurationRequest;
    svcs.modifyService(tx, ctx, need(i.ServiceId, "ServiceId"), {
      privateDnsName: i.PrivateDnsName,
      removePrivateDnsName: i.RemovePrivateDnsName,
      acceptanceRequired: i.AcceptanceRequired,
      addNetworkLoadBalancerArns: i.AddNetworkLoadBalancerArns,
      removeNetworkLoadBalancerArns: i.RemoveNetworkLoadBalancerArns,
      addGatewayLoadBalancerArns: i.AddGatewayLoadBalancerArns,
      removeGatewayLoadBalancerArns: i.RemoveGatewayLoadBalancerArns,
      addSupportedIpAddressTypes: i.AddSupportedIpAddressTypes,
      removeSupportedIpAddressTypes: i.RemoveSupportedIpAddressTypes,
      addSupportedRegions: i.AddSupportedRegions,
      removeSupportedRegions: i.RemoveSupportedRegions,
    });
    return { Return: true };
  },
  DeleteVpcEndpointServiceConfigurations: ({ tx, ctx, input }) => ({
    Unsuccessful: unsuccessful(svcs.deleteServices(tx, ctx, need(input.ServiceIds, "ServiceId"))),
  }),
  ModifyVpcEndpointServicePayerResponsibility: ({ tx, ctx, input }) => {
    svcs.setPayerResponsibility(
      tx,
      ctx,
      need(input.ServiceId, "ServiceId"),
      need(input.PayerResponsibility, "PayerResponsibility"),
    );
    return { ReturnValue: true };
  },
  StartVpcEndpointServicePrivateDnsVerification: ({ tx, ctx, input }) => {
    svcs.startPrivateDnsVerification(tx, ctx, need(input.ServiceId, "ServiceId"));
    return { ReturnValue: true };
  },

  ModifyVpcEndpointServicePermissions: ({ tx, ctx, input }) => {
    const added = svcs.modifyPermissions(
      tx,
      ctx,
      need(input.ServiceId, "ServiceId"),
      input.AddAllowedPrincipals ?? [],
      input.RemoveAllowedPrincipals ?? [],
    );
    return {
      AddedPrincipals: added.map((p) => ({
        PrincipalType: p.principalType,
        Principal: p.principal,
        ServicePermissionId: p.id,
        ServiceId: input.ServiceId,
      })),
      ReturnValue: true,
    };
  },
  DescribeVpcEndpointServicePermissions: ({ tx, ctx, input }) => {
    const svc = svcs.getServiceForOwner(tx, ctx, need(input.ServiceId, "ServiceId"));
    const rows: PermissionRow[] = svc.permissions.map((p) => ({ ...p, serviceId: svc.id }));
    const page = describe(rows, input, {
      notFound: (id) => new AwsError("InvalidParameterValue", `Unknown permission ${id}`),
      fields: { principal: (p) => p.principal, "principal-type": (p) => p.principalType },
      invalidFilter: "InvalidFilter",
    });
    return {
      AllowedPrincipals: page.items.map((p) => ({
        PrincipalType: p.principalType,
        Principal: p.principal,
        ServicePermissionId: p.id,
        Tags: tagList(p.tags),
        ServiceId: p.serviceId,
      })),
      NextToken: page.nextToken,
    };
  },

  CreateVpcEndpointConnectionNotification: ({ tx, ctx, input }) => {
    const i = input as ec2.CreateVpcEndpointConnectionNotificationRequest;
    const n = svcs.idempotent(
      tx,
      ctx,
      "CreateVpcEndpointConnectionNotification",
      i.ClientToken,
      requestParams(input),
      (id) => {
        const found = tx.get("connectionNotification", id);
        return found && found.accountId === ctx.accountId ? found : undefined;
      },
      () => {
        const created = svcs.createNotification(tx, ctx, {
          arn: i.ConnectionNotificationArn,
          events: i.ConnectionEvents,
          serviceId: i.ServiceId,
          vpcEndpointId: i.VpcEndpointId,
          clientToken: i.ClientToken,
        });
        return { result: created, resourceId: created.id };
      },
    );
    return { ConnectionNotification: notificationShape(n), ClientToken: i.ClientToken };
  },
  DescribeVpcEndpointConnectionNotifications: ({ tx, ctx, input }) => {
    const id: string | undefined = input.ConnectionNotificationId;
    const page = describe(svcs.notificationsOf(tx, ctx), input, {
      ids: id === undefined ? undefined : [id],
      notFound: svcs.notificationNotFound,
      fields: {
        "connection-notification-arn": (n) => n.arn,
        "connection-notification-id": (n) => n.id,
        "connection-notification-state": (n) => n.state,
        "connection-notification-type": () => "Topic",
        "service-id": (n) => n.serviceId,
        "vpc-endpoint-id": (n) => n.vpcEndpointId,
      },
      invalidFilter: "InvalidFilter",
    });
    return { ConnectionNotificationSet: page.items.map(notificationShape), NextToken: page.nextToken };
  },
  ModifyVpcEndpointConnectionNotification: ({ tx, ctx, input }) => {
    svcs.modifyNotification(tx, ctx, need(input.ConnectionNotificationId, "ConnectionNotificationId"), {
      arn: input.ConnectionNotificationArn,
      events: input.ConnectionEvents,
    });
    return { ReturnValue: true };
  },
  DeleteVpcEndpointConnectionNotifications: ({ tx, ctx, input }) => ({
    Unsuccessful: unsuccessful(
      svcs.deleteNotifications(tx, ctx, need(input.ConnectionNotificationIds, "ConnectionNotificationId")),
    ),
  }),
};
