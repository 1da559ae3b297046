import type { IncomingMessage, ServerResponse } from "node:http";
import type { Counter, Histogram, Registry } from "prom-client";
import type { State } from "../cloud/state.js";
import type { Counters, Stats } from "../net/meter.js";
import type { ObservedRequest } from "./dispatch.js";

const ENDPOINT_LABELS = ["vpc_endpoint_id", "service_name", "vpc_id", "account_id"];

/** The per-endpoint counters that are one field of the endpoint's meter row, with its labels. */
const ENDPOINT_COUNTERS: readonly { name: string; help: string; field: keyof Counters }[] = [
  {
    name: "privlink_endpoint_connections_total",
    help: "Connections admitted through interface endpoints",
    field: "newConnections",
  },
  {
    name: "privlink_endpoint_resets_total",
    help: "Connections through endpoints that ended in a reset",
    field: "resets",
  },
  {
    name: "privlink_endpoint_idle_timeouts_total",
    help: "Connections through endpoints reset after the idle timeout (also in resets_total)",
    field: "idleTimeouts",
  },
  { name: "privlink_endpoint_dropped_total", help: "Flows refused at endpoints", field: "dropped" },
];

/**
 * GET /metrics in the Prometheus exposition format: the data plane's counters per endpoint,
 * interface, endpoint service and NAT gateway, and privlink's own health (API requests by
 * action and code, their latency, open connections). Counters are read from the meter at
 * scrape time, so a scrape costs nothing between scrapes.
 *
 * prom-client (some 85 modules with @opentelemetry/api) loads on the first API request or scrape,
 * not at start-up: the requests answered while it loads are kept and counted once it is there.
 */
export class PrometheusMetrics {
  private loaded?: Promise<Registry>;
  private requests?: Counter<"service" | "action" | "code">;
  private latency?: Histogram<"service" | "action">;
  /** Requests observed before prom-client was loaded (only those of the load's own few ms). */
  private pending: ObservedRequest[] = [];
  /** The resolvers' answers by response code, once DNS has started. */
  dns?: () => { resolver: string; rcode: string; count: number }[];

  constructor(
    private readonly state: State,
    /** This node's counters plus, with agents, theirs (summed: the families below are totals). */
    private readonly snapshot: () => Stats,
    /** Each agent's own counters (src/agent/observer.ts): the `privlink_agent_*` families. */
    private readonly agents: () => readonly { name: string; alive: boolean; stats: Stats }[] = () => [],
  ) {}

  /** The registry, once prom-client is loaded. */
  registry(): Promise<Registry> {
    this.loaded ??= import("prom-client").then((prom) => {
      const registry = this.build(prom);
      for (const r of this.pending.splice(0)) this.observe(r);
      return registry;
    });
    return this.loaded;
  }

  private build({ Counter, Gauge, Histogram, Registry }: typeof import("prom-client")): Registry {
    const [state, snapshot, agents] = [this.state, this.snapshot, this.agents];
    const r = new Registry();
    // One meter snapshot per scrape: prom-client runs every collect() of a scrape in the same
    // turn of the event loop, so the first one takes the snapshot and the rest of that turn
    // share it — whichever metric comes first, and a lone metric's get() reads a fresh one too.
    let taken: Stats | undefined;
    const stats = (): Stats => {
      if (!taken) {
        taken = snapshot();
        setImmediate(() => {
          taken = undefined;
        });
      }
      return taken;
    };
    const counter = (name: string, help: string, labels: string[], fill: (c: Counter<string>) => void) =>
      new Counter({
        name,
        help,
        labelNames: labels,
        registers: [r],
        collect() {
          this.reset();
          fill(this);
        },
      });
    const endpointLabels = (id: string) => {
      const ep = state.get("vpcEndpoint", id);
      return {
        vpc_endpoint_id: id,
        service_name: ep?.serviceName ?? "",
        vpc_id: ep?.vpcId ?? "",
        account_id: ep?.accountId ?? "",
      };
    };
    counter(
      "privlink_endpoint_bytes_total",
      "Bytes through interface endpoints (in: client to service)",
      [...ENDPOINT_LABELS, "direction"],
      (c) => {
        for (const e of stats().endpoints) {
          c.inc({ ...endpointLabels(e.vpcEndpointId), direction: "in" }, e.bytesIn);
          c.inc({ ...endpointLabels(e.vpcEndpointId), direction: "out" }, e.bytesOut);
        }
      },
    );
    for (const { name, help, field } of ENDPOINT_COUNTERS)
      counter(name, help, ENDPOINT_LABELS, (c) => {
        for (const e of stats().endpoints) c.inc(endpointLabels(e.vpcEndpointId), e[field]);
      });
    new Gauge({
      name: "privlink_endpoint_active_connections",
      help: "Open connections through each interface endpoint",
      labelNames: ENDPOINT_LABELS,
      registers: [r],
      collect() {
        this.reset();
        for (const e of stats().endpoints) this.set(endpointLabels(e.vpcEndpointId), e.activeConnections);
      },
    });
    counter(
      "privlink_eni_bytes_total",
      "Bytes per network interface",
      ["network_interface_id", "direction"],
      (c) => {
        for (const e of stats().enis) {
          c.inc({ network_interface_id: e.networkInterfaceId, direction: "in" }, e.bytesIn);
          c.inc({ network_interface_id: e.networkInterfaceId, direction: "out" }, e.bytesOut);
        }
      },
    );
    counter(
      "privlink_eni_connections_total",
      "Connections per network interface",
      ["network_interface_id"],
      (c) => {
        for (const e of stats().enis) c.inc({ network_interface_id: e.networkInterfaceId }, e.newConnections);
      },
    );
    counter(
      "privlink_service_bytes_total",
      "Bytes per endpoint service (the provider's view)",
      ["service_id"],
      (c) => {
        const by = new Map<string, number>();
        for (const e of stats().endpoints) {
          const sid = state.get("vpcEndpoint", e.vpcEndpointId)?.serviceId;
          if (sid) by.set(sid, (by.get(sid) ?? 0) + e.bytesIn + e.bytesOut);
        }
        for (const [sid, n] of by) c.inc({ service_id: sid }, n);
      },
    );
    counter(
      "privlink_nat_gateway_bytes_total",
      "Bytes through NAT gateways",
      ["nat_gateway_id", "direction"],
      (c) => {
        for (const n of stats().natGateways) {
          c.inc({ nat_gateway_id: n.natGatewayId, direction: "in" }, n.bytesIn);
          c.inc({ nat_gateway_id: n.natGatewayId, direction: "out" }, n.bytesOut);
        }
      },
    );
    new Gauge({
      name: "privlink_open_connections",
      help: "Open connections through the data plane (endpoint listeners)",
      registers: [r],
      collect() {
        this.set(stats().endpoints.reduce((a, e) => a + e.activeConnections, 0));
      },
    });
    // Several hosts: which agent carries what (the families above sum every agent and this node).
    new Gauge({
      name: "privlink_agent_alive",
      help: "1 while the agent's lease is live, 0 after it lapsed (agents on the shared store)",
      labelNames: ["agent"],
      registers: [r],
      collect() {
        this.reset();
        for (const a of agents()) this.set({ agent: a.name }, a.alive ? 1 : 0);
      },
    });
    counter(
      "privlink_agent_endpoint_bytes_total",
      "Bytes through interface endpoints admitted by each agent (in: client to service)",
      ["agent", "vpc_endpoint_id", "direction"],
      (c) => {
        for (const a of agents())
          for (const e of a.stats.endpoints) {
            c.inc({ agent: a.name, vpc_endpoint_id: e.vpcEndpointId, direction: "in" }, e.bytesIn);
            c.inc({ agent: a.name, vpc_endpoint_id: e.vpcEndpointId, direction: "out" }, e.bytesOut);
          }
      },
    );
    counter(
      "privlink_agent_endpoint_connections_total",
      "Connections through interface endpoints admitted by each agent",
      ["agent", "vpc_endpoint_id"],
      (c) => {
        for (const a of agents())
          for (const e of a.stats.endpoints)
            c.inc({ agent: a.name, vpc_endpoint_id: e.vpcEndpointId }, e.newConnections);
      },
    );
    counter(
      "privlink_dns_queries_total",
      "DNS queries answered by privlink's resolvers, by resolver (public or VPC ID) and response code",
      ["resolver", "rcode"],
      (c) => {
        for (const q of this.dns?.() ?? []) c.inc({ resolver: q.resolver, rcode: q.rcode }, q.count);
      },
    );
    this.requests = new Counter({
      name: "privlink_api_requests_total",
      help: "AWS API requests answered, by service, action and error code (OK for successes)",
      labelNames: ["service", "action", "code"],
      registers: [r],
    });
    this.latency = new Histogram({
      name: "privlink_api_request_duration_seconds",
      help: "AWS API request latency",
      labelNames: ["service", "action"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [r],
    });
    return r;
  }

  observe(req: ObservedRequest): void {
    if (!this.requests || !this.latency) {
      this.pending.push(req);
      void this.registry();
      return;
    }
    const action = req.action ?? "unknown";
    this.requests.inc({ service: req.service, action, code: req.code ?? "OK" });
    this.latency.observe({ service: req.service, action }, req.ms / 1000);
  }

  /** The server's fallback for GET /metrics (unsigned, like every Prometheus scrape). */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") return false;
    this.registry()
      .then(async (registry) => {
        const text = await registry.metrics();
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(text);
      })
      .catch((err: Error) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(err.message);
      });
    return true;
  }
}
