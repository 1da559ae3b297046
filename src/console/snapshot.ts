import { endpointDnsNames } from "../cloud/endpoint-dns.js";
import { listConnectionEvents } from "../cloud/notifications.js";
import type { State } from "../cloud/state.js";
import type { Snapshot } from "./shapes.js";

/**
 * GET /_privlink/console/state: everything the console draws, in privlink's own shapes, read
 * in one go so that the picture is of one state version. Keys and secrets never leave.
 */
export function consoleSnapshot(state: State): Snapshot {
  const all = <K extends Parameters<State["all"]>[0]>(kind: K) => [...state.all(kind)];
  return {
    stateVersion: state.version,
    accounts: all("account").map((a) => ({ id: a.id, orgId: a.orgId })),
    vpcs: all("vpc"),
    subnets: all("subnet"),
    enis: all("eni"),
    instances: all("instance").filter((i) => i.state !== "terminated"),
    securityGroups: all("securityGroup"),
    loadBalancers: all("loadBalancer"),
    targetGroups: all("targetGroup"),
    listeners: all("listener"),
    services: all("endpointService"),
    endpoints: all("vpcEndpoint").map((e) => ({ ...e, dnsNames: endpointDnsNames(state, e) })),
    peerings: all("vpcPeeringConnection"),
    transitGateways: all("transitGateway"),
    tgwAttachments: all("transitGatewayAttachment"),
    natGateways: all("natGateway"),
    sites: all("site"),
    customerGateways: all("customerGateway"),
    vpnConnections: all("vpnConnection"),
    vpnGateways: all("vpnGateway"),
    connectionEvents: state.transact((tx) => listConnectionEvents(tx, undefined)).slice(-200),
  };
}
