/** The AWS service fronts: TLS with the local CA, SigV4 principal, endpoint policy, upstreams. */
export { type AccessRequest, type AuthzCtx, accessDenied, authorize, decide } from "./authorize.js";
export { LocalCa } from "./ca.js";
export { deriveRequest, iamPrefix } from "./derive.js";
export {
  DEFAULT_FRONT_LIMITS,
  type FrontConnection,
  type FrontLimits,
  type FrontOptions,
  type GatewayConnection,
  HANDLER_AUTHORIZED,
  type PublicConnection,
  ServiceFront,
} from "./front.js";
export { renderServiceError } from "./render.js";
export { caBundlePath, caCertPath, combinedBundle, workloadTlsEnv } from "./trust.js";
export {
  checkUpstreamUrl,
  forwardToUpstream,
  setUpstream,
  stateUpstreams,
  type UpstreamTable,
  unsetUpstream,
  upstreamAdminRoutes,
} from "./upstream.js";
