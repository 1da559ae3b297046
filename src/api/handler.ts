import type { Ctx } from "../cloud/context.js";
import { AwsError } from "../cloud/errors.js";
import {
  compileFilters,
  type Filter,
  type FilterFields,
  type InvalidFilterCode,
  type Page,
  type PageLimits,
  paginate,
} from "../cloud/query.js";
import type { Tx } from "../cloud/state.js";
import { type TagSpec, tagsFromSpecs } from "../cloud/tags.js";
import type { Kind, Kinds, Tags } from "../cloud/types.js";

/** What a handler gets: a transaction, who/where, and the decoded SDK-shaped input. */
export interface Call<I = any> {
  readonly tx: Tx;
  readonly ctx: Ctx;
  readonly input: I;
}

/** Handlers decode nothing and encode nothing: SDK-shaped input in, SDK-shaped output out. */
export type Handler = (call: Call) => unknown;

export type HandlerTable = Record<string, Handler>;

const STATE_READS = new WeakSet<Handler>();

/**
 * Marks a read whose answer is a function of the committed state, the caller (account,
 * principal, region) and the input alone: never the runtime (data plane, health) and never the
 * clock, unless it says when through `ctx.answerHolds`. The edge may then answer the same
 * request again from the bytes it prepared, until the next commit (api/prepared.ts).
 */
export function stateRead(handler: Handler): Handler {
  STATE_READS.add(handler);
  return handler;
}

export function isStateRead(handler: Handler): boolean {
  return STATE_READS.has(handler);
}

/** The client schemas carry no `required` trait, so handlers check their required members. */
export function need<T>(value: T | undefined | null, wireName: string): T {
  if (
    value === undefined ||
    value === null ||
    (typeof value === "string" && value === "") ||
    (Array.isArray(value) && value.length === 0)
  )
    throw new AwsError("MissingParameter", `The request must contain the parameter ${wireName}`);
  return value;
}

export function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  wireName: string,
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new AwsError(
      "InvalidParameterValue",
      `Value (${value}) for parameter ${wireName} is invalid. Valid values are: ${allowed.join(", ")}`,
    );
  return value as T;
}

export function filtersOf(input: { Filters?: { Name?: string; Values?: string[] }[] }): Filter[] {
  return (input.Filters ?? []).map((f) => ({ name: f.Name ?? "", values: f.Values ?? [] }));
}

/**
 * The input's filters but the first one named `pinned` (the one pinnedBy read, whose index
 * bucket the items came from: all hold its value); a second filter of that name still runs.
 */
export function filtersBut(input: Parameters<typeof filtersOf>[0], pinned: string | undefined): Filter[] {
  const filters = filtersOf(input);
  const at = pinned === undefined ? -1 : filters.findIndex((f) => f.name === pinned);
  if (at >= 0) filters.splice(at, 1);
  return filters;
}

export function tagList(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function specTags(
  specs: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined,
  resourceType: string,
): Tags {
  const mapped: TagSpec[] | undefined = specs?.map((s) => ({
    resourceType: s.ResourceType,
    tags: (s.Tags ?? []).map((t) => ({ key: t.Key, value: t.Value })),
  }));
  return tagsFromSpecs(mapped, resourceType);
}

/** Describe* with explicit IDs: every ID must exist, or the action fails naming the missing one. */
export function pickByIds<T extends { id: string }>(
  items: readonly T[],
  ids: readonly string[] | undefined,
  notFound: (id: string) => AwsError,
): readonly T[] {
  if (!ids || ids.length === 0) return items;
  const byId = new Map(items.map((i) => [i.id, i]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) throw notFound(missing.join(", "));
  return [...new Set(ids)].map((id) => byId.get(id)!);
}

/**
 * The shape of every Describe*: explicit IDs (all must exist), then filters, then a page.
 * Returns the page's items and token; the caller shapes and names them.
 */
export function describe<T extends { id: string; tags?: Tags }>(
  items: readonly T[],
  input: { Filters?: { Name?: string; Values?: string[] }[]; MaxResults?: number; NextToken?: string },
  opts: {
    ids?: readonly string[];
    notFound: (id: string) => AwsError;
    fields: FilterFields<T>;
    limits?: PageLimits;
    /** What an unknown filter name is answered with (the VPC endpoint family: InvalidFilter). */
    invalidFilter?: InvalidFilterCode;
    /**
     * The filter whose index bucket the items were read from (`pinnedFilter`): every item holds
     * its one value already, so it is not tested again. Its reader must read the indexed field.
     */
    pinned?: string;
  },
): Page<T> {
  const picked = pickByIds(items, opts.ids, opts.notFound);
  const filters = filtersBut(input, opts.pinned);
  const match = compileFilters(filters, opts.fields, (t) => t.tags ?? {}, opts.invalidFilter);
  return paginate(picked.filter(match), input.MaxResults, input.NextToken, opts.limits);
}

type DescribeInput = { Filters?: { Name?: string; Values?: string[] }[] };

/**
 * The one value a Describe's `filter` pins exactly (one value, no wildcard, no explicit IDs),
 * or undefined: then the index bucket of that value holds every candidate, in table order.
 */
export function pinnedBy(input: DescribeInput, filter: string, ids?: readonly string[]): string | undefined {
  if (ids?.length) return undefined;
  const f = input.Filters?.find((x) => x.Name === filter);
  const v = f?.Values;
  return v?.length === 1 && !/[*?\\]/.test(v[0]!) ? v[0] : undefined;
}

/** What a Describe reads: the objects to consider, and the filter whose index bucket they are. */
export interface Candidates<T> {
  readonly items: Iterable<T>;
  /** The filter every item holds the one value of (`describe`'s `pinned`), or undefined: a scan. */
  readonly pinned?: string;
}

/**
 * Every object of `kind` a Describe must consider: an index bucket when one of `indexed`
 * (filter name → indexed field) pins a value, else the bucket of a `tag:KEY` filter's one value
 * when the kind's tags are indexed, else the whole table. The other filters still run over the
 * items (`describe` skips the pinned one), so the answer is the one a scan gives, in its order.
 */
export function candidates<K extends Kind>(
  tx: Tx,
  kind: K,
  input: DescribeInput,
  indexed: Record<string, string>,
  ids?: readonly string[],
): Candidates<Kinds[K]> {
  if (ids?.length || !input.Filters?.length) return { items: tx.all(kind) };
  for (const filter in indexed) {
    const value = pinnedBy(input, filter);
    if (value !== undefined) return { items: tx.where(kind, indexed[filter]!, value), pinned: filter };
  }
  if (tx.state.tagIndexed(kind))
    for (const f of input.Filters) {
      const value = f.Name?.startsWith("tag:") ? pinnedBy(input, f.Name) : undefined;
      if (value !== undefined) return { items: tx.tagged(kind, f.Name!.slice(4), value), pinned: f.Name };
    }
  return { items: tx.all(kind) };
}
