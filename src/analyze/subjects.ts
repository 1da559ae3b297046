/**
 * Reading `why SRC DST[:PORT]`: which interface the flow starts from, and which addresses the
 * destination stands for, as the source's VPC sees them. Names resolve through the same
 * resolver the workload proxies use (the VPC's DNS view, then the state), so `why` asks the
 * question a real connection would.
 */
import { isIPv4 } from "node:net";
import { hostAddressOf } from "../cloud/addressing.js";
import { AwsError } from "../cloud/errors.js";
import { siteHostAddress, siteWorkloadIp } from "../cloud/site.js";
import type { State } from "../cloud/state.js";
import type { Eni, Site } from "../cloud/types.js";
import { type FlowSource, stateIndex } from "../flow/index.js";

/** Bad input: unknown or ambiguous subjects, unresolvable names, ports out of range (exit 2). */
export class BadInput extends AwsError {
  constructor(message: string) {
    super("InvalidParameterValue", message, 400);
  }
}

/** Names as a workload resolves them (structural: net/'s NameResolver fits). */
export interface Resolver {
  resolve(vpcId: string | undefined, name: string): Promise<readonly string[]>;
}

/** Where a flow starts: a workload's interface in a VPC, or an address on an on-premises site. */
export interface Source {
  readonly label: string;
  /** What flow/ decides from: the interface, or the site address's host address. */
  readonly flow: FlowSource;
  /** Where the source resolves names: its VPC, or `site:NAME` (the site's own DNS server). */
  readonly scope: string;
  readonly privateIp: string;
  readonly region: string;
  readonly eni?: Eni;
  readonly site?: Site;
}

export interface Destination {
  /** Addresses to try in order, as flow/ reads them (private IPs of the source VPC or host addresses). */
  readonly addresses: readonly string[];
  readonly port: number;
  /** The name the client asked for (reasons say "no route to <name>"). */
  readonly name?: string;
  /** The AWS service the destination belongs to (`secretsmanager`), for fixes and policies. */
  readonly awsService?: string;
  readonly label: string;
}

/** Sites are not in a region; names and fixes for them read the default one. */
const SITE_REGION = "us-east-1";

export function resolveSource(state: State, text: string, vpcId?: string): Source {
  if (text.startsWith("site:")) return siteSource(state, text);
  const eni = sourceEni(state, text, vpcId);
  return {
    eni,
    label: text === eni.id ? eni.id : `${text} (${eni.id})`,
    flow: { kind: "eni", eniId: eni.id },
    scope: eni.vpcId,
    privateIp: eni.privateIp,
    region: eni.region,
  };
}

/** `site:NAME` acts from the site's workload address (.10), `site:NAME:IP` from IP: as exec/connect do. */
function siteSource(state: State, text: string): Source {
  const [, name = "", ip] = text.split(":");
  const site = state.get("site", name);
  if (!site) throw new BadInput(`${text}: no on-premises site is named '${name}' (privlink site list)`);
  let address: string;
  try {
    address = siteWorkloadIp(site, ip);
  } catch (err) {
    throw new BadInput((err as Error).message);
  }
  return {
    site,
    label: `site:${site.id}`,
    flow: { kind: "outside", address: siteHostAddress(site, address)! },
    scope: `site:${site.id}`,
    privateIp: address,
    region: SITE_REGION,
  };
}

function sourceEni(state: State, text: string, vpcId?: string): Eni {
  if (text.startsWith("i-")) {
    const i = state.get("instance", text);
    const eni = i && state.get("eni", i.eniId);
    if (!eni) throw new BadInput(`no instance ${text}`);
    return eni;
  }
  if (text.startsWith("eni-")) {
    const eni = state.get("eni", text);
    if (!eni) throw new BadInput(`no network interface ${text}`);
    return eni;
  }
  if (isIPv4(text)) return eniAtAddress(state, text, vpcId);
  const named = [...state.all("instance")].filter((i) => i.tags.Name === text && i.state !== "terminated");
  if (named.length > 1)
    throw new BadInput(
      `${named.length} instances are named '${text}' (${named.map((i) => i.id).join(", ")}): give the instance ID`,
    );
  const eni = named[0] && state.get("eni", named[0].eniId);
  if (!eni)
    throw new BadInput(
      `a source is an instance (i-…), a network interface (eni-…), a Name tag, a private IP with --vpc, or site:NAME; nothing is named '${text}'`,
    );
  return eni;
}

function eniAtAddress(state: State, ip: string, vpcId?: string): Eni {
  const host = stateIndex(state).privateIpOfHost(ip);
  if (host) {
    const eni = stateIndex(state).eniAt(host.vpc.id, host.privateIp);
    if (!eni) throw new BadInput(`no network interface has ${host.privateIp} in ${host.vpc.id}`);
    return eni;
  }
  if (vpcId) {
    if (!state.get("vpc", vpcId)) throw new BadInput(`no VPC ${vpcId}`);
    const eni = stateIndex(state).eniAt(vpcId, ip);
    if (!eni) throw new BadInput(`no network interface has ${ip} in ${vpcId}`);
    return eni;
  }
  const hits = [...state.all("eni")].filter((e) => e.privateIp === ip);
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0) throw new BadInput(`no network interface has ${ip} in any VPC`);
  throw new BadInput(`${ip} is in ${hits.length} VPCs (${hits.map((e) => e.vpcId).join(", ")}): give --vpc`);
}

/** `DST[:PORT]`: the port is 1-65535, default 443. */
export function splitPort(text: string): { what: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  if (!m) {
    if (/:/.test(text)) throw new BadInput(`port in '${text}' must be a number from 1 to 65535`);
    return { what: text, port: 443 };
  }
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new BadInput(`port ${m[2]} is out of range (1-65535)`);
  if (!m[1]) throw new BadInput(`no destination in '${text}'`);
  return { what: m[1], port };
}

const AWS_SERVICE_NAME = /^com\.amazonaws\.([a-z0-9-]+)\.([a-z0-9.-]+)$/;
const AWS_HOST = /^([a-z0-9-]+)(?:\.[a-z0-9-]+)?\.amazonaws\.com$/;
const BARE_SERVICE = /^[a-z][a-z0-9-]*$/;

export async function resolveDestination(
  state: State,
  resolver: Resolver,
  src: Source,
  text: string,
): Promise<Destination> {
  const { what, port } = splitPort(text);
  const fromSource = (eni: Eni) => addressFor(state, src, eni);
  if (what.startsWith("vpce-") && !what.startsWith("vpce-svc-")) {
    const ep = state.get("vpcEndpoint", what);
    if (!ep) throw new BadInput(`no VPC endpoint ${what}`);
    const enis = ep.enis
      .map((n) => state.get("eni", n.eniId))
      .filter((e): e is Eni => !!e)
      // The interface in the source's zone first, as zonal DNS would pick it.
      .sort((a, b) => Number(b.az === src.eni?.az) - Number(a.az === src.eni?.az));
    if (enis.length === 0) throw new BadInput(`${what} has no network interface (a ${ep.type} endpoint?)`);
    return {
      addresses: enis.map(fromSource),
      port,
      awsService: ep.serviceId ? undefined : awsServiceOf(ep.serviceName),
      label: what,
    };
  }
  if (what.startsWith("eni-") || what.startsWith("i-")) {
    const eni = what.startsWith("i-")
      ? state.get("eni", state.get("instance", what)?.eniId ?? "")
      : state.get("eni", what);
    if (!eni) throw new BadInput(`no ${what.startsWith("i-") ? "instance" : "network interface"} ${what}`);
    return { addresses: [fromSource(eni)], port, label: what };
  }
  if (isIPv4(what)) return { addresses: [what], port, label: what };
  const service = AWS_SERVICE_NAME.exec(what);
  const name = service
    ? `${service[2]}.${service[1]}.amazonaws.com`
    : BARE_SERVICE.test(what) && !what.includes(".")
      ? `${what}.${src.region}.amazonaws.com`
      : what.toLowerCase().replace(/\.$/, "");
  const answers = await resolver.resolve(src.scope, name);
  if (answers.length === 0) throw new BadInput(`${name} does not resolve in ${src.scope}`);
  return {
    addresses: answers,
    port,
    name,
    awsService: AWS_HOST.exec(name)?.[1],
    label: name,
  };
}

/** A private IP when the interface is in the source's VPC, else (and from a site) its host address. */
export function addressFor(state: State, src: { readonly eni?: Eni }, eni: Eni): string {
  if (eni.vpcId === src.eni?.vpcId) return eni.privateIp;
  const vpc = state.get("vpc", eni.vpcId);
  return (vpc && hostAddressOf(vpc, eni.privateIp)) ?? eni.privateIp;
}

/** `com.amazonaws.us-east-1.secretsmanager` → `secretsmanager`. */
export function awsServiceOf(serviceName: string): string | undefined {
  return AWS_SERVICE_NAME.exec(serviceName)?.[2];
}
