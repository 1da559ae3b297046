/**
 * `privlink why SRC DST[:PORT]`: the flow decision the data plane enforces, read hop by hop,
 * with the first refusing hop's explanation code and smallest fix (explain.ts), and for AWS
 * services behind an endpoint the endpoint and resource policy decisions the front would make.
 */
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import {
  ASSUME_HEALTHY,
  type Decision,
  decide,
  type FlowSource,
  type HealthView,
  IDLE_LISTENERS,
  type ListenerView,
  stateIndex,
  throughEndpointListener,
} from "../flow/index.js";
import { meaningOf } from "./explain.js";
import { checkPolicyQuery, type PolicyQuery, policyHops } from "./policy.js";
import { type Resolver, resolveDestination, resolveSource } from "./subjects.js";

export interface WhyQuery {
  readonly source: string;
  readonly destination: string;
  /** The VPC of a private-IP source. */
  readonly vpc?: string;
  readonly policy?: PolicyQuery;
}

export interface WhyDeps {
  readonly state: State;
  readonly resolver: Resolver;
  readonly rt: Runtime;
  /** The data plane's target health, so `why` sees what connections see. */
  readonly health?: HealthView;
  /** The data plane's endpoint listeners (open connections, the front), so `why` refuses where they do. */
  readonly listeners?: ListenerView;
}

export interface WhyHop {
  readonly kind: string;
  readonly allowed: boolean;
  readonly resource?: string;
  readonly ruleId?: string;
  readonly detail: string;
  /** Network Insights explanation code, on the refusing hop. */
  readonly code?: string;
}

export interface WhyResult {
  readonly allowed: boolean;
  readonly source: {
    readonly label: string;
    /** The interface of a VPC source; a site source has `site` instead. */
    readonly eniId?: string;
    readonly vpcId?: string;
    readonly site?: string;
    readonly privateIp: string;
  };
  readonly destination: {
    readonly label: string;
    readonly name?: string;
    readonly address: string;
    readonly vpcId?: string;
    readonly privateIp?: string;
    readonly port: number;
  };
  readonly hops: readonly WhyHop[];
  /** Index of the first refusing hop in `hops`. */
  readonly refusedAt?: number;
  readonly reason: string;
  readonly explanationCode?: string;
  readonly fix?: string;
}

/** What explain.ts makes of one decision: hops with the refusing one coded, and its fix. */
export interface Explained {
  readonly hops: WhyHop[];
  readonly refusedAt?: number;
  readonly code?: string;
  readonly fix?: string;
}

export function explainDecision(
  state: State,
  d: Decision,
  port: number,
  region: string,
  awsService?: string,
): Explained {
  const at = d.hops.findIndex((h) => !h.allowed);
  const hops: WhyHop[] = d.hops.map((h, i) =>
    i === at ? { ...h, code: meaningOf(h.kind).code(h) } : { ...h },
  );
  if (at < 0) return { hops };
  const hop = d.hops[at]!;
  const fix = meaningOf(hop.kind).fix({ state, decision: d, hop, port, awsService, region });
  return { hops, refusedAt: at, code: hops[at]!.code, fix };
}

/**
 * The data plane's rule for names with several addresses: the first admitted one, else the first
 * refusal. Each address is decided as the data plane does: the flow decision, then the endpoint
 * listener's own hop.
 */
export function decideAny(
  state: State,
  source: FlowSource,
  addresses: readonly string[],
  port: number,
  name: string | undefined,
  health: HealthView = ASSUME_HEALTHY,
  listeners: ListenerView = IDLE_LISTENERS,
): { decision: Decision; address: string } {
  let first: { decision: Decision; address: string } | undefined;
  for (const address of addresses) {
    const flow = { source, destination: address, port, name };
    const decision = throughEndpointListener(decide(state, flow, health), listeners);
    if (decision.allowed) return { decision, address };
    first ??= { decision, address };
  }
  return first!;
}

export async function why(deps: WhyDeps, q: WhyQuery): Promise<WhyResult> {
  const { state } = deps;
  if (q.policy) checkPolicyQuery(q.policy);
  const src = resolveSource(state, q.source, q.vpc);
  const dst = await resolveDestination(state, deps.resolver, src, q.destination);
  const { decision: d, address } = decideAny(
    state,
    src.flow,
    dst.addresses,
    dst.port,
    dst.name,
    deps.health,
    deps.listeners,
  );
  const explained = explainDecision(state, d, dst.port, src.region, dst.awsService);
  const hops = [...explained.hops];
  let { refusedAt, code, fix } = explained;
  let reason = d.reason;
  if (d.allowed && q.policy && d.target?.kind === "aws-service") {
    const endpoint = stateIndex(state).endpointOfEni(d.target.eniId);
    if (endpoint) {
      const policy = policyHops(state, deps.rt, endpoint, src, q.policy);
      hops.push(...policy);
      const denied = policy.findIndex((h) => !h.allowed);
      if (denied >= 0) {
        refusedAt = hops.length - policy.length + denied;
        reason = policy[denied]!.detail;
        code = undefined; // Reachability Analyzer has no code for IAM policies
        fix = policyFix(policy[denied]!.kind, endpoint.id, policy[denied]!.resource);
      }
    }
  }
  return {
    allowed: refusedAt === undefined,
    source: {
      label: src.label,
      eniId: src.eni?.id,
      vpcId: src.eni?.vpcId,
      site: src.site?.id,
      privateIp: src.privateIp,
    },
    destination: {
      label: dst.label,
      name: dst.name,
      address,
      vpcId: d.destination.vpcId,
      privateIp: d.destination.privateIp,
      port: dst.port,
    },
    hops,
    refusedAt,
    reason,
    explanationCode: code,
    fix,
  };
}

function policyFix(kind: string, endpointId: string, resource?: string): string {
  if (kind === "endpoint-policy")
    return `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${endpointId} --policy-document file://policy.json`;
  return resource?.includes(":secretsmanager:")
    ? `aws secretsmanager put-resource-policy --secret-id ${resource} --resource-policy file://policy.json`
    : `update the resource policy of ${resource ?? "the resource"}`;
}
