import type { HostConfig } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import * as sites from "../cloud/site.js";
import type { State } from "../cloud/state.js";
import type { Site } from "../cloud/types.js";
import { parseJson } from "./admin.js";
import type { AdminRoute } from "./server.js";

/**
 * On-premises sites (privlink's own objects): POST /_privlink/sites {name, cidr, publicIp?,
 * bgpAsn?, internet?}, GET /_privlink/sites, POST /_privlink/sites/delete {name},
 * POST /_privlink/sites/vpn {name, up}, POST /_privlink/sites/dns {name, zone, targets}.
 */

export function siteView(site: Site) {
  return {
    name: site.id,
    cidr: site.cidr,
    slot: site.slot,
    publicIp: site.publicIp,
    bgpAsn: site.bgpAsn,
    internet: site.internet,
    vpn: site.tunnelsDown ? "down" : "up",
    dnsServer: sites.siteResolverIp(site),
    dnsServerHost: sites.siteHostAddress(site, sites.siteResolverIp(site)),
    workload: sites.siteWorkloadIp(site),
    workloadHost: sites.siteHostAddress(site, sites.siteWorkloadIp(site)),
    dnsForwards: site.dnsForwards,
  };
}

const str = (v: unknown, name: string): string => {
  if (typeof v !== "string" || v === "") throw new AwsError("MissingParameter", `${name} is required`);
  return v;
};

export function siteRoutes(state: State, rt: Runtime, host: HostConfig): Record<string, AdminRoute> {
  return {
    "GET /_privlink/sites": () => ({ status: 200, body: { sites: [...state.all("site")].map(siteView) } }),
    "POST /_privlink/sites": ({ body }) => {
      const b = parseJson(body);
      const site = state.transact((tx) =>
        sites.createSite(tx, host, rt.now(), {
          name: str(b.name, "name"),
          cidr: str(b.cidr, "cidr"),
          publicIp: b.publicIp === undefined ? undefined : String(b.publicIp),
          bgpAsn: b.bgpAsn === undefined ? undefined : Number(b.bgpAsn),
          internet: b.internet === true,
        }),
      );
      return { status: 201, body: siteView(site) };
    },
    "POST /_privlink/sites/delete": ({ body }) => {
      const name = str(parseJson(body).name, "name");
      state.transact((tx) => sites.deleteSite(tx, name));
      return { status: 200, body: { deleted: name } };
    },
    "POST /_privlink/sites/vpn": ({ body }) => {
      const b = parseJson(body);
      const site = state.transact((tx) => sites.setTunnels(tx, str(b.name, "name"), b.up === true));
      return { status: 200, body: siteView(site) };
    },
    "POST /_privlink/sites/dns": ({ body }) => {
      const b = parseJson(body);
      const targets = Array.isArray(b.targets) ? b.targets.map(String) : [];
      const site = state.transact((tx) =>
        sites.setDnsForward(tx, str(b.name, "name"), str(b.zone, "zone"), targets),
      );
      return { status: 200, body: siteView(site) };
    },
  };
}
