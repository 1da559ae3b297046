import type { Socket as UdpSocket } from "node:dgram";
import type { Server, Socket } from "node:net";
import { hostAddressOf, privateIpOfHost } from "../../cloud/addressing.js";
import { AwsError } from "../../cloud/errors.js";
import type { Change, State } from "../../cloud/state.js";
import { type DataPlane, PRIVILEGED_PORT_BASE, stripMapped } from "../dataplane.js";
import { ListenerSet, type ListenerSpec, listenerKey } from "../listener.js";
import { NamespaceForwarder } from "./forward.js";
import { type NamespaceDriver, NamespaceLifecycle } from "./namespaces.js";
import { NamespaceSockets } from "./sockets.js";
import { homeTag, type Topology, TRANSPARENT_PORT, topologyOf } from "./topology.js";
import { TransparentSockets } from "./transparent.js";

/** What privlink.ts gives namespace mode to answer DNS on sockets bound in a namespace. */
export type ServeDns = (
  vpcId: string,
  address: string,
  sockets: { udp: UdpSocket; tcp: Server },
) => Promise<{ close(): Promise<void> }>;

export interface NamespaceNetworkOptions {
  state: State;
  dataplane: DataPlane;
  home: string;
  serveDns?: ServeDns;
  /** Where `ip netns exec` finds per-namespace files (tests may point it elsewhere). */
  etc?: string;
  driver?: NamespaceDriver;
}

const RETRY_MS = 500;

interface VpcRuntime {
  readonly vpcId: string;
  readonly sockets: NamespaceSockets;
  readonly transparent: TransparentSockets;
  /** The namespace's router: the transparent listener `tproxy` steers instance traffic to. */
  router?: Promise<Server | undefined>;
  readonly listeners: ListenerSet;
  readonly dns: Map<string, Promise<{ close(): Promise<void> } | undefined>>;
}

/**
 * Namespace mode: the VPCs and instances of the state as Linux network namespaces, the endpoint
 * listeners of the data plane mirrored onto the endpoints' real private IPs inside their VPC's
 * namespace, and the VPC resolver at base + 2 there. A connection accepted in a namespace is
 * handed to the data plane's listener of the same endpoint with the client's host address: the
 * one flow decision admits or refuses it, and the bytes take the same relay as on loopback.
 */
export class NamespaceNetwork {
  readonly tag: string;
  private readonly lifecycle: NamespaceLifecycle;
  private readonly forwarder: NamespaceForwarder;
  private readonly vpcs = new Map<string, VpcRuntime>();
  private topology: Topology = { vpcs: [], instances: [] };
  private addressesOf?: { topology: Topology; set: ReadonlySet<string> };
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private closed = false;
  private retry?: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[] = [];
  /** The latest failure to converge (an `ip` command refused), surfaced by the admin route. */
  lastError?: string;

  constructor(private readonly opts: NamespaceNetworkOptions) {
    this.tag = homeTag(opts.home);
    this.lifecycle = new NamespaceLifecycle(this.tag, opts.etc, opts.driver);
    this.forwarder = new NamespaceForwarder(opts.state, opts.dataplane, (vpcId) => {
      const name = this.nameOfVpc(vpcId);
      return name ? this.vpcs.get(name)?.transparent : undefined;
    });
  }

  async start(): Promise<void> {
    await this.lifecycle.cleanStale();
    this.opts.dataplane.useTargetDialer({ dial: (host, port, ms) => this.dialTarget(host, port, ms) });
    this.unsubscribe.push(this.opts.state.onCommit(() => this.kick()));
    this.unsubscribe.push(this.opts.dataplane.observe(() => this.kick()));
    this.kick();
    await this.settled();
  }

  /** Resolves once the namespaces, resolvers and listeners match the state as of this call. */
  async settled(): Promise<void> {
    await this.opts.dataplane.reconcile();
    this.kick();
    await this.chain;
  }

  /**
   * After an API write: makes the namespaces of the VPCs and instances it created or changed,
   * and throws the AwsError the call answers when one could not be made (the dispatcher then
   * undoes the write; the lifecycle already removed what it had begun).
   */
  async afterWrite(changes: readonly Change[]): Promise<void> {
    const ids = new Set<string>();
    let touched = false;
    for (const c of changes)
      if (c.kind === "vpc" || c.kind === "instance") {
        touched = true;
        if (c.value) ids.add(c.id);
      }
    if (!touched) return;
    await this.settled();
    const made = new Set(this.lifecycle.names());
    const wanted = topologyOf(this.opts.state, this.tag);
    const why = this.lastError ? `: ${this.lastError}` : "";
    for (const v of wanted.vpcs)
      if (ids.has(v.vpcId) && !made.has(v.name))
        throw new AwsError(
          "InternalError",
          `privlink could not create the network namespace of ${v.vpcId}${why}`,
          500,
        );
    for (const i of wanted.instances)
      if (ids.has(i.instanceId) && !made.has(i.name))
        throw new AwsError(
          "InsufficientInstanceCapacity",
          `privlink could not create the network namespace of ${i.instanceId}${why}`,
          500,
        );
  }

  /**
   * An NLB target whose private IP an instance namespace holds is dialled there, from the VPC
   * router (as an NLB's node would reach it), not on its host address: its server runs in the
   * instance. Undefined for every other target (127.x processes, addresses no instance holds).
   */
  private dialTarget(host: string, port: number, timeoutMs?: number): Promise<Socket> | undefined {
    const at = privateIpOfHost(this.opts.state, host);
    if (!at || !this.instanceAddresses().has(`${at.vpc.id}|${at.privateIp}`)) return undefined;
    const name = this.nameOfVpc(at.vpc.id);
    const helper = name ? this.vpcs.get(name)?.transparent : undefined;
    return helper?.dial(at.privateIp, port, "", timeoutMs);
  }

  /** `vpcId|privateIp` of every instance address in a namespace, per topology. */
  private instanceAddresses(): ReadonlySet<string> {
    if (this.addressesOf?.topology !== this.topology) {
      const vpcOf = new Map(this.topology.vpcs.map((v) => [v.name, v.vpcId]));
      const set = new Set<string>();
      for (const i of this.topology.instances)
        for (const a of i.addresses) set.add(`${vpcOf.get(i.vpcNamespace)}|${a.split("/")[0]}`);
      this.addressesOf = { topology: this.topology, set };
    }
    return this.addressesOf.set;
  }

  /** The namespace an instance's programs run in, when it has one. */
  instanceNamespace(instanceId: string): string | undefined {
    return this.topology.instances.find((i) => i.instanceId === instanceId)?.name;
  }

  namespaces(): string[] {
    return this.lifecycle.names();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retry);
    for (const u of this.unsubscribe) u();
    await this.chain;
    for (const vpc of [...this.vpcs.keys()]) await this.dropVpc(vpc);
    await this.lifecycle.close();
  }

  private kick(): void {
    if (this.queued || this.closed) return;
    this.queued = true;
    this.chain = this.chain.then(() => {
      this.queued = false;
      return this.converge().catch((err: Error) => {
        this.lastError = err.message;
        process.emitWarning(`privlink namespace mode: ${err.message}`);
      });
    });
  }

  private async converge(): Promise<void> {
    if (this.closed) return;
    const topology = topologyOf(this.opts.state, this.tag);
    // Sockets first: a namespace goes only after nothing of privlink listens in it.
    const wanted = new Map(topology.vpcs.map((v) => [v.name, v]));
    for (const name of [...this.vpcs.keys()]) if (!wanted.has(name)) await this.dropVpc(name);
    await this.lifecycle.apply(topology);
    this.topology = topology;
    this.lastError = undefined;
    for (const v of topology.vpcs) {
      const rt = this.runtime(v.name, v.vpcId);
      this.syncDns(rt, v.resolvers);
      this.syncRouter(rt);
    }
    await this.syncListeners();
  }

  private runtime(name: string, vpcId: string): VpcRuntime {
    let rt = this.vpcs.get(name);
    if (!rt) {
      const sockets = new NamespaceSockets(name);
      const listeners = new ListenerSet({ bind: (host, port) => sockets.tcp(host, port) });
      rt = { vpcId, sockets, transparent: new TransparentSockets(name), listeners, dns: new Map() };
      this.vpcs.set(name, rt);
    }
    return rt;
  }

  private syncDns(rt: VpcRuntime, resolvers: readonly string[]): void {
    const serve = this.opts.serveDns;
    if (!serve) return;
    for (const [address, server] of [...rt.dns])
      if (!resolvers.includes(address)) {
        rt.dns.delete(address);
        void server.then((s) => s?.close());
      }
    for (const address of resolvers) {
      if (rt.dns.has(address)) continue;
      const started = (async () => {
        const [udp, tcp] = await Promise.all([rt.sockets.udp(address, 53), rt.sockets.tcp(address, 53)]);
        return serve(rt.vpcId, address, { udp, tcp });
      })().catch((err: Error) => {
        process.emitWarning(`privlink namespace mode: no resolver at ${address}: ${err.message}`);
        return undefined;
      });
      rt.dns.set(address, started);
    }
  }

  /** The transparent listener of the VPC's router, opened once per namespace. */
  private syncRouter(rt: VpcRuntime): void {
    rt.router ??= rt.transparent.listen("127.0.0.1", TRANSPARENT_PORT).then(
      (server) => {
        server.on("connection", (socket: Socket) => this.forwarder.accept(rt.vpcId, socket));
        return server;
      },
      (err: Error) => {
        process.emitWarning(`privlink namespace mode: no router in ${rt.vpcId}: ${err.message}`);
        rt.router = undefined;
        this.retryLater();
        return undefined;
      },
    );
  }

  /** Every endpoint listener of the data plane, at its private IP in its VPC's namespace. */
  private async syncListeners(): Promise<void> {
    const state = this.opts.state;
    const byVpc = new Map<string, Map<string, ListenerSpec>>();
    for (const name of this.vpcs.keys()) byVpc.set(name, new Map());
    // Only addresses the namespaces already hold: a newer endpoint waits for the next pass.
    const held = new Set(this.topology.vpcs.flatMap((v) => v.addresses.map((a) => `${v.vpcId}|${a}`)));
    for (const key of this.opts.dataplane.listenerKeys()) {
      const colon = key.lastIndexOf(":");
      const host = key.slice(0, colon);
      const port = Number(key.slice(colon + 1));
      const at = privateIpOfHost(state, host);
      const name = at && this.nameOfVpc(at.vpc.id);
      const want = name && byVpc.get(name);
      if (!at || !want || !held.has(`${at.vpc.id}|${at.privateIp}`)) continue;
      const servicePort = port >= PRIVILEGED_PORT_BASE ? port - PRIVILEGED_PORT_BASE : port;
      want.set(listenerKey(at.privateIp, servicePort), {
        host: at.privateIp,
        port: servicePort,
        onConnection: (socket) => this.accept(key, at.vpc.id, socket),
      });
    }
    let failed = false;
    for (const [name, desired] of byVpc) {
      const r = await this.vpcs.get(name)!.listeners.reconcile(desired);
      for (const f of r.failed)
        process.emitWarning(
          `privlink namespace mode: cannot listen on ${f.key} in ${name}: ${f.error.message}`,
        );
      failed ||= r.failed.length > 0;
    }
    if (failed) this.retryLater();
  }

  /** A listener that failed (an address still being added) is tried again shortly. */
  private retryLater(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, RETRY_MS);
    this.retry.unref();
  }

  /** The client is named by its host address: the decision then knows its interface. */
  private accept(loopbackKey: string, vpcId: string, socket: Socket): void {
    const ip = stripMapped(socket.remoteAddress ?? "");
    const vpc = this.opts.state.get("vpc", vpcId);
    const host = (vpc && hostAddressOf(vpc, ip)) ?? ip;
    this.opts.dataplane.admitAt(loopbackKey, socket, host);
  }

  private nameOfVpc(vpcId: string): string | undefined {
    for (const [name, rt] of this.vpcs) if (rt.vpcId === vpcId) return name;
    return undefined;
  }

  private async dropVpc(name: string): Promise<void> {
    const rt = this.vpcs.get(name);
    if (!rt) return;
    this.vpcs.delete(name);
    await rt.listeners.close();
    await Promise.all([...rt.dns.values()].map((p) => p.then((s) => s?.close())));
    (await rt.router)?.close();
    rt.sockets.close();
    rt.transparent.close();
  }
}
