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
 * others are added by privlink.ts: CloudWatch and CloudWatch Logs keep their data in the store's
 * own tables on PostgreSQL (src/agent/store-services.ts serves them on agents), S3 bodies and
 * SNS's signing key too (src/services/s3/pg-blobs.ts, a meta row); on SQLite all four use the home.
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
