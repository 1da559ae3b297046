import { type Ctx, isoNow } from "./context.js";
import { AwsError } from "./errors.js";
import { newId } from "./ids.js";
import type { Tx } from "./state.js";
import { registerTaggable } from "./tags.js";
import type { Eni, FlowLog, Tags } from "./types.js";

/**
 * VPC Flow Logs: the life of a flow log (CreateFlowLogs, DeleteFlowLogs), which interfaces it
 * watches, and how one record becomes a line in AWS's format (v2 default, custom LogFormat
 * with the v3-v5 fields). Pure: the data plane hands records in, destinations write them out.
 */

registerTaggable("fl", "flowLog", "vpc-flow-log");

/** Every field privlink fills, with the format version that introduced it. */
export const FLOW_LOG_FIELDS: Readonly<Record<string, number>> = {
  version: 2,
  "account-id": 2,
  "interface-id": 2,
  srcaddr: 2,
  dstaddr: 2,
  srcport: 2,
  dstport: 2,
  protocol: 2,
  packets: 2,
  bytes: 2,
  start: 2,
  end: 2,
  action: 2,
  "log-status": 2,
  "vpc-id": 3,
  "subnet-id": 3,
  "instance-id": 3,
  "tcp-flags": 3,
  type: 3,
  "pkt-srcaddr": 3,
  "pkt-dstaddr": 3,
  region: 4,
  "az-id": 4,
  "sublocation-type": 4,
  "sublocation-id": 4,
  "pkt-src-aws-service": 5,
  "pkt-dst-aws-service": 5,
  "flow-direction": 5,
  "traffic-path": 5,
  // Transit gateway flow logs (version 6).
  "resource-type": 6,
  "tgw-id": 6,
  "tgw-attachment-id": 6,
  "tgw-src-vpc-account-id": 6,
  "tgw-dst-vpc-account-id": 6,
  "tgw-src-vpc-id": 6,
  "tgw-dst-vpc-id": 6,
  "tgw-src-subnet-id": 6,
  "tgw-dst-subnet-id": 6,
  "tgw-src-eni": 6,
  "tgw-dst-eni": 6,
  "tgw-src-az-id": 6,
  "tgw-dst-az-id": 6,
  "tgw-pair-attachment-id": 6,
  "packets-lost-no-route": 6,
  "packets-lost-blackhole": 6,
  "packets-lost-mtu-exceeded": 6,
  "packets-lost-ttl-expired": 6,
};

export const DEFAULT_LOG_FORMAT =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's own LogFormat syntax, not a template
  "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/** A transit gateway flow log without LogFormat has every TGW field, in AWS's order. */
export const TGW_DEFAULT_LOG_FORMAT = [
  "version",
  "resource-type",
  "account-id",
  "tgw-id",
  "tgw-attachment-id",
  "tgw-src-vpc-account-id",
  "tgw-dst-vpc-account-id",
  "tgw-src-vpc-id",
  "tgw-dst-vpc-id",
  "tgw-src-subnet-id",
  "tgw-dst-subnet-id",
  "tgw-src-eni",
  "tgw-dst-eni",
  "tgw-src-az-id",
  "tgw-dst-az-id",
  "tgw-pair-attachment-id",
  "srcaddr",
  "dstaddr",
  "srcport",
  "dstport",
  "protocol",
  "packets",
  "bytes",
  "start",
  "end",
  "log-status",
  "type",
  "packets-lost-no-route",
  "packets-lost-blackhole",
  "packets-lost-mtu-exceeded",
  "packets-lost-ttl-expired",
  "tcp-flags",
  "region",
  "flow-direction",
  "pkt-src-aws-service",
  "pkt-dst-aws-service",
]
  .map((f) => `\${${f}}`)
  .join(" ");

const RESOURCE_TYPES = [
  "VPC",
  "Subnet",
  "NetworkInterface",
  "TransitGateway",
  "TransitGatewayAttachment",
] as const;
const TRAFFIC_TYPES = ["ACCEPT", "REJECT", "ALL"] as const;
const DESTINATION_TYPES = ["cloud-watch-logs", "s3", "file"] as const;
/** AWS's quota on flow logs per resource. */
export const FLOW_LOGS_PER_RESOURCE = 25;

/** The fields of a LogFormat, in order; AWS's InvalidParameter for anything else. */
export function parseLogFormat(format: string): string[] {
  const tokens = format.trim().split(/\s+/);
  const fields = tokens.map((t) => /^\$\{([a-z0-9-]+)\}$/.exec(t)?.[1]);
  const bad = tokens.filter((_t, i) => !fields[i] || FLOW_LOG_FIELDS[fields[i]!] === undefined);
  if (bad.length) throw new AwsError("InvalidParameter", `Unknown fields provided: ${bad.join(", ")}.`);
  return fields as string[];
}

export interface CreateFlowLogsInput {
  resourceIds?: string[];
  resourceType?: string;
  trafficType?: string;
  logDestinationType?: string;
  logDestination?: string;
  logGroupName?: string;
  deliverLogsPermissionArn?: string;
  logFormat?: string;
  maxAggregationInterval?: number;
  clientToken?: string;
  tags?: Tags;
}

export interface Unsuccessful {
  resourceId: string;
  code: string;
  message: string;
}

export function createFlowLogs(
  tx: Tx,
  ctx: Ctx,
  input: CreateFlowLogsInput,
): { flowLogs: FlowLog[]; unsuccessful: Unsuccessful[] } {
  const resourceType = oneOf(required(input.resourceType, "ResourceType"), RESOURCE_TYPES, "ResourceType");
  const ids = input.resourceIds ?? [];
  if (ids.length === 0)
    throw new AwsError("MissingParameter", "The request must contain the parameter ResourceIds");
  const isTgw = resourceType.startsWith("TransitGateway");
  if (isTgw) tgwLimits(input, ids.length);
  const trafficType = isTgw
    ? "ALL"
    : oneOf(required(input.trafficType, "TrafficType"), TRAFFIC_TYPES, "TrafficType");
  const destinationType = oneOf(
    input.logDestinationType ?? "cloud-watch-logs",
    DESTINATION_TYPES,
    "LogDestinationType",
  );
  const destination = destinationOf(ctx, destinationType, input);
  const interval = isTgw ? 60 : (input.maxAggregationInterval ?? 600);
  if (interval !== 60 && interval !== 600)
    throw new AwsError(
      "InvalidParameterValue",
      `Invalid value for MaxAggregationInterval: ${interval}. Valid values are 60 and 600.`,
    );
  const logFormat = input.logFormat?.trim()
    ? input.logFormat.trim()
    : isTgw
      ? TGW_DEFAULT_LOG_FORMAT
      : DEFAULT_LOG_FORMAT;
  parseLogFormat(logFormat);
  const flowLogs: FlowLog[] = [];
  const unsuccessful: Unsuccessful[] = [];
  for (const resourceId of ids) {
    const problem =
      resourceProblem(tx, ctx, resourceType, resourceId) ?? bucketProblem(tx, destinationType, destination);
    const existing = [...tx.all("flowLog")].filter((f) => f.resourceId === resourceId);
    const same = existing.find(
      (f) =>
        f.trafficType === trafficType &&
        f.logDestinationType === destinationType &&
        f.logDestination === destination.logDestination,
    );
    if (problem) unsuccessful.push({ resourceId, ...problem });
    else if (same)
      unsuccessful.push({
        resourceId,
        code: "FlowLogAlreadyExists",
        message: "There is an existing Flow Log with the same configuration and log destination.",
      });
    else if (existing.length >= FLOW_LOGS_PER_RESOURCE)
      unsuccessful.push({
        resourceId,
        code: "FlowLogsLimitExceeded",
        message: `The maximum number of flow logs (${FLOW_LOGS_PER_RESOURCE}) for ${resourceId} has been reached.`,
      });
    else {
      const fl: FlowLog = {
        id: newId(ctx.rt, "fl"),
        accountId: ctx.accountId,
        region: ctx.region,
        tags: input.tags ?? {},
        resourceId,
        resourceType,
        trafficType,
        logDestinationType: destinationType,
        ...destination,
        deliverLogsPermissionArn: input.deliverLogsPermissionArn,
        logFormat,
        maxAggregationInterval: interval,
        deliverLogsStatus: "SUCCESS",
        createdAt: isoNow(ctx),
        clientToken: input.clientToken,
      };
      tx.put("flowLog", fl);
      flowLogs.push(fl);
    }
  }
  return { flowLogs, unsuccessful };
}

export function deleteFlowLogs(tx: Tx, ctx: Ctx, ids: string[] | undefined): Unsuccessful[] {
  if (!ids?.length)
    throw new AwsError("MissingParameter", "The request must contain the parameter FlowLogIds");
  const out: Unsuccessful[] = [];
  for (const id of ids) {
    const fl = tx.get("flowLog", id);
    if (!fl || fl.accountId !== ctx.accountId || fl.region !== ctx.region)
      out.push({
        resourceId: id,
        code: "InvalidFlowLogId.NotFound",
        message: `Flow Log '${id}' does not exist`,
      });
    else tx.delete("flowLog", id);
  }
  return out;
}

/** Marks delivery failed (or recovered), with the reason DescribeFlowLogs shows. */
export function setDeliveryStatus(tx: Tx, id: string, error: string | undefined): void {
  const fl = tx.get("flowLog", id);
  if (!fl) return;
  const status = error ? "FAILED" : "SUCCESS";
  if (fl.deliverLogsStatus === status && fl.deliverLogsErrorMessage === error) return;
  tx.put("flowLog", { ...fl, deliverLogsStatus: status, deliverLogsErrorMessage: error });
}

/** Does this flow log watch this interface? */
export function watches(fl: FlowLog, eni: Eni): boolean {
  switch (fl.resourceType) {
    case "VPC":
      return eni.vpcId === fl.resourceId;
    case "Subnet":
      return eni.subnetId === fl.resourceId;
    case "NetworkInterface":
      return eni.id === fl.resourceId;
    default:
      return false;
  }
}

export function keeps(fl: FlowLog, action: "ACCEPT" | "REJECT"): boolean {
  return fl.trafficType === "ALL" || fl.trafficType === action;
}

/** One aggregated flow on one interface in one capture window, as the data plane saw it. */
export interface FlowRecord {
  readonly accountId: string;
  readonly interfaceId: string;
  readonly srcaddr: string;
  readonly dstaddr: string;
  readonly srcport: number;
  readonly dstport: number;
  readonly protocol: number;
  readonly packets: number;
  readonly bytes: number;
  /** Unix seconds. */
  readonly start: number;
  readonly end: number;
  readonly action: "ACCEPT" | "REJECT";
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly instanceId?: string;
  readonly tcpFlags: number;
  readonly region: string;
  readonly azId?: string;
  readonly direction: "ingress" | "egress";
  /** Egress only: 1 same VPC, 2 internet or gateway endpoint, … (AWS's codes). */
  readonly trafficPath?: number;
  /** A transit gateway flow log's record: the TGW, the attachment logged and both ends. */
  readonly tgw?: TgwRecordFields;
}

/** Where a packet entered and left a transit gateway, as its flow log shows it. */
export interface TgwRecordFields {
  readonly tgwId: string;
  readonly attachmentId: string;
  readonly pairAttachmentId?: string;
  readonly src: TgwEnd;
  readonly dst: TgwEnd;
  /** Why the TGW dropped the flow's packet, when it did. */
  readonly lost?: "no-route" | "blackhole";
}

export interface TgwEnd {
  readonly accountId?: string;
  /** The attachment's interface in the subnet the packet used. */
  readonly eniId?: string;
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly azId?: string;
}

/** One field of a record as a flow-log line prints it; undefined prints as `-`. */
type FieldReader = (r: FlowRecord) => string | number | undefined;

/** The fields every flow-log version has, by name; the rest are a transit gateway's. */
const FIELD_READERS: Readonly<Record<string, FieldReader>> = {
  "account-id": (r) => r.accountId,
  "interface-id": (r) => r.interfaceId,
  srcaddr: (r) => r.srcaddr,
  "pkt-srcaddr": (r) => r.srcaddr,
  dstaddr: (r) => r.dstaddr,
  "pkt-dstaddr": (r) => r.dstaddr,
  srcport: (r) => r.srcport,
  dstport: (r) => r.dstport,
  protocol: (r) => r.protocol,
  packets: (r) => r.packets,
  bytes: (r) => r.bytes,
  start: (r) => r.start,
  end: (r) => r.end,
  action: (r) => r.action,
  "log-status": () => "OK",
  "vpc-id": (r) => r.vpcId,
  "subnet-id": (r) => r.subnetId,
  "instance-id": (r) => r.instanceId,
  "tcp-flags": (r) => r.tcpFlags,
  type: () => "IPv4",
  region: (r) => r.region,
  "az-id": (r) => r.azId,
  "flow-direction": (r) => r.direction,
  "traffic-path": (r) => (r.direction === "egress" && !r.tgw ? r.trafficPath : undefined),
};

/** A line renderer compiled from one format. */
type Renderer = (r: FlowRecord) => string;

/** The default (version 2) format's fields, in order: most flow logs use it. */
const DEFAULT_FIELDS = parseLogFormat(DEFAULT_LOG_FORMAT).join(" ");

/**
 * The default format as one template: every one of its fields is always set, and a template
 * builds the line in one go.
 */
const renderDefault: Renderer = (r) =>
  `2 ${r.accountId} ${r.interfaceId} ${r.srcaddr} ${r.dstaddr} ${r.srcport} ${r.dstport} ${r.protocol} ${r.packets} ${r.bytes} ${r.start} ${r.end} ${r.action} OK`;

/** The values of the line being rendered, reused: rendering never nests. */
const lineValues: (string | number)[] = [];

/**
 * Each parsed format's renderer, worked out once per format: the default format's template, or
 * one reader per field (its version, that of its newest field, folded in) and a join.
 */
const formatRenderers = new WeakMap<readonly string[], Renderer>();

function rendererOf(fields: readonly string[]): Renderer {
  let render = formatRenderers.get(fields);
  if (render) return render;
  if (fields.join(" ") === DEFAULT_FIELDS) render = renderDefault;
  else {
    const version = Math.max(...fields.map((f) => FLOW_LOG_FIELDS[f] ?? 2));
    const readers = fields.map(
      (f): FieldReader =>
        f === "version"
          ? () => version
          : Object.hasOwn(FIELD_READERS, f)
            ? FIELD_READERS[f]!
            : (r) => (r.tgw ? tgwValue(f, r.tgw) : undefined),
    );
    render = (r) => {
      lineValues.length = readers.length;
      for (let i = 0; i < readers.length; i++) lineValues[i] = readers[i]!(r) ?? "-";
      return lineValues.join(" ");
    };
  }
  formatRenderers.set(fields, render);
  return render;
}

/**
 * The record as one line in `format` (fields AWS cannot fill print as `-`). Called for every
 * closed flow on every flow log watching it (twice per interface: both directions), so it
 * allocates nothing but the line: a name switch per field and an array per line made it the
 * largest part of a metered connection's cost (issue 12).
 */
export function renderRecord(fields: readonly string[], r: FlowRecord): string {
  return rendererOf(fields)(r);
}

/** The header line S3 objects start with: the field names. */
export function headerLine(fields: readonly string[]): string {
  return fields.join(" ");
}

/**
 * AWS's limits for transit gateway resource types: no TrafficType, a 60-second interval only,
 * at most 25 resources per call. The codes are privlink's choice: AWS documents only "an error".
 */
function tgwLimits(input: CreateFlowLogsInput, count: number): void {
  if (input.trafficType !== undefined)
    throw new AwsError(
      "InvalidParameter",
      "TrafficType is not supported for transit gateway resource types: transit gateway flow logs capture all traffic.",
    );
  if (input.maxAggregationInterval !== undefined && input.maxAggregationInterval !== 60)
    throw new AwsError(
      "InvalidParameterValue",
      `Invalid value for MaxAggregationInterval: ${input.maxAggregationInterval}. The only valid value for transit gateway resource types is 60.`,
    );
  if (count > 25)
    throw new AwsError(
      "InvalidParameter",
      `ResourceIds has ${count} transit gateway resources; the maximum is 25.`,
    );
}

function required(v: string | undefined, name: string): string {
  if (!v) throw new AwsError("MissingParameter", `The request must contain the parameter ${name}`);
  return v;
}

function oneOf<T extends string>(v: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(v))
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${v}) for parameter ${name} is invalid. Valid values are: ${allowed.join(", ")}`,
    );
  return v as T;
}

/** Where the records go, checked against the destination type's rules. */
function destinationOf(
  ctx: Ctx,
  type: (typeof DESTINATION_TYPES)[number],
  input: CreateFlowLogsInput,
): { logDestination: string; logGroupName?: string } {
  switch (type) {
    case "cloud-watch-logs": {
      if (!input.deliverLogsPermissionArn)
        throw new AwsError(
          "InvalidParameter",
          "DeliverLogsPermissionArn is required when the log destination type is cloud-watch-logs.",
        );
      if (input.logGroupName && input.logDestination)
        throw new AwsError(
          "InvalidParameterCombination",
          "Specify either LogGroupName or LogDestination, not both.",
        );
      const group =
        input.logGroupName ??
        /^arn:aws:logs:[^:]+:\d{12}:log-group:([^:]+)(:\*)?$/.exec(input.logDestination ?? "")?.[1];
      if (!group)
        throw new AwsError(
          "InvalidParameter",
          input.logDestination
            ? `LogDestination: ${input.logDestination} is not a valid log group ARN.`
            : "LogGroupName or LogDestination is required when the log destination type is cloud-watch-logs.",
        );
      return {
        logGroupName: group,
        logDestination:
          input.logDestination ?? `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${group}`,
      };
    }
    case "s3": {
      if (input.deliverLogsPermissionArn)
        throw new AwsError(
          "InvalidParameter",
          "DeliverLogsPermissionArn is not applicable when the log destination type is s3.",
        );
      if (
        !input.logDestination ||
        !/^arn:aws:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(input.logDestination)
      )
        throw new AwsError(
          "InvalidParameter",
          `LogDestination: ${input.logDestination ?? "(none)"} is not a valid S3 bucket ARN.`,
        );
      return { logDestination: input.logDestination };
    }
    case "file": {
      const name = input.logDestination ?? "flow-logs.log";
      if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) || name.split("/").includes(".."))
        throw new AwsError(
          "InvalidParameter",
          `LogDestination: '${name}' must be a relative file name under PRIVLINK_HOME/flow-logs (letters, digits, . _ - and /).`,
        );
      return { logDestination: name };
    }
  }
}

/** An S3 destination's bucket must exist when the flow log is created (AWS: per resource, code "400"). */
function bucketProblem(
  tx: Tx,
  type: (typeof DESTINATION_TYPES)[number],
  destination: { logDestination: string },
): { code: string; message: string } | undefined {
  if (type !== "s3") return undefined;
  const bucket = destination.logDestination.slice("arn:aws:s3:::".length).split("/")[0]!;
  return tx.get("s3Bucket", bucket)
    ? undefined
    : { code: "400", message: `LogDestination: ${bucket} does not exist.` };
}

/** Why a resource cannot carry a flow log, as CreateFlowLogs reports it per resource. */
function resourceProblem(
  tx: Tx,
  ctx: Ctx,
  type: FlowLog["resourceType"],
  id: string,
): { code: string; message: string } | undefined {
  const owned = (o: { accountId: string; region: string } | undefined) =>
    !!o && o.accountId === ctx.accountId && o.region === ctx.region;
  switch (type) {
    case "VPC":
      return owned(tx.get("vpc", id))
        ? undefined
        : { code: "InvalidVpcID.NotFound", message: `The vpc ID '${id}' does not exist` };
    case "Subnet":
      return owned(tx.get("subnet", id))
        ? undefined
        : { code: "InvalidSubnetID.NotFound", message: `The subnet ID '${id}' does not exist` };
    case "NetworkInterface":
      return owned(tx.get("eni", id))
        ? undefined
        : {
            code: "InvalidNetworkInterfaceID.NotFound",
            message: `The networkInterface ID '${id}' does not exist`,
          };
    case "TransitGateway":
      return owned(tx.get("transitGateway", id))
        ? undefined
        : {
            code: "InvalidTransitGatewayID.NotFound",
            message: `Transit Gateway ${id} was deleted or does not exist.`,
          };
    case "TransitGatewayAttachment": {
      const a = tx.get("transitGatewayAttachment", id);
      // The TGW's owner logs its attachments, whoever owns the attached VPC.
      return a && a.transitGatewayOwnerId === ctx.accountId && a.region === ctx.region
        ? undefined
        : {
            code: "InvalidTransitGatewayAttachmentID.NotFound",
            message: `Transit Gateway Attachment ${id} was deleted or does not exist.`,
          };
    }
  }
}

/** `tgw-src-…`/`tgw-dst-…` fields: the same five facts of either end of the flow. */
const TGW_END_FIELDS: Readonly<Record<string, keyof TgwEnd>> = {
  "vpc-account-id": "accountId",
  "vpc-id": "vpcId",
  "subnet-id": "subnetId",
  eni: "eniId",
  "az-id": "azId",
};

/** A transit-gateway-only field of a TGW record. */
function tgwValue(f: string, t: TgwRecordFields): string | number | undefined {
  switch (f) {
    case "resource-type":
      return "TransitGateway";
    case "tgw-id":
      return t.tgwId;
    case "tgw-attachment-id":
      return t.attachmentId;
    case "tgw-pair-attachment-id":
      return t.pairAttachmentId;
    // A refused flow is one dropped SYN; the data plane relays streams, so nothing admitted is
    // lost to MTU or TTL.
    case "packets-lost-no-route":
      return t.lost === "no-route" ? 1 : 0;
    case "packets-lost-blackhole":
      return t.lost === "blackhole" ? 1 : 0;
    case "packets-lost-mtu-exceeded":
    case "packets-lost-ttl-expired":
      return 0;
    default: {
      const end = /^tgw-(src|dst)-(.+)$/.exec(f);
      const key = end && Object.hasOwn(TGW_END_FIELDS, end[2]!) ? TGW_END_FIELDS[end[2]!] : undefined;
      return key ? t[end![1] as "src" | "dst"][key] : undefined;
    }
  }
}
