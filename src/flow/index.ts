export { decide, FlowDecider } from "./decide.js";
export {
  endpointListenerRefusal,
  IDLE_LISTENERS,
  type ListenerView,
  MAX_CONNECTIONS_PER_ENDPOINT,
  throughEndpointListener,
} from "./endpoint-listener.js";
export { type GatewayServiceName, gatewayServiceOfName } from "./gateway-endpoint.js";
export { type StateIndex, stateIndex } from "./index-cache.js";
export { EPHEMERAL } from "./nacl.js";
export { internetHops, longestMatch, routeTableOf } from "./route.js";
export { matchingRule, type Peer, securityGroupHop } from "./sg.js";
export { healthCheckPort, proxyProtocolV2, takesNewFlows, targetHost } from "./targets.js";
export {
  ASSUME_HEALTHY,
  type Decision,
  type Flow,
  type FlowSource,
  type FlowTarget,
  type HealthView,
  type Hop,
  type HopKind,
  type ResolvedTarget,
  type TargetHealthState,
} from "./types.js";
