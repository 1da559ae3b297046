/**
 * `privlink access`: which workloads reach which interface endpoints on which ports, by which
 * path, under which endpoint policy; and which resources insist on aws:SourceVpce/SourceVpc.
 * Every cell is one flow/ decision (the one the data plane enforces), taken for every workload
 * interface and every endpoint interface it could dial.
 */
import { siteHostAddress, siteWorkloadIp } from "../cloud/site.js";
import type { State } from "../cloud/state.js";
import type { Eni, Site, VpcEndpoint } from "../cloud/types.js";
import {
  ASSUME_HEALTHY,
  type Decision,
  decide,
  type FlowSource,
  type HealthView,
  stateIndex,
} from "../flow/index.js";
import { ROUTING_KINDS } from "./explain.js";
import { resourcesRequiringVpce } from "./policy.js";
import { addressFor } from "./subjects.js";

/** A workload: an instance's interface, or an on-premises site's workload address. */
export interface Workload {
  readonly source: FlowSource;
  readonly eni?: Eni;
  readonly instanceId?: string;
  readonly name?: string;
  readonly site?: Site;
}

/** One (workload, endpoint, port) question: what the data plane would dial. */
export interface FlowCase {
  readonly workload: Workload;
  readonly endpoint: VpcEndpoint;
  readonly endpointEni: Eni;
  /** The address the workload dials (private IP in its VPC, else the host address). */
  readonly address: string;
  readonly port: number;
}

export interface AccessRow {
  /** The workload's account, VPC and subnet; empty for a site (`workload` is `site:NAME`). */
  readonly account: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly workload: string;
  readonly name?: string;
  readonly endpointId: string;
  readonly endpointAccount: string;
  readonly service: string;
  readonly port: number;
  readonly path: string;
  /** `full-access` (AWS's default policy, or one as wide), else `restricted`. */
  readonly endpointPolicy: "full-access" | "restricted";
}

export interface AccessReport {
  readonly rows: readonly AccessRow[];
  readonly checked: number;
  readonly refused: number;
  readonly sourceVpceResources: ReturnType<typeof resourcesRequiringVpce>;
}

/**
 * The workloads privlink can run programs as: running instances' interfaces, and each
 * on-premises site from its workload address (.10, as `exec --from site:NAME`). Sites belong to
 * no account: `--account` leaves them out.
 */
export function workloads(state: State, account?: string): Workload[] {
  const out: Workload[] = [];
  for (const i of state.all("instance")) {
    if (i.state !== "running" || (account && i.accountId !== account)) continue;
    const eni = state.get("eni", i.eniId);
    if (eni) out.push({ source: { kind: "eni", eniId: eni.id }, eni, instanceId: i.id, name: i.tags.Name });
  }
  if (!account)
    for (const site of state.all("site")) {
      const host = siteHostAddress(site, siteWorkloadIp(site));
      if (host) out.push({ source: { kind: "outside", address: host }, site });
    }
  return out;
}

/** The columns that say who the workload is. */
export function workloadColumns(w: Workload): Pick<AccessRow, "account" | "vpcId" | "subnetId" | "workload"> {
  if (!w.eni) return { account: "", vpcId: "", subnetId: "", workload: `site:${w.site?.id ?? ""}` };
  return {
    account: w.eni.accountId,
    vpcId: w.eni.vpcId,
    subnetId: w.eni.subnetId,
    workload: w.instanceId ?? w.eni.id,
  };
}

/** The ports an endpoint serves: 443 for AWS services, the listener ports of the provider's NLBs. */
export function endpointPorts(state: State, ep: VpcEndpoint): number[] {
  if (!ep.serviceId) return [443];
  const svc = state.get("endpointService", ep.serviceId);
  const index = stateIndex(state);
  const ports = new Set<number>();
  for (const lb of svc?.networkLoadBalancerArns ?? [])
    for (const l of index.listenersOf(lb)) ports.add(l.port);
  return [...ports].sort((a, b) => a - b);
}

/** Every question `access` asks: each workload to each interface endpoint (the ENI in its AZ first). */
export function flowCases(state: State, account?: string): FlowCase[] {
  const endpoints = [...state.all("vpcEndpoint")].filter((e) => e.type === "Interface" && e.enis.length > 0);
  const perEndpoint = endpoints.map((ep) => ({
    ep,
    enis: ep.enis.map((n) => state.get("eni", n.eniId)).filter((e): e is Eni => !!e),
    ports: endpointPorts(state, ep),
  }));
  const cases: FlowCase[] = [];
  for (const w of workloads(state, account)) {
    for (const { ep, enis, ports } of perEndpoint) {
      const eni = enis.find((e) => e.az === w.eni?.az) ?? enis[0];
      if (!eni) continue;
      const address = addressFor(state, w, eni);
      for (const port of ports) cases.push({ workload: w, endpoint: ep, endpointEni: eni, address, port });
    }
  }
  return cases;
}

export function decideCase(state: State, c: FlowCase, health: HealthView = ASSUME_HEALTHY): Decision {
  return decide(state, { source: c.workload.source, destination: c.address, port: c.port }, health);
}

/** The path an admitted flow took: its routing hops' resources, or "local". */
export function pathOf(d: Decision): string {
  const via = d.hops
    .filter((h) => ROUTING_KINDS.has(h.kind) && h.resource)
    .map((h) => h.resource!)
    .filter((r, i, all) => all.indexOf(r) === i);
  const table = via.filter((r) => r.startsWith("rtb-"));
  const beyond = via.filter((r) => !r.startsWith("rtb-"));
  return beyond.length ? `${table.join(",")} > ${beyond.join(" > ")}` : `${table.join(",")} local`;
}

export function accessReport(
  state: State,
  opts: { account?: string; health?: HealthView } = {},
): AccessReport {
  const rows: AccessRow[] = [];
  let refused = 0;
  const cases = flowCases(state, opts.account);
  for (const c of cases) {
    const d = decideCase(state, c, opts.health);
    if (!d.allowed) {
      refused++;
      continue;
    }
    rows.push(rowOf(c, d));
  }
  return { rows, checked: cases.length, refused, sourceVpceResources: resourcesRequiringVpce(state) };
}

function rowOf(c: FlowCase, d: Decision): AccessRow {
  return {
    ...workloadColumns(c.workload),
    name: c.workload.name,
    endpointId: c.endpoint.id,
    endpointAccount: c.endpoint.accountId,
    service: c.endpoint.serviceName,
    port: c.port,
    path: pathOf(d),
    endpointPolicy: endpointPolicyKind(c.endpoint.policyDocument),
  };
}

/** Whether an endpoint policy lets everything through (the default) or restricts who does what. */
export function endpointPolicyKind(doc: string | undefined): "full-access" | "restricted" {
  if (doc === undefined) return "full-access";
  try {
    const parsed = JSON.parse(doc) as { Statement?: unknown };
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
    const wide = (v: unknown) => v === "*" || (Array.isArray(v) && v.includes("*"));
    const open = statements.some((st: Record<string, unknown> | undefined) => {
      const principal = st?.Principal;
      return (
        st?.Effect === "Allow" &&
        (principal === "*" || wide((principal as { AWS?: unknown } | undefined)?.AWS)) &&
        wide(st.Action) &&
        wide(st.Resource) &&
        st.Condition === undefined
      );
    });
    const denies = statements.some((st: Record<string, unknown> | undefined) => st?.Effect === "Deny");
    return open && !denies ? "full-access" : "restricted";
  } catch {
    return "restricted";
  }
}
