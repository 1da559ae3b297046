/**
 * The life of Network Insights paths and analyses (Reachability Analyzer): a path names a source,
 * a destination and a port; an analysis of it starts `running` and is completed by the
 * analyzer's lifecycle step (src/analyze/insights.ts), which asks flow/.
 */
import type { Ctx } from "./context.js";
import { AwsError } from "./errors.js";
import { arn, newId } from "./ids.js";
import type { Tx } from "./state.js";
import type { NetworkInsightsAnalysis, NetworkInsightsPath, Tags } from "./types.js";

export interface PathInput {
  source?: string;
  destination?: string;
  sourceIp?: string;
  destinationIp?: string;
  protocol?: string;
  destinationPort?: number;
  clientToken?: string;
  tags?: Tags;
}

/** Resource kinds a path may start or end at, by ID prefix, with their ARN resource type. */
const ENDPOINT_KINDS = {
  i: { kind: "instance", arnType: "instance", code: "InvalidInstanceID.NotFound", noun: "instance ID" },
  eni: {
    kind: "eni",
    arnType: "network-interface",
    code: "InvalidNetworkInterfaceID.NotFound",
    noun: "networkInterface ID",
  },
  vpce: {
    kind: "vpcEndpoint",
    arnType: "vpc-endpoint",
    code: "InvalidVpcEndpointId.NotFound",
    noun: "Vpc Endpoint Id",
  },
} as const;

/** An ID, or the ID at the end of an ARN (`arn:aws:ec2:…:instance/i-…`). */
export function resourceIdOf(text: string): string {
  return text.startsWith("arn:") ? text.slice(text.lastIndexOf("/") + 1) : text;
}

function checkResource(tx: Tx, ctx: Ctx, text: string, member: string): string {
  const id = resourceIdOf(text);
  const prefix = id.slice(0, id.indexOf("-")) as keyof typeof ENDPOINT_KINDS;
  const k = ENDPOINT_KINDS[prefix];
  if (!k)
    throw new AwsError(
      "InvalidParameterValue",
      `The ${member} '${text}' is not supported: privlink analyses instances, network interfaces and VPC endpoints`,
    );
  // Another account's resource is as absent as an unknown one: a path must not let B probe A's
  // network (AWS reaches other accounts' resources only through Organizations trusted access).
  const found = tx.get(k.kind, id) as { region: string; accountId: string } | undefined;
  if (!found || found.region !== ctx.region || found.accountId !== ctx.accountId)
    throw new AwsError(k.code, `The ${k.noun} '${id}' does not exist`);
  return arn("ec2", ctx.region, found.accountId, `${k.arnType}/${id}`);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function createPath(tx: Tx, ctx: Ctx, input: PathInput): NetworkInsightsPath {
  if (!input.source) throw new AwsError("MissingParameter", "The request must contain the parameter Source");
  if (!input.protocol)
    throw new AwsError("MissingParameter", "The request must contain the parameter Protocol");
  if (input.protocol !== "tcp" && input.protocol !== "udp")
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${input.protocol}) for parameter Protocol is invalid. Valid values are: tcp, udp`,
    );
  if (!input.destination && !input.destinationIp)
    throw new AwsError(
      "InvalidParameterCombination",
      "Either Destination or DestinationIp must be specified",
    );
  for (const [name, ip] of [
    ["SourceIp", input.sourceIp],
    ["DestinationIp", input.destinationIp],
  ] as const)
    if (ip !== undefined && !IPV4.test(ip))
      throw new AwsError("InvalidParameterValue", `Value (${ip}) for parameter ${name} is invalid`);
  const port = input.destinationPort;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${port}) for parameter DestinationPort is invalid. It must be between 0 and 65535`,
    );
  const sourceArn = checkResource(tx, ctx, input.source, "Source");
  const destinationArn = input.destination
    ? checkResource(tx, ctx, input.destination, "Destination")
    : undefined;
  const id = newId(ctx.rt, "nip");
  return tx.put("networkInsightsPath", {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    arn: arn("ec2", ctx.region, ctx.accountId, `network-insights-path/${id}`),
    source: resourceIdOf(input.source),
    destination: input.destination && resourceIdOf(input.destination),
    sourceArn,
    destinationArn,
    sourceIp: input.sourceIp,
    destinationIp: input.destinationIp,
    protocol: input.protocol,
    destinationPort: port,
    createdAt: ctx.rt.now().toISOString(),
    clientToken: input.clientToken,
  });
}

function mine<T extends { accountId: string; region: string }>(x: T | undefined, ctx: Ctx): x is T {
  return !!x && x.accountId === ctx.accountId && x.region === ctx.region;
}

export function pathNotFound(id: string): AwsError {
  return new AwsError(
    "InvalidNetworkInsightsPathId.NotFound",
    `The NetworkInsightsPath ID '${id}' does not exist`,
  );
}

export function analysisNotFound(id: string): AwsError {
  return new AwsError(
    "InvalidNetworkInsightsAnalysisId.NotFound",
    `The NetworkInsightsAnalysis ID '${id}' does not exist`,
  );
}

export function getPath(tx: Tx, ctx: Ctx, id: string | undefined): NetworkInsightsPath {
  if (!id)
    throw new AwsError("MissingParameter", "The request must contain the parameter NetworkInsightsPathId");
  const p = tx.get("networkInsightsPath", id);
  if (!mine(p, ctx)) throw pathNotFound(id);
  return p;
}

/** A path with analyses cannot go (AWS answers DependencyViolation): delete them first. */
export function deletePath(tx: Tx, ctx: Ctx, id: string | undefined): NetworkInsightsPath {
  const p = getPath(tx, ctx, id);
  const analyses = [...tx.all("networkInsightsAnalysis")].filter((a) => a.pathId === p.id);
  if (analyses.length)
    throw new AwsError(
      "DependencyViolation",
      `The NetworkInsightsPath '${p.id}' has dependent analyses (${analyses.map((a) => a.id).join(", ")}) and cannot be deleted`,
    );
  tx.delete("networkInsightsPath", p.id);
  return p;
}

export function startAnalysis(
  tx: Tx,
  ctx: Ctx,
  input: { pathId?: string; filterInArns?: string[]; additionalAccounts?: string[]; tags?: Tags },
): NetworkInsightsAnalysis {
  const p = getPath(tx, ctx, input.pathId);
  const id = newId(ctx.rt, "nia");
  return tx.put("networkInsightsAnalysis", {
    id,
    accountId: ctx.accountId,
    region: ctx.region,
    tags: input.tags ?? {},
    arn: arn("ec2", ctx.region, ctx.accountId, `network-insights-analysis/${id}`),
    pathId: p.id,
    startedAt: ctx.rt.now().toISOString(),
    status: "running",
    filterInArns: input.filterInArns,
    additionalAccounts: input.additionalAccounts,
  });
}

export function deleteAnalysis(tx: Tx, ctx: Ctx, id: string | undefined): NetworkInsightsAnalysis {
  if (!id)
    throw new AwsError(
      "MissingParameter",
      "The request must contain the parameter NetworkInsightsAnalysisId",
    );
  const a = tx.get("networkInsightsAnalysis", id);
  if (!mine(a, ctx)) throw analysisNotFound(id);
  tx.delete("networkInsightsAnalysis", a.id);
  return a;
}
