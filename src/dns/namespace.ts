import type dgram from "node:dgram";
import type net from "node:net";
import packet from "dns-packet";
import { privateIpOfHost } from "../cloud/addressing.js";
import type { State } from "../cloud/state.js";
import type { Resolvers } from "./resolvers.js";
import { type DnsServer, startDnsServer } from "./server.js";

/**
 * Views answer host addresses (127.S.x.y), which loopback workloads dial. Inside a namespace a
 * workload dials real private IPs, so every A record naming a host address is written back to
 * the private IP it stands for; anything else (127.0.0.1 for public AWS names) is left alone.
 */
export function privateAnswers(state: State): (response: Buffer) => Buffer {
  return (response) => {
    const msg = packet.decode(response);
    let changed = false;
    for (const rr of [...(msg.answers ?? []), ...(msg.additionals ?? [])]) {
      if (rr.type !== "A" || typeof rr.data !== "string" || !rr.data.startsWith("127.")) continue;
      const at = privateIpOfHost(state, rr.data);
      if (!at) continue;
      (rr as { data: string }).data = at.privateIp;
      changed = true;
    }
    return changed ? packet.encode(msg) : response;
  };
}

/** The VPC's resolver on sockets bound at its base + 2 inside the VPC's namespace. */
export function serveNamespaceDns(
  state: State,
  resolvers: Resolvers,
  vpcId: string,
  address: string,
  bound: { udp: dgram.Socket; tcp: net.Server },
): Promise<DnsServer> {
  return startDnsServer({
    host: address,
    port: 53,
    view: () => resolvers.view(vpcId),
    bound,
    rewrite: privateAnswers(state),
  });
}
