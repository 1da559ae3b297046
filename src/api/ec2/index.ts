import type { HandlerTable } from "../handler.js";
import { endpointServiceHandlers } from "./endpoint-services.js";
import { endpointHandlers } from "./endpoints.js";
import { flowLogHandlers } from "./flow-logs.js";
import { instanceHandlers } from "./instances.js";
import { metaHandlers } from "./meta.js";
import { natHandlers } from "./nat.js";
import { networkHandlers } from "./network.js";
import { networkAclHandlers } from "./network-acls.js";
import { networkInsightsHandlers } from "./network-insights.js";
import { peeringHandlers } from "./peering.js";
import { securityGroupHandlers } from "./security-groups.js";
import { staleSecurityGroupHandlers } from "./stale-security-groups.js";
import { transitGatewayHandlers } from "./transit-gateways.js";
import { vpnHandlers } from "./vpn.js";

/** Every EC2 action privlink answers; the issues add their tables here. */
export const ec2Handlers: HandlerTable = {
  ...metaHandlers,
  ...networkHandlers,
  ...securityGroupHandlers,
  ...instanceHandlers,
  ...endpointHandlers,
  ...endpointServiceHandlers,
  ...natHandlers,
  ...vpnHandlers,
  ...transitGatewayHandlers,
  ...peeringHandlers,
  ...networkAclHandlers,
  ...flowLogHandlers,
  ...networkInsightsHandlers,
  ...staleSecurityGroupHandlers,
};
