import { createRequire } from "node:module";
import type { NormalizedSchema } from "@smithy/core/schema";
import { AwsError } from "../../cloud/errors.js";
import { isPlainJsonService } from "./plain-json.js";
import { smithySchema } from "./sdk-serde.js";

/**
 * The AWS services privlink speaks, by SigV4 scope name, and a compiled view of the SDK's own
 * operation schemas. Codecs walk these compiled shapes instead of re-normalising the SDK schema
 * on every request: a shape is built once, members lazily (schemas are recursive).
 */

export type WireService =
  | "ec2"
  | "sts"
  | "elasticloadbalancing"
  | "route53"
  | "secretsmanager"
  | "logs"
  | "monitoring"
  | "ssm"
  | "sns";
export type WireProtocol = "ec2" | "awsQuery" | "restXml" | "awsJson1_1" | "awsJson1_0" | "rpcv2Cbor";

interface ServiceInfo {
  readonly pkg: string;
  readonly protocol: WireProtocol;
  readonly version: string;
  /** XML namespace of responses (XML protocols only). */
  readonly xmlNamespace?: string;
  /** First half of X-Amz-Target (JSON protocols only). */
  readonly jsonTarget?: string;
}

const SERVICES: Readonly<Record<WireService, ServiceInfo>> = {
  ec2: {
    pkg: "@aws-sdk/client-ec2",
    protocol: "ec2",
    version: "2016-11-15",
    xmlNamespace: "http://ec2.amazonaws.com/doc/2016-11-15/",
  },
  sts: {
    pkg: "@aws-sdk/client-sts",
    protocol: "awsQuery",
    version: "2011-06-15",
    xmlNamespace: "https://sts.amazonaws.com/doc/2011-06-15/",
  },
  elasticloadbalancing: {
    pkg: "@aws-sdk/client-elastic-load-balancing-v2",
    protocol: "awsQuery",
    version: "2015-12-01",
    xmlNamespace: "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
  },
  route53: {
    pkg: "@aws-sdk/client-route-53",
    protocol: "restXml",
    version: "2013-04-01",
    xmlNamespace: "https://route53.amazonaws.com/doc/2013-04-01/",
  },
  secretsmanager: {
    pkg: "@aws-sdk/client-secrets-manager",
    protocol: "awsJson1_1",
    version: "2017-10-17",
    jsonTarget: "secretsmanager",
  },
  logs: {
    pkg: "@aws-sdk/client-cloudwatch-logs",
    protocol: "awsJson1_1",
    version: "2014-03-28",
    jsonTarget: "Logs_20140328",
  },
  // CloudWatch speaks JSON 1.0 (the SDK v3, botocore), awsQuery and RPC v2 CBOR (api/protocols/negotiate.ts).
  monitoring: {
    pkg: "@aws-sdk/client-cloudwatch",
    protocol: "awsJson1_0",
    version: "2010-08-01",
    xmlNamespace: "http://monitoring.amazonaws.com/doc/2010-08-01/",
    jsonTarget: "GraniteServiceVersion20100801",
  },
  ssm: {
    pkg: "@aws-sdk/client-ssm",
    protocol: "awsJson1_1",
    version: "2014-11-06",
    jsonTarget: "AmazonSSM",
  },
  sns: {
    pkg: "@aws-sdk/client-sns",
    protocol: "awsQuery",
    version: "2010-03-31",
    xmlNamespace: "http://sns.amazonaws.com/doc/2010-03-31/",
  },
};

export const WIRE_SERVICES = Object.keys(SERVICES) as readonly WireService[];

export function isWireService(service: string): service is WireService {
  return Object.hasOwn(SERVICES, service);
}

/** The wire protocol of a service; an AwsError for a service privlink does not speak. */
export function protocolOf(service: string): WireProtocol {
  if (isPlainJsonService(service)) return "awsJson1_1";
  if (!isWireService(service))
    throw new AwsError("UnknownService", `privlink does not speak the AWS service '${service}'`);
  return SERVICES[service].protocol;
}

export function xmlNamespaceOf(service: WireService): string {
  return SERVICES[service].xmlNamespace ?? "";
}

export function apiVersionOf(service: WireService): string {
  return SERVICES[service].version;
}

/** `X-Amz-Target: secretsmanager.GetSecretValue` → "GetSecretValue" (JSON services only). */
export function jsonActionOf(service: WireService, target: string | undefined): string | undefined {
  const prefix = SERVICES[service].jsonTarget;
  if (!prefix || !target) return undefined;
  const dot = target.lastIndexOf(".");
  if (dot < 0 || target.slice(0, dot) !== prefix) return undefined;
  return target.slice(dot + 1);
}

// ---------------------------------------------------------------------------------------------
// Compiled shapes

export type Traits = Readonly<Record<string, any>>;

export type ScalarKind =
  | "string"
  | "number"
  | "boolean"
  | "timestamp"
  | "blob"
  | "bigInteger"
  | "bigDecimal"
  | "document";

/** Smithy timestamp formats; "default" means the protocol decides (XML/query: date-time, JSON: epoch). */
export type TimestampFormat = "default" | "date-time" | "http-date" | "epoch-seconds";

export interface ScalarShape {
  readonly kind: ScalarKind;
  readonly timestampFormat: TimestampFormat;
  readonly streaming: boolean;
}

export interface ListShape {
  readonly kind: "list";
  readonly member: Member;
  readonly sparse: boolean;
}

export interface MapShape {
  readonly kind: "map";
  readonly key: Member;
  readonly value: Member;
  readonly sparse: boolean;
}

export interface StructShape {
  readonly kind: "struct";
  /** Short shape name, e.g. "CreateVpcRequest". */
  readonly name: string;
  readonly union: boolean;
  /** Smithy's `unit`: an operation with no input or no output. */
  readonly unit: boolean;
  readonly traits: Traits;
  /** Members in schema order (the order AWS writes them). */
  readonly members: readonly Member[];
  member(name: string): Member | undefined;
}

export type Shape = ScalarShape | ListShape | MapShape | StructShape;

export interface Member {
  readonly name: string;
  readonly shape: Shape;
  /** Target traits merged with the member's own (what the SDK's serializers read). */
  readonly traits: Traits;
  /** The member's own traits only (what the SDK's XML deserializer reads for element names). */
  readonly memberTraits: Traits;
}

class CompiledStruct implements StructShape {
  readonly kind = "struct";
  private built?: { list: Member[]; byName: Map<string, Member> };

  constructor(
    readonly name: string,
    readonly union: boolean,
    readonly unit: boolean,
    readonly traits: Traits,
    private readonly ns: NormalizedSchema | undefined,
  ) {}

  get members(): readonly Member[] {
    return this.build().list;
  }

  member(name: string): Member | undefined {
    return this.build().byName.get(name);
  }

  private build(): { list: Member[]; byName: Map<string, Member> } {
    if (this.built) return this.built;
    const list: Member[] = [];
    if (this.ns) for (const [, m] of this.ns.structIterator()) list.push(compileMember(m));
    this.built = { list, byName: new Map(list.map((m) => [m.name, m])) };
    return this.built;
  }
}

const UNIT: StructShape = new CompiledStruct("Unit", false, true, {}, undefined);
const byObject = new WeakMap<object, Shape>();
const byNumber = new Map<number, Shape>();

const TIMESTAMP_FORMATS: Record<number, TimestampFormat> = {
  4: "default",
  5: "date-time",
  6: "http-date",
  7: "epoch-seconds",
};

function scalar(
  kind: ScalarKind,
  timestampFormat: TimestampFormat = "default",
  streaming = false,
): ScalarShape {
  return Object.freeze({ kind, timestampFormat, streaming });
}

function scalarOf(code: number): ScalarShape {
  if (code === 0) return scalar("string");
  if (code === 1) return scalar("number");
  if (code === 2) return scalar("boolean");
  if (code >= 4 && code <= 7) return scalar("timestamp", TIMESTAMP_FORMATS[code]);
  if (code === 15) return scalar("document");
  if (code === 17) return scalar("bigInteger");
  if (code === 19) return scalar("bigDecimal");
  if (code === 21) return scalar("blob");
  if (code === 42) return scalar("blob", "default", true);
  throw new Error(`privlink wire: unsupported schema type ${code}`);
}

function freezeTraits(t: Record<string, unknown>): Traits {
  return Object.freeze({ ...t });
}

function compileMember(ns: NormalizedSchema): Member {
  return {
    name: ns.getMemberName(),
    shape: compileShape(ns),
    traits: freezeTraits(ns.getMergedTraits() as Record<string, unknown>),
    memberTraits: freezeTraits(ns.getMemberTraits() as Record<string, unknown>),
  };
}

function compileShape(ns: NormalizedSchema): Shape {
  if (ns.isUnitSchema()) return UNIT;
  const raw = ns.getSchema() as unknown;
  const cached = typeof raw === "number" ? byNumber.get(raw) : byObject.get(raw as object);
  if (cached) return cached;
  let shape: Shape;
  if (ns.isStructSchema()) {
    // Cache before members compile: a recursive member finds this very shape.
    shape = new CompiledStruct(
      ns.getName() ?? "",
      ns.isUnionSchema(),
      false,
      freezeTraits(ns.getOwnTraits() as Record<string, unknown>),
      ns,
    );
  } else if (ns.isListSchema()) {
    const member = compileMember(ns.getValueSchema());
    shape = { kind: "list", member, sparse: !!member.traits.sparse };
  } else if (ns.isMapSchema()) {
    const value = compileMember(ns.getValueSchema());
    shape = { kind: "map", key: compileMember(ns.getKeySchema()), value, sparse: !!value.traits.sparse };
  } else if (typeof raw === "number") {
    shape = scalarOf(raw);
  } else {
    throw new Error(`privlink wire: unsupported schema ${ns.getName(true)}`);
  }
  if (typeof raw === "number") byNumber.set(raw, shape);
  else byObject.set(raw as object, shape);
  return shape;
}

// ---------------------------------------------------------------------------------------------
// Operations

export interface HttpTrait {
  readonly method: string;
  /** URI pattern, e.g. `/2013-04-01/hostedzone/{Id}` (may carry a static `?query`). */
  readonly uri: string;
  /** Success status code. */
  readonly code: number;
}

export interface OperationSchema {
  readonly service: WireService;
  readonly name: string;
  readonly input: StructShape;
  readonly output: StructShape;
  readonly http?: HttpTrait;
  /** The SDK's own operation schema (`CreateVpc$`), for code that wants the SDK's serde. */
  readonly sdkSchema: unknown;
}

const requireCjs = createRequire(import.meta.url);
const modules = new Map<WireService, Record<string, unknown>>();
const operations = new Map<WireService, Map<string, OperationSchema | null>>();

function sdkModule(service: WireService): Record<string, unknown> {
  let mod = modules.get(service);
  if (!mod) {
    mod = requireCjs(SERVICES[service].pkg) as Record<string, unknown>;
    modules.set(service, mod);
  }
  return mod;
}

function isOperationTuple(v: unknown): v is unknown[] {
  return Array.isArray(v) && v[0] === 9 && v.length >= 6;
}

function compileOperation(service: WireService, tuple: unknown[]): OperationSchema {
  const { NormalizedSchema, translateTraits } = smithySchema();
  const http = (translateTraits(tuple[3] as any) as Traits).http as [string, string, number] | undefined;
  return {
    service,
    name: String(tuple[2]),
    input: compileShape(NormalizedSchema.of(tuple[4] as any)) as StructShape,
    output: compileShape(NormalizedSchema.of(tuple[5] as any)) as StructShape,
    http: http ? { method: http[0], uri: http[1], code: http[2] } : undefined,
    sdkSchema: tuple,
  };
}

/** The operation `action` of `service` (case-sensitive, as on the wire), or undefined. */
export function findOperation(service: WireService, action: string): OperationSchema | undefined {
  let table = operations.get(service);
  if (!table) {
    table = new Map();
    operations.set(service, table);
  }
  const hit = table.get(action);
  if (hit !== undefined) return hit ?? undefined;
  // Only plain identifiers can name an operation; anything else must not probe the module object.
  const tuple = /^[A-Za-z][A-Za-z0-9]{0,127}$/.test(action) ? sdkModule(service)[`${action}$`] : undefined;
  const op = isOperationTuple(tuple) && tuple[2] === action ? compileOperation(service, tuple) : null;
  if (op || table.size < 10_000) table.set(action, op);
  return op ?? undefined;
}

/** Every operation name of a service, sorted. */
export function operationNames(service: WireService): string[] {
  const mod = sdkModule(service);
  return Object.keys(mod)
    .filter((k) => k.endsWith("$") && isOperationTuple(mod[k]))
    .map((k) => k.slice(0, -1))
    .sort();
}

/** The npm package of the SDK client whose schemas the wire uses for `service`. */
export function sdkPackageOf(service: WireService): string {
  return SERVICES[service].pkg;
}
