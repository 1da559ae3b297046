/**
 * The CloudWatch Logs actions (awsJson1_1, Logs_20140328): groups and streams in the State,
 * events in the {@link LogEvents} store. What needs the State (lookup, authorization, the write)
 * runs in the call's transaction; the events are read or written after it (the store may be
 * PostgreSQL, which answers later), so those handlers answer a promise. Every action resolves the log group it names (by name in
 * the caller's account, or by ARN in another account) and authorizes against the endpoint
 * policy and the owner's resource policies before touching it, so a cross-account writer needs
 * the logging account's resource policy to allow it, as on AWS.
 */
import type { Call, HandlerTable } from "../../api/handler.js";
import type { Ctx } from "../../cloud/context.js";
import { AwsError } from "../../cloud/errors.js";
import type { Tx } from "../../cloud/state.js";
import type { LogGroup, LogStream, LogsResourcePolicy, Tags } from "../../cloud/types.js";
import { authorize } from "../../front/authorize.js";
import { HANDLER_AUTHORIZED } from "../../front/front.js";
import { parsePolicy } from "../../iam/index.js";
import type { LogEvents, Position, StoredEvent, StreamStats } from "./event-store.js";
import { compileFilterPattern } from "./filter-pattern.js";
import {
  admitBatch,
  checkGroupName,
  checkLimit,
  checkRetention,
  checkStreamName,
  eventId,
  GROUP_NOT_FOUND,
  type GroupRef,
  groupArn,
  iamResource,
  invalidParameter,
  notFound,
  opaqueToken,
  parseGroupRef,
  parseOpaqueToken,
  parseStreamToken,
  STREAM_NOT_FOUND,
  streamToken,
} from "./rules.js";

const MAX_RESPONSE_BYTES = 1_048_576;
const MAX_RESOURCE_POLICIES = 10;
const FILTER_SCAN_LIMIT = 100_000;
const LOG_GROUP_CLASSES = ["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];

// ---- lookup and authorization -------------------------------------------------------------

/** The owner's resource policies that apply to a group, merged into one document. */
export function ownerPolicy(tx: Tx, ref: GroupRef): string | undefined {
  const arn = groupArn(ref.region, ref.accountId, ref.name);
  const statements: unknown[] = [];
  for (const p of tx.all("logsResourcePolicy")) {
    if (p.accountId !== ref.accountId || p.region !== ref.region) continue;
    if (p.resourceArn !== undefined && p.resourceArn.replace(/:\*$/, "") !== arn) continue;
    const doc = JSON.parse(p.document) as { Statement?: unknown };
    statements.push(...(Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]));
  }
  return statements.length === 0
    ? undefined
    : JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

function authorizeOn(tx: Tx, ctx: Ctx, ref: GroupRef, stream?: string): void {
  authorize(ctx, {
    action: `logs:${ctx.action ?? "Unknown"}`,
    resource: iamResource(ref, stream),
    resourceAccount: ref.accountId,
    resourcePolicy: ownerPolicy(tx, ref),
  });
}

export function findGroup(tx: Tx, ref: GroupRef): LogGroup | undefined {
  return tx.get("logGroup", groupArn(ref.region, ref.accountId, ref.name));
}

function refOf(call: Call): GroupRef {
  const { input, ctx } = call;
  const value = input.logGroupIdentifier ?? input.logGroupName;
  const member = input.logGroupIdentifier !== undefined ? "logGroupIdentifier" : "logGroupName";
  return parseGroupRef(value, ctx, member);
}

/** Authorizes, then resolves: a caller the policies deny never learns whether the group exists. */
function groupFor(call: Call, stream?: string): { ref: GroupRef; group: LogGroup } {
  const ref = refOf(call);
  authorizeOn(call.tx, call.ctx, ref, stream);
  const group = findGroup(call.tx, ref);
  if (!group) throw notFound(GROUP_NOT_FOUND);
  return { ref, group };
}

export function streamId(group: LogGroup, name: string): string {
  return `${group.id}:log-stream:${name}`;
}

function streamFor(call: Call): { ref: GroupRef; group: LogGroup; stream: LogStream } {
  const name = checkStreamName(call.input.logStreamName);
  const { ref, group } = groupFor(call, name);
  const stream = call.tx.get("logStream", streamId(group, name));
  if (!stream) throw notFound(STREAM_NOT_FOUND);
  return { ref, group, stream };
}

function streamsOf(tx: Tx, group: LogGroup): LogStream[] {
  return [...tx.all("logStream")].filter((s) => s.groupId === group.id);
}

// ---- shapes -------------------------------------------------------------------------------

/** The counters of many streams in one read, by stream key. */
async function statsByKey(store: LogEvents, keys: readonly string[]): Promise<Map<string, StreamStats>> {
  const stats = await store.stats(keys);
  return new Map(keys.map((k, i) => [k, stats[i]!]));
}

function groupShape(g: LogGroup, storedBytes: number) {
  return {
    logGroupName: g.name,
    creationTime: g.createdAt,
    retentionInDays: g.retentionInDays,
    metricFilterCount: 0,
    arn: `${g.id}:*`,
    storedBytes,
    kmsKeyId: g.kmsKeyId,
    logGroupClass: g.logGroupClass,
    logGroupArn: g.id,
  };
}

function streamShape(s: LogStream, stats: StreamStats) {
  return {
    logStreamName: s.name,
    creationTime: s.createdAt,
    firstEventTimestamp: stats.firstEventTimestamp,
    lastEventTimestamp: stats.lastEventTimestamp,
    lastIngestionTime: stats.lastIngestionTime,
    uploadSequenceToken: "0",
    arn: s.id,
    storedBytes: stats.storedBytes,
  };
}

function tagsOf(map: Record<string, string> | undefined): Tags {
  const tags: Tags = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    if (k.length === 0 || k.length > 128 || k.startsWith("aws:"))
      throw invalidParameter(`Invalid tag key: ${k}`);
    if (String(v).length > 256) throw invalidParameter(`Invalid tag value for key ${k}`);
    tags[k] = String(v);
  }
  return tags;
}

/** A page of a sorted list after `token`: the name-keyed pagination of the Describe actions. */
function pageByName<T>(
  items: T[],
  key: (t: T) => string,
  kind: string,
  token: string | undefined,
  limit: number,
): { page: T[]; nextToken?: string } {
  const after = token === undefined ? undefined : parseOpaqueToken(kind, token);
  const start = after === undefined ? 0 : items.findIndex((t) => key(t) > after);
  const rest = start < 0 ? [] : items.slice(start);
  const page = rest.slice(0, limit);
  return {
    page,
    nextToken: rest.length > limit ? opaqueToken(kind, key(page[page.length - 1]!)) : undefined,
  };
}

// ---- handlers -----------------------------------------------------------------------------

// Every handler authorizes with its resource's ARN (and policy): the front passes endpoint requests on.
HANDLER_AUTHORIZED.add("logs");

export function logsHandlers(store: LogEvents): HandlerTable {
  const createLogGroup = (call: Call) => {
    const { tx, ctx, input } = call;
    const name = checkGroupName(input.logGroupName);
    const ref = { accountId: ctx.accountId, region: ctx.region, name };
    authorizeOn(tx, ctx, ref);
    if (findGroup(tx, ref))
      throw new AwsError("ResourceAlreadyExistsException", "The specified log group already exists");
    const cls = input.logGroupClass ?? "STANDARD";
    if (!LOG_GROUP_CLASSES.includes(cls))
      throw invalidParameter(
        `1 validation error detected: Value '${cls}' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [${LOG_GROUP_CLASSES.join(", ")}]`,
      );
    tx.put("logGroup", {
      id: groupArn(ctx.region, ctx.accountId, name),
      accountId: ctx.accountId,
      region: ctx.region,
      tags: tagsOf(input.tags),
      name,
      kmsKeyId: input.kmsKeyId,
      logGroupClass: cls,
      key: ctx.rt.hex(16),
      createdAt: ctx.rt.now().getTime(),
    });
    return {};
  };

  const deleteLogGroup = (call: Call) => {
    const { group } = groupFor(call);
    const streams = streamsOf(call.tx, group);
    for (const s of streams) call.tx.delete("logStream", s.id);
    call.tx.delete("logGroup", group.id);
    return store
      .deleteGroup(
        group.key,
        streams.map((s) => s.key),
      )
      .then(() => ({}));
  };

  const createLogStream = (call: Call) => {
    const name = checkStreamName(call.input.logStreamName);
    const { group } = groupFor(call, name);
    const id = streamId(group, name);
    if (call.tx.get("logStream", id))
      throw new AwsError("ResourceAlreadyExistsException", "The specified log stream already exists");
    call.tx.put("logStream", newStream(call.ctx, group, name));
    return {};
  };

  const deleteLogStream = (call: Call) => {
    const { stream } = streamFor(call);
    call.tx.delete("logStream", stream.id);
    return store.deleteStream(stream.key).then(() => ({}));
  };

  const putRetentionPolicy = (call: Call) => {
    const days = checkRetention(call.input.retentionInDays);
    const { group } = groupFor(call);
    call.tx.put("logGroup", { ...group, retentionInDays: days });
    return {};
  };

  const deleteRetentionPolicy = (call: Call) => {
    const { group } = groupFor(call);
    const { retentionInDays: _r, ...rest } = group;
    call.tx.put("logGroup", rest);
    return {};
  };

  const associateKmsKey = (call: Call) => {
    const key = call.input.kmsKeyId;
    if (typeof key !== "string" || !key.startsWith("arn:"))
      throw invalidParameter("Specified KMS key is not a valid KMS key ARN.");
    const { group } = groupFor(call);
    call.tx.put("logGroup", { ...group, kmsKeyId: key });
    return {};
  };

  const disassociateKmsKey = (call: Call) => {
    const { group } = groupFor(call);
    const { kmsKeyId: _k, ...rest } = group;
    call.tx.put("logGroup", rest);
    return {};
  };

  const putLogEvents = (call: Call) => {
    const { group, stream } = streamFor(call);
    const now = call.ctx.rt.now().getTime();
    const { accepted, rejected } = admitBatch(call.input.logEvents, now, group.retentionInDays);
    return store.append(group.key, stream.key, accepted, now).then((last) => ({
      nextSequenceToken: String(last).padStart(56, "0"),
      rejectedLogEventsInfo: rejected,
    }));
  };

  const getLogEvents = async (call: Call) => {
    const { input } = call;
    const { stream } = streamFor(call);
    const limit = checkLimit(input.limit, 10_000) ?? 10_000;
    const range = { startTime: input.startTime, endTime: input.endTime };
    const token = input.nextToken === undefined ? undefined : parseStreamToken(input.nextToken);
    const rows = await store.page(stream.key, range, {
      after: token?.direction === "f" ? token.position : undefined,
      before: token?.direction === "b" ? token.position : undefined,
      fromHead: input.startFromHead === true,
      limit,
    });
    const events = capBytes(rows, token?.direction === "b" || (!token && input.startFromHead !== true));
    const first = events[0];
    const last = events[events.length - 1];
    const here: Position = token?.position ?? { timestamp: 0, seq: 0 };
    return {
      events: events.map((e) => ({
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
      })),
      nextForwardToken: streamToken("f", last ?? here),
      nextBackwardToken: streamToken("b", first ?? here),
    };
  };

  const filterLogEvents = (call: Call) => {
    const { tx, input } = call;
    const { group } = groupFor(call);
    const limit = checkLimit(input.limit, 10_000) ?? 10_000;
    if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined)
      throw invalidParameter("You cannot specify both logStreamNames and logStreamNamePrefix.");
    const match = compileFilterPattern(input.filterPattern);
    const all = streamsOf(tx, group);
    const wanted = input.logStreamNames
      ? all.filter((s) => (input.logStreamNames as string[]).includes(s.name))
      : input.logStreamNamePrefix !== undefined
        ? all.filter((s) => s.name.startsWith(input.logStreamNamePrefix))
        : undefined;
    const names = new Map(all.map((s) => [s.key, s.name]));
    const range = { startTime: input.startTime, endTime: input.endTime };
    const from: Position | undefined =
      input.nextToken === undefined
        ? undefined
        : parseStreamToken(parseOpaqueToken("filter", input.nextToken)).position;
    return filterScan(
      group.key,
      wanted?.map((s) => s.key),
      names,
      range,
      from,
      limit,
      match,
    );
  };

  /** FilterLogEvents' scan over the store, once the State's part is done. */
  const filterScan = async (
    groupKey: string,
    wanted: string[] | undefined,
    names: Map<string, string>,
    range: { startTime?: number; endTime?: number },
    from: Position | undefined,
    limit: number,
    match: (message: string) => boolean,
  ) => {
    let after = from;
    const found: StoredEvent[] = [];
    let scanned = 0;
    let exhausted = false;
    let bytes = 0;
    while (found.length < limit && scanned < FILTER_SCAN_LIMIT && bytes < MAX_RESPONSE_BYTES) {
      const chunk = await store.scan(groupKey, wanted, range, after, 1000);
      if (chunk.length === 0) {
        exhausted = true;
        break;
      }
      for (const e of chunk) {
        scanned++;
        after = { timestamp: e.timestamp, seq: e.seq };
        if (!names.has(e.stream) || !match(e.message)) continue;
        found.push(e);
        bytes += Buffer.byteLength(e.message) + 26;
        if (found.length >= limit || bytes >= MAX_RESPONSE_BYTES) break;
      }
      if (chunk.length < 1000 && found.length < limit && bytes < MAX_RESPONSE_BYTES) {
        exhausted = true;
        break;
      }
    }
    return {
      events: found.map((e) => ({
        logStreamName: names.get(e.stream),
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
        eventId: eventId(e),
      })),
      nextToken: exhausted || !after ? undefined : opaqueToken("filter", streamToken("f", after)),
      searchedLogStreams: [],
    };
  };

  const describeLogGroups = (call: Call) => {
    const { tx, ctx, input } = call;
    authorize(ctx, {
      action: "logs:DescribeLogGroups",
      resource: `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group::log-stream:`,
    });
    const limit = checkLimit(input.limit, 50) ?? 50;
    if (input.logGroupNamePrefix !== undefined && input.logGroupNamePattern !== undefined)
      throw invalidParameter(
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
      );
    const prefix: string = input.logGroupNamePrefix ?? "";
    const pattern: string | undefined = input.logGroupNamePattern;
    const groups = [...tx.all("logGroup")]
      .filter((g) => g.accountId === ctx.accountId && g.region === ctx.region)
      .filter((g) => g.name.startsWith(prefix))
      .filter((g) => pattern === undefined || g.name.toLowerCase().includes(pattern.toLowerCase()))
      .filter((g) => input.logGroupClass === undefined || g.logGroupClass === input.logGroupClass)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const { page, nextToken } = pageByName(groups, (g) => g.name, "groups", input.nextToken, limit);
    const streams = page.map((g) => streamsOf(tx, g).map((s) => s.key));
    return statsByKey(store, streams.flat()).then((stats) => ({
      logGroups: page.map((g, i) =>
        groupShape(
          g,
          streams[i]!.reduce((n, k) => n + stats.get(k)!.storedBytes, 0),
        ),
      ),
      nextToken,
    }));
  };

  const describeLogStreams = (call: Call) => {
    const { tx, input } = call;
    const { group } = groupFor(call);
    const limit = checkLimit(input.limit, 50) ?? 50;
    const orderBy = input.orderBy ?? "LogStreamName";
    if (orderBy !== "LogStreamName" && orderBy !== "LastEventTime")
      throw invalidParameter(
        `1 validation error detected: Value '${orderBy}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]`,
      );
    const prefix: string | undefined = input.logStreamNamePrefix;
    if (prefix !== undefined && orderBy === "LastEventTime")
      throw invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.");
    const all = streamsOf(tx, group).filter((s) => prefix === undefined || s.name.startsWith(prefix));
    return statsByKey(
      store,
      all.map((s) => s.key),
    ).then((stats) => {
      const sortKey =
        orderBy === "LastEventTime"
          ? (s: LogStream) =>
              `${String(stats.get(s.key)!.lastEventTimestamp ?? 0).padStart(20, "0")}/${s.name}`
          : (s: LogStream) => s.name;
      let streams = all
        .map((s) => ({ s, k: sortKey(s) }))
        .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      if (input.descending === true) streams = streams.reverse();
      const keyed = streams.map((x, i) => ({ ...x, k: `${String(i).padStart(10, "0")}` }));
      const { page, nextToken } = pageByName(keyed, (x) => x.k, "streams", input.nextToken, limit);
      return { logStreams: page.map((x) => streamShape(x.s, stats.get(x.s.key)!)), nextToken };
    });
  };

  const tagLogGroup = (call: Call) => {
    const { group } = groupFor(call);
    call.tx.put("logGroup", { ...group, tags: { ...group.tags, ...tagsOf(call.input.tags) } });
    return {};
  };

  const untagLogGroup = (call: Call) => {
    const { group } = groupFor(call);
    const drop = new Set<string>(call.input.tags ?? call.input.tagKeys ?? []);
    call.tx.put("logGroup", {
      ...group,
      tags: Object.fromEntries(Object.entries(group.tags).filter(([k]) => !drop.has(k))),
    });
    return {};
  };

  const listTagsLogGroup = (call: Call) => ({ tags: groupFor(call).group.tags });

  /** TagResource & co. name the group by ARN in resourceArn. */
  const byArn = (call: Call): Call => ({
    ...call,
    input: { ...call.input, logGroupIdentifier: String(call.input.resourceArn ?? "").replace(/:\*$/, "") },
  });

  const putResourcePolicy = (call: Call) => {
    const { tx, ctx, input } = call;
    authorize(ctx, { action: "logs:PutResourcePolicy", resource: "*" });
    const name = input.policyName;
    if (typeof name !== "string" || name === "") throw invalidParameter("policyName must be specified.");
    const document = input.policyDocument;
    if (typeof document !== "string") throw invalidParameter("policyDocument must be specified.");
    parsePolicy(document, { kind: "resource", maxLength: 51_200, errorCode: "InvalidParameterException" });
    const id = `${ctx.accountId}/${ctx.region}/${name}`;
    const existing = tx.get("logsResourcePolicy", id);
    const count = [...tx.all("logsResourcePolicy")].filter(
      (p) => p.accountId === ctx.accountId && p.region === ctx.region,
    ).length;
    if (!existing && count >= MAX_RESOURCE_POLICIES)
      throw new AwsError("LimitExceededException", "Resource limit exceeded.");
    const policy: LogsResourcePolicy = {
      id,
      accountId: ctx.accountId,
      region: ctx.region,
      tags: {},
      name,
      document,
      ...(input.resourceArn ? { resourceArn: input.resourceArn } : {}),
      updatedAt: ctx.rt.now().getTime(),
    };
    tx.put("logsResourcePolicy", policy);
    return { resourcePolicy: policyShape(policy) };
  };

  const describeResourcePolicies = (call: Call) => {
    const { tx, ctx } = call;
    authorize(ctx, { action: "logs:DescribeResourcePolicies", resource: "*" });
    const policies = [...tx.all("logsResourcePolicy")]
      .filter((p) => p.accountId === ctx.accountId && p.region === ctx.region)
      .filter((p) => call.input.resourceArn === undefined || p.resourceArn === call.input.resourceArn)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    return { resourcePolicies: policies.map(policyShape) };
  };

  const deleteResourcePolicy = (call: Call) => {
    const { tx, ctx, input } = call;
    authorize(ctx, { action: "logs:DeleteResourcePolicy", resource: "*" });
    const id = `${ctx.accountId}/${ctx.region}/${input.policyName ?? ""}`;
    if (!tx.get("logsResourcePolicy", id))
      throw notFound(`Policy with name [${input.policyName}] does not exist`);
    tx.delete("logsResourcePolicy", id);
    return {};
  };

  return {
    CreateLogGroup: createLogGroup,
    DeleteLogGroup: deleteLogGroup,
    CreateLogStream: createLogStream,
    DeleteLogStream: deleteLogStream,
    PutRetentionPolicy: putRetentionPolicy,
    DeleteRetentionPolicy: deleteRetentionPolicy,
    AssociateKmsKey: associateKmsKey,
    DisassociateKmsKey: disassociateKmsKey,
    PutLogEvents: putLogEvents,
    GetLogEvents: getLogEvents,
    FilterLogEvents: filterLogEvents,
    DescribeLogGroups: describeLogGroups,
    DescribeLogStreams: describeLogStreams,
    TagLogGroup: tagLogGroup,
    UntagLogGroup: untagLogGroup,
    ListTagsLogGroup: listTagsLogGroup,
    TagResource: (call) => tagLogGroup(byArn(call)),
    UntagResource: (call) => untagLogGroup(byArn(call)),
    ListTagsForResource: (call) => listTagsLogGroup(byArn(call)),
    PutResourcePolicy: putResourcePolicy,
    DescribeResourcePolicies: describeResourcePolicies,
    DeleteResourcePolicy: deleteResourcePolicy,
  };
}

export function newStream(ctx: Pick<Ctx, "rt">, group: LogGroup, name: string): LogStream {
  return {
    id: streamId(group, name),
    accountId: group.accountId,
    region: group.region,
    tags: {},
    groupId: group.id,
    name,
    key: ctx.rt.hex(16),
    createdAt: ctx.rt.now().getTime(),
  };
}

function policyShape(p: LogsResourcePolicy) {
  return {
    policyName: p.name,
    policyDocument: p.document,
    lastUpdatedTime: p.updatedAt,
    resourceArn: p.resourceArn,
    policyScope: p.resourceArn ? "RESOURCE" : "ACCOUNT",
  };
}

/** At most 1 MB of messages: from the start (forward) or from the end (backward, newest kept). */
function capBytes(events: StoredEvent[], keepNewest: boolean): StoredEvent[] {
  let bytes = 0;
  const ordered = keepNewest ? [...events].reverse() : events;
  const kept: StoredEvent[] = [];
  for (const e of ordered) {
    bytes += Buffer.byteLength(e.message) + 26;
    if (bytes > MAX_RESPONSE_BYTES && kept.length > 0) break;
    kept.push(e);
  }
  return keepNewest ? kept.reverse() : kept;
}
