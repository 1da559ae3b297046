import type { State } from "../cloud/state.js";
import type { Eni, Listener, VpcEndpoint } from "../cloud/types.js";

/**
 * Lookups the decision needs on every flow, built once per state version: finding an
 * interface by address or the endpoint behind an interface would otherwise scan every table.
 */
export interface StateIndex {
  readonly version: number;
  eniAt(vpcId: string, privateIp: string): Eni | undefined;
  endpointOfEni(eniId: string): VpcEndpoint | undefined;
  listenersOf(loadBalancerArn: string): readonly Listener[];
}

const built = new WeakMap<State, StateIndex>();

export function stateIndex(state: State): StateIndex {
  const cached = built.get(state);
  if (cached && cached.version === state.version) return cached;
  const index = buildIndex(state);
  built.set(state, index);
  return index;
}

function buildIndex(state: State): StateIndex {
  const enis = new Map<string, Eni>();
  for (const e of state.all("eni")) enis.set(`${e.vpcId}|${e.privateIp}`, e);
  const endpoints = new Map<string, VpcEndpoint>();
  for (const ep of state.all("vpcEndpoint")) for (const n of ep.enis) endpoints.set(n.eniId, ep);
  const listeners = new Map<string, Listener[]>();
  for (const l of state.all("listener")) {
    const list = listeners.get(l.loadBalancerArn) ?? [];
    list.push(l);
    listeners.set(l.loadBalancerArn, list);
  }
  return {
    version: state.version,
    eniAt: (vpcId, ip) => enis.get(`${vpcId}|${ip}`),
    endpointOfEni: (id) => endpoints.get(id),
    listenersOf: (arn) => listeners.get(arn) ?? [],
  };
}
