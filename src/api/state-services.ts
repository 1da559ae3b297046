import { secretsManagerHandlers } from "../services/secretsmanager.js";
import { ssmHandlers } from "../services/ssm/handlers.js";
import { directConnectHandlers } from "./directconnect.js";
import { ec2Handlers } from "./ec2/index.js";
import { elbv2Handlers } from "./elbv2.js";
import type { HandlerTable } from "./handler.js";
import { route53Handlers } from "./route53.js";
import { route53ResolverHandlers } from "./route53resolver.js";
import { stsHandlers } from "./sts.js";

/**
 * The built-in services whose whole data is the state, by SigV4 service name: any node on a
 * shared store answers them alike, an agent's service front included (docs/agents.md). The
 * others (CloudWatch, CloudWatch Logs, SNS, S3) keep data outside the state (a node's home; S3
 * bodies and SNS's key in the shared store's own rows) and are added by privlink.ts.
 */
export const STATE_SERVICES: Readonly<Record<string, HandlerTable>> = {
  ec2: ec2Handlers,
  sts: stsHandlers,
  elasticloadbalancing: elbv2Handlers,
  route53: route53Handlers,
  secretsmanager: secretsManagerHandlers,
  route53resolver: route53ResolverHandlers,
  directconnect: directConnectHandlers,
  ssm: ssmHandlers,
};

/**
 * The built-in services whose data lives in a node's home (metric points, log events). S3 and SNS
 * left it: on the shared store their bodies and signing key are in the store (docs/agents.md).
 */
export const HOME_SERVICES: ReadonlySet<string> = new Set(["monitoring", "logs"]);
