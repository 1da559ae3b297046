import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { addNamespace, deleteNamespace, ip, ipBatch, listNamespaces, nft } from "./ip.js";
import {
  type InstanceNamespace,
  NAMESPACE_PREFIX,
  type Topology,
  TRANSPARENT_PORT,
  type VpcNamespace,
} from "./topology.js";

/** The firewall mark of packets `tproxy` took, and the routing table that delivers them locally. */
const TPROXY_MARK = 1;
const TPROXY_TABLE = 100;

/**
 * The VPC namespace's router. It forwards nothing (ip_forward stays off): every TCP connection
 * an instance opens to an address the namespace does not hold (another instance, a peered VPC, a
 * site…) is taken by `tproxy` to privlink's transparent listener, which asks the one flow decision
 * and relays the admitted ones. Replies to the connections privlink dials from a client's address
 * meet the same rule and find their socket (tproxy looks established sockets up first). Anything
 * else an instance sends to such an address (UDP, ICMP) has no route and is dropped. No
 * connection tracking: nothing is NATed, and privlink's two legs of one flow may share a tuple.
 */
export function routerRuleset(): string {
  return `table ip privlink {
  chain raw_prerouting {
    type filter hook prerouting priority raw; policy accept;
    notrack
  }
  chain raw_output {
    type filter hook output priority raw; policy accept;
    notrack
  }
  chain steer {
    type filter hook prerouting priority mangle; policy accept;
    iifname "v*" meta l4proto tcp fib daddr type != local meta mark set ${TPROXY_MARK} tproxy to 127.0.0.1:${TRANSPARENT_PORT} accept
  }
}
`;
}

/** `ip netns exec NS` bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf. */
export const NETNS_ETC = "/etc/netns";

/** How a namespace is created: `ip netns add` (tests inject one that fails). */
export interface NamespaceDriver {
  addNamespace(name: string): Promise<void>;
}

/**
 * Converges the machine's namespaces to a Topology: creates, re-addresses and deletes only
 * namespaces named `privlink-<tag>-…` (this home's), and at start removes those a crashed run
 * left. A namespace that cannot be made is deleted again, never left half-made.
 */
export class NamespaceLifecycle {
  private readonly vpcs = new Map<string, VpcNamespace>();
  private readonly instances = new Map<string, string>();

  private readonly driver: NamespaceDriver;

  constructor(
    private readonly tag: string,
    private readonly etc = NETNS_ETC,
    driver?: NamespaceDriver,
  ) {
    this.driver = driver ?? { addNamespace };
  }

  get prefix(): string {
    return `${NAMESPACE_PREFIX}${this.tag}-`;
  }

  /** Removes what a previous run on this home left (a crash, a SIGKILL). */
  async cleanStale(): Promise<string[]> {
    const stale = (await listNamespaces()).filter((n) => n.startsWith(this.prefix));
    for (const n of stale) await this.remove(n);
    for (const d of this.etcDirs()) rmSync(join(this.etc, d), { recursive: true, force: true });
    return stale;
  }

  /** Namespaces this lifecycle made and still holds. */
  names(): string[] {
    return [...this.vpcs.keys(), ...this.instances.keys()];
  }

  async apply(t: Topology): Promise<void> {
    const wantVpcs = new Map(t.vpcs.map((v) => [v.name, v]));
    const wantInstances = new Map(t.instances.map((i) => [i.name, i]));
    for (const [name, sig] of [...this.instances])
      if (
        signature(wantInstances.get(name)) !== sig ||
        !wantVpcs.has(wantInstances.get(name)!.vpcNamespace)
      ) {
        this.instances.delete(name);
        await this.remove(name);
      }
    for (const name of [...this.vpcs.keys()])
      if (!wantVpcs.has(name)) {
        this.vpcs.delete(name);
        await this.remove(name);
      }
    for (const v of t.vpcs) await this.applyVpc(v);
    for (const i of t.instances) if (!this.instances.has(i.name)) await this.addInstance(i);
  }

  async close(): Promise<void> {
    for (const name of [...this.instances.keys(), ...this.vpcs.keys()]) await this.remove(name);
    this.instances.clear();
    this.vpcs.clear();
  }

  private async applyVpc(v: VpcNamespace): Promise<void> {
    const had = this.vpcs.get(v.name);
    if (!had)
      await this.guarded(v.name, async () => {
        await this.driver.addNamespace(v.name);
        await ip([
          "-n",
          v.name,
          "rule",
          "add",
          "fwmark",
          String(TPROXY_MARK),
          "lookup",
          String(TPROXY_TABLE),
        ]);
        await ip([
          "-n",
          v.name,
          "route",
          "add",
          "local",
          "0.0.0.0/0",
          "dev",
          "lo",
          "table",
          String(TPROXY_TABLE),
        ]);
        await nft(v.name, routerRuleset());
      });
    const before = new Set(had?.addresses ?? []);
    const after = new Set(v.addresses);
    const lines = [
      ...[...before].filter((a) => !after.has(a)).map((a) => `address del ${a}/32 dev lo`),
      ...[...after].filter((a) => !before.has(a)).map((a) => `address add ${a}/32 dev lo`),
    ];
    await ipBatch(v.name, lines).catch(() => undefined);
    this.vpcs.set(v.name, v);
  }

  private async addInstance(i: InstanceNamespace): Promise<void> {
    await this.guarded(i.name, async () => {
      await this.driver.addNamespace(i.name);
      await ip([
        "-n",
        i.vpcNamespace,
        "link",
        "add",
        i.link,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        i.name,
      ]);
      await ipBatch(i.vpcNamespace, [
        `link set ${i.link} up`,
        ...i.addresses.map((a) => `route replace ${a.split("/")[0]}/32 dev ${i.link}`),
      ]);
      await ipBatch(i.name, [
        // No on-link subnet route: every packet goes to the VPC router (base + 1), which answers
        // ARP for itself only, so that an instance next door is reached through privlink too.
        ...i.addresses.map((a) => `address add ${a} dev eth0 noprefixroute`),
        "link set eth0 up",
        `route replace default via ${i.gateway} dev eth0 onlink`,
      ]);
      const dir = join(this.etc, i.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "resolv.conf"),
        `# privlink: the VPC resolver (base + 2)\nnameserver ${i.nameserver}\n`,
      );
    });
    this.instances.set(i.name, signature(i));
  }

  /** Runs `make`; on failure deletes the namespace so that nothing is left half-made. */
  private async guarded(name: string, make: () => Promise<void>): Promise<void> {
    try {
      await make();
    } catch (err) {
      await this.remove(name).catch(() => undefined);
      throw err;
    }
  }

  private async remove(name: string): Promise<void> {
    await deleteNamespace(name);
    rmSync(join(this.etc, name), { recursive: true, force: true });
  }

  private etcDirs(): string[] {
    try {
      return readdirSync(this.etc).filter((d) => d.startsWith(this.prefix));
    } catch {
      return [];
    }
  }
}

function signature(i: InstanceNamespace | undefined): string {
  return i ? JSON.stringify([i.vpcNamespace, i.link, i.addresses, i.gateway, i.nameserver]) : "";
}
