import type { DnsName, Endpoint, Snapshot } from "./model.js";

/**
 * What an endpoint DNS name answers inside the endpoint's VPC: the regional and private names
 * every interface's address, a zonal name the address of the interface in its AZ.
 */
export function resolvesTo(s: Snapshot, e: Endpoint, d: DnsName): string[] {
  const out: string[] = [];
  for (const x of e.enis) {
    const az = s.subnets.find((sn) => sn.id === x.subnetId)?.az;
    if (d.kind === "zonal" && az !== d.az) continue;
    const ip = s.enis.find((n) => n.id === x.eniId)?.privateIp;
    if (ip) out.push(ip);
  }
  return out;
}

/** A service's consumers by state: pending acceptance first, then available, then the rest. */
export function consumersOf(s: Snapshot, serviceId: string) {
  const order = [
    "pendingAcceptance",
    "pending",
    "available",
    "rejected",
    "failed",
    "expired",
    "deleting",
    "deleted",
  ];
  return s.endpoints
    .filter((e) => e.serviceId === serviceId)
    .sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state) || a.id.localeCompare(b.id));
}
