import type { Socket } from "node:net";
import { hostAddressOf } from "../../cloud/addressing.js";
import type { State } from "../../cloud/state.js";
import { type Decision, type FlowSource, stateIndex } from "../../flow/index.js";
import { type DataPlane, stripMapped } from "../dataplane.js";
import { admittedFlow, refusedFlow } from "../flow-tap.js";
import { listenerKey, refuse } from "../listener.js";
import { connectUpstream, relay } from "../relay.js";
import { natGatewayOf } from "../workload-proxy.js";
import type { HelperError } from "./sockets.js";
import type { TransparentSockets } from "./transparent.js";

/**
 * Namespace mode's router between instances: a connection `tproxy` took in a VPC's namespace
 * (an instance dialling an address its VPC namespace does not hold) is decided by the one flow
 * decision, as its real packet would be on AWS, from the client's interface to the address it
 * dialled. Refused: a TCP reset, recorded with its reason in the flow events and the flow logs.
 * Admitted: privlink dials the destination where it lives, from the client's private IP (a
 * transparent socket in the destination VPC's namespace), so that the server sees its real peer,
 * and relays and meters the bytes. An endpoint in a peered VPC goes to the data plane's listener
 * of that endpoint; a site or the outside world is dialled on its host address, as on loopback.
 */
export class NamespaceForwarder {
  constructor(
    private readonly state: State,
    private readonly dataplane: DataPlane,
    /** The transparent-socket helper of a VPC's namespace, when it has one. */
    private readonly helperOf: (vpcId: string) => TransparentSockets | undefined,
  ) {}

  /** A connection accepted by the transparent listener of `vpcId`'s namespace. */
  accept(vpcId: string, socket: Socket): void {
    socket.on("error", () => undefined);
    const clientIp = stripMapped(socket.remoteAddress ?? "");
    const dialled = stripMapped(socket.localAddress ?? "");
    const port = socket.localPort ?? 0;
    const eni = stateIndex(this.state).eniAt(vpcId, clientIp);
    const source: FlowSource = eni ? { kind: "eni", eniId: eni.id } : { kind: "outside", address: clientIp };
    let d: Decision;
    try {
      d = this.dataplane.decider.decide({ source, destination: dialled, port });
    } catch (err) {
      this.refused(socket, clientIp, dialled, port, `internal error: ${(err as Error).message}`);
      return;
    }
    if (!d.allowed) {
      this.refused(socket, clientIp, dialled, port, d.reason, d);
      return;
    }
    const t = d.target;
    switch (t?.kind) {
      case "nlb":
      case "aws-service": {
        // The endpoint's own listener decides again (same answer) and records the flow there.
        const vpc = this.state.get("vpc", vpcId);
        const host = (vpc && hostAddressOf(vpc, clientIp)) ?? clientIp;
        const at = d.destination.host;
        this.dataplane.admitAt(listenerKey(at, this.dataplane.boundPort(at, port)), socket, host);
        return;
      }
      case "eni": {
        const helper = d.destination.vpcId ? this.helperOf(d.destination.vpcId) : undefined;
        const to = d.destination.privateIp;
        if (!helper || !to)
          this.refused(socket, clientIp, dialled, port, `no namespace holds ${to ?? dialled}`, d);
        else this.relayed(socket, d, port, helper.dial(to, port, d.source.privateIp ?? clientIp));
        return;
      }
      case "site":
      case "external": {
        const vpc = this.state.get("vpc", vpcId);
        const from = vpc && hostAddressOf(vpc, clientIp);
        const up = connectUpstream({ host: t.host, port, localAddress: from });
        this.relayed(socket, d, port, Promise.resolve(up));
        return;
      }
      default: {
        this.refused(
          socket,
          clientIp,
          dialled,
          port,
          `namespace mode does not carry ${t?.kind ?? "this"} flows yet: use privlink exec in loopback mode`,
          d,
        );
      }
    }
  }

  private relayed(socket: Socket, d: Decision, port: number, upstream: Promise<Socket>): void {
    const srcPort = socket.remotePort ?? 0;
    upstream.then(
      (up) => {
        if (socket.destroyed) {
          up.destroy();
          return;
        }
        const meter = this.dataplane.flows.open(
          d.source.eniId,
          undefined,
          natGatewayOf(d),
          this.dataplane.flows.watched ? admittedFlow(d, srcPort, port, d.source.privateIp ?? "") : undefined,
        );
        const handle = relay(socket, () => up, { idle: this.dataplane.idle, meter });
        meter.track(handle);
      },
      // The destination answered with a reset or not at all: the client sees the same.
      (err: HelperError) => (err.code === "ETIMEDOUT" ? socket.destroy() : refuse(socket)),
    );
  }

  private refused(
    socket: Socket,
    clientIp: string,
    dialled: string,
    port: number,
    reason: string,
    d?: Decision,
  ): void {
    refuse(socket);
    const sourceEniId = d?.source.eniId;
    if (d)
      this.dataplane.flows.dropped(sourceEniId, undefined, {
        ...refusedFlow(d, socket.remotePort ?? 0, port, clientIp),
        reason,
      });
    this.dataplane.events.record({
      at: "namespace",
      source: clientIp,
      sourceEniId,
      destination: dialled,
      port,
      networkInterfaceId: d?.destination.eniId,
      reason,
    });
  }
}
