import { isIPv4 } from "node:net";
import { endpointAnsweredNames } from "../cloud/endpoint-dns.js";
import type { State } from "../cloud/state.js";

/**
 * Name resolution as a workload sees it: answers are IPv4 addresses read from the workload's
 * VPC (private IPs, or host addresses). src/dns provides the real per-VPC resolver; until it is
 * wired, {@link stateResolver} answers from the state.
 */
export interface NameResolver {
  resolve(vpcId: string | undefined, name: string): Promise<readonly string[]>;
}

/**
 * A name that resolves nowhere in privlink's world stands for "somewhere on the internet": its
 * flow is decided against 0.0.0.0, which only a default route (0.0.0.0/0) covers, so the answer
 * is the one AWS gives a VPC without an internet path.
 */
export const OUTSIDE_ADDRESS = "0.0.0.0";

function nameMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("*.")) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
  return pattern === name;
}

/**
 * IP literals, `localhost`, and interface endpoint DNS names: the regional and zonal names
 * resolve anywhere (they are public on AWS too) to the endpoint's private IPs; private DNS
 * names only inside the endpoint's VPC.
 */
export function stateResolver(state: State): NameResolver {
  return {
    async resolve(vpcId, rawName) {
      const name = rawName.toLowerCase().replace(/\.$/, "");
      if (isIPv4(name)) return [name];
      if (name === "localhost") return ["127.0.0.1"];
      for (const ep of state.all("vpcEndpoint")) {
        if (ep.type !== "Interface") continue;
        for (const n of endpointAnsweredNames(state, ep)) {
          if (!nameMatches(n.name, name)) continue;
          // Inbound-only private DNS answers through a Resolver inbound endpoint, never in the VPC.
          if (n.kind === "private" && (ep.vpcId !== vpcId || ep.privateDnsOnlyForInboundResolverEndpoint))
            continue;
          const ips: string[] = [];
          for (const { eniId } of ep.enis) {
            const eni = state.get("eni", eniId);
            if (eni && (n.kind !== "zonal" || eni.az === n.az)) ips.push(eni.privateIp);
          }
          if (ips.length) return ips;
        }
      }
      return [];
    },
  };
}

/** The part of src/dns's resolvers the data plane uses (structural, so net/ does not import dns/). */
export interface DnsLike {
  resolve(
    vpcId: string | undefined,
    name: string,
    type: string,
  ): Promise<{ answers: readonly { type: string; data: unknown }[] }>;
}

/** The VPC's DNS first (private hosted zones, endpoint names, private DNS), then `fallback`. */
export function dnsResolver(dns: DnsLike, fallback: NameResolver): NameResolver {
  return {
    async resolve(vpcId, name) {
      if (isIPv4(name)) return [name];
      const answer = await dns.resolve(vpcId, name, "A").catch(() => undefined);
      const ips = (answer?.answers ?? [])
        .filter((rr) => rr.type === "A" && typeof rr.data === "string")
        .map((rr) => rr.data as string);
      return ips.length ? ips : fallback.resolve(vpcId, name);
    },
  };
}
