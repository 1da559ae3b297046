import { cidrContains, formatIp, parseCidr } from "../cloud/cidr.js";
import { dxAdvertisedPrefixes, liveDxAssociation } from "../cloud/site-links.js";
import type { State } from "../cloud/state.js";
import type { DxGatewayAssociation, Site } from "../cloud/types.js";
import type { Hop } from "./types.js";

/**
 * The Direct Connect hop of a site's flow through a DX gateway: the one place allowed prefixes
 * decide. On-premises learns over the DX gateway only what the association advertises (a TGW's
 * allowed prefixes; the VPC CIDRs a VGW's allowed prefixes cover), so an AWS-side address
 * outside them has no route over this path — the site cannot send to it, nor answer it. The
 * address is the VPC end of the flow: the destination of a site's flow, the source of a VPC's.
 */
export function dxGatewayHop(
  state: State,
  site: Site,
  via: { vifId: string; dxGatewayId: string; gatewayId: string; path: string },
  awsSideIp: number | undefined,
): { hop: Hop; up: boolean } | undefined {
  const a = liveDxAssociation(state, via.dxGatewayId, via.gatewayId);
  if (!a) return undefined;
  const advertised = dxAdvertisedPrefixes(state, a);
  if (awsSideIp === undefined || advertised.some((p) => cidrContains(parseCidr(p)!, awsSideIp)))
    return {
      up: true,
      hop: { kind: "direct-connect", allowed: true, resource: via.vifId, detail: via.path },
    };
  return { up: false, hop: outsidePrefixes(site, via, a, advertised, awsSideIp) };
}

function outsidePrefixes(
  site: Site,
  via: { vifId: string; dxGatewayId: string; gatewayId: string },
  a: DxGatewayAssociation,
  advertised: readonly string[],
  ip: number,
): Hop {
  const allowed = a.allowedPrefixes.join(", ") || "none";
  const learns = advertised.length ? `learns only ${advertised.join(", ")}` : "learns nothing";
  const filter =
    a.gatewayType === "virtualPrivateGateway"
      ? ` (a VGW association advertises the VPC CIDRs its allowed prefixes cover: ${allowed})`
      : ` (its allowed prefixes: ${allowed})`;
  return {
    kind: "direct-connect",
    allowed: false,
    resource: via.vifId,
    detail: `${formatIp(ip)} is outside the allowed prefixes of Direct Connect gateway association ${a.id} (${via.dxGatewayId} with ${via.gatewayId}): site ${site.id} ${learns} over virtual interface ${via.vifId}${filter}, so it has no route to ${formatIp(ip)} over Direct Connect (aws directconnect update-direct-connect-gateway-association --association-id ${a.id} --add-allowed-prefixes-to-direct-connect-gateway cidr=…)`,
  };
}
