/**
 * The endpoint listener as a hop of the one decision. After the state has admitted a flow to an
 * interface endpoint, the listener on the endpoint's address may still refuse it for what only
 * the data plane knows: its open connections (a flood on one endpoint must not take every
 * descriptor), whether a service front takes AWS-service connections, and whether the flow
 * it admitted goes anywhere a listener forwards to. The data plane enforces this hop and `why`
 * prints it, both through {@link throughEndpointListener}, so they name the same reason.
 *
 * It is applied after the cached decision (FlowDecider), not inside it: open connections change
 * with every connection, not with the state version.
 */
import type { Decision, Hop } from "./types.js";

/** What the data plane knows of its endpoint listeners that the state does not. */
export interface ListenerView {
  /** Connections open now through the endpoint's listeners. */
  openConnections(endpointId: string): number;
  /** At this many open connections an endpoint refuses new flows. */
  readonly maxConnectionsPerEndpoint: number;
  /** Whether an AWS service front takes the connections of endpoints to AWS services. */
  readonly serviceFront: boolean;
}

/** The default per-endpoint connection limit of the data plane. */
export const MAX_CONNECTIONS_PER_ENDPOINT = 4096;

/** No data plane (the analyzer alone): no connection is open, a front serves AWS services. */
export const IDLE_LISTENERS: ListenerView = {
  openConnections: () => 0,
  maxConnectionsPerEndpoint: MAX_CONNECTIONS_PER_ENDPOINT,
  serviceFront: true,
};

/**
 * The refusal of the endpoint listener, if it refuses an admitted flow. `listenerOf` is the
 * endpoint whose listener took the connection (the data plane knows it; `why` does not, and then
 * only flows to an endpoint are the listener's).
 */
export function endpointListenerRefusal(
  d: Decision,
  view: ListenerView,
  listenerOf?: string,
): Hop | undefined {
  const t = d.target;
  if (!d.allowed || !t) return undefined;
  if (t.kind !== "nlb" && t.kind !== "aws-service") {
    if (listenerOf === undefined) return undefined;
    return refusal(listenerOf, `no forwarding for ${t.kind} on an endpoint listener`);
  }
  const live = view.openConnections(t.endpointId);
  if (live >= view.maxConnectionsPerEndpoint)
    return refusal(t.endpointId, `endpoint ${t.endpointId} has ${live} open connections (the limit)`);
  if (t.kind === "aws-service" && !view.serviceFront)
    return refusal(t.endpointId, `no service front for ${t.serviceName}`);
  return undefined;
}

/** The decision with the listener's refusal as its last hop, or unchanged when the listener takes it. */
export function throughEndpointListener(d: Decision, view: ListenerView, listenerOf?: string): Decision {
  const hop = endpointListenerRefusal(d, view, listenerOf);
  if (!hop) return d;
  return { ...d, allowed: false, hops: [...d.hops, hop], reason: hop.detail, target: undefined };
}

function refusal(endpointId: string, detail: string): Hop {
  return { kind: "endpoint-listener", allowed: false, resource: endpointId, detail };
}
