/**
 * The IAM action and resource of a request the front forwards without a service model: the
 * action from the wire (awsJson `X-Amz-Target`, Query `Action`, S3's REST shape), the resource
 * from the members that name one in the common services. Where the front cannot tell, the
 * action is undefined (the front then refuses under any non-default endpoint policy) and the
 * resource is `*`.
 */
import { requestUrl } from "../api/request-url.js";
import type { ServiceProtocol } from "../cloud/catalog.js";

export interface DerivedRequest {
  /** `prefix:Action`, or undefined when the wire does not say. */
  readonly action?: string;
  readonly resource: string;
}

export interface RequestFacts {
  readonly service: string;
  readonly family: ServiceProtocol;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly region: string;
  readonly accountId: string;
  /** S3 virtual-hosted style: the bucket named by the Host. */
  readonly bucket?: string;
}

/** SigV4 signing names whose IAM prefix differs. */
const IAM_PREFIX: Record<string, string> = {
  monitoring: "cloudwatch",
  email: "ses",
  "ecr-public": "ecr-public",
  "execute-api": "execute-api",
  "aws-marketplace": "aws-marketplace",
};

export function iamPrefix(service: string): string {
  return IAM_PREFIX[service] ?? service;
}

export function deriveRequest(facts: RequestFacts): DerivedRequest {
  const prefix = iamPrefix(facts.service);
  const url = requestUrl(facts.url);
  switch (facts.family) {
    case "json": {
      const target = header(facts.headers, "x-amz-target");
      const name = target?.slice(target.lastIndexOf(".") + 1);
      return { action: name ? `${prefix}:${name}` : undefined, resource: jsonResource(facts) };
    }
    case "query":
    case "ec2": {
      const params = new URLSearchParams(url.search);
      if ((header(facts.headers, "content-type") ?? "").startsWith("application/x-www-form-urlencoded"))
        for (const [k, v] of new URLSearchParams(facts.body.toString("utf8"))) params.append(k, v);
      const action = params.get("Action");
      return { action: action ? `${prefix}:${action}` : undefined, resource: queryResource(facts, params) };
    }
    case "restXml":
      if (facts.service === "s3") return s3Request(facts.method, url, facts.bucket);
      return { resource: "*" };
    default:
      return { resource: "*" };
  }
}

function header(headers: RequestFacts["headers"], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The members that name the resource in the common JSON services, by service. */
function jsonResource(f: RequestFacts): string {
  let body: Record<string, unknown>;
  try {
    const parsed = JSON.parse(f.body.toString("utf8") || "{}");
    if (parsed === null || typeof parsed !== "object") return "*";
    body = parsed as Record<string, unknown>;
  } catch {
    return "*";
  }
  const str = (k: string) => (typeof body[k] === "string" ? (body[k] as string) : undefined);
  const arnOr = (v: string | undefined, make: (v: string) => string) =>
    v === undefined ? undefined : v.startsWith("arn:") ? v : make(v);
  const base = (svc: string) => `arn:aws:${svc}:${f.region}:${f.accountId}`;
  const byService: Record<string, () => string | undefined> = {
    kms: () =>
      arnOr(str("KeyId"), (k) =>
        k.startsWith("alias/") ? `${base("kms")}:${k}` : `${base("kms")}:key/${k}`,
      ),
    dynamodb: () => arnOr(str("TableName"), (t) => `${base("dynamodb")}:table/${t}`),
    sqs: () => {
      const q = str("QueueUrl");
      return q ? `${base("sqs")}:${q.slice(q.lastIndexOf("/") + 1)}` : undefined;
    },
    logs: () => arnOr(str("logGroupName"), (g) => `${base("logs")}:log-group:${g}`),
    ssm: () => arnOr(str("Name"), (n) => `${base("ssm")}:parameter/${n.replace(/^\//, "")}`),
    secretsmanager: () => arnOr(str("SecretId"), (s) => `${base("secretsmanager")}:secret:${s}`),
    sns: () => str("TopicArn"),
    kinesis: () => arnOr(str("StreamName"), (s) => `${base("kinesis")}:stream/${s}`),
  };
  const fromService = byService[f.service]?.();
  if (fromService) return fromService;
  const anyArn = Object.values(body).find((v) => typeof v === "string" && v.startsWith("arn:"));
  return (anyArn as string | undefined) ?? "*";
}

function queryResource(f: RequestFacts, params: URLSearchParams): string {
  const base = (svc: string) => `arn:aws:${svc}:${f.region}:${f.accountId}`;
  const queue = params.get("QueueUrl");
  if (queue) return `${base("sqs")}:${queue.slice(queue.lastIndexOf("/") + 1)}`;
  for (const key of ["TopicArn", "RoleArn", "ResourceArn", "LoadBalancerArn", "TargetGroupArn"]) {
    const v = params.get(key);
    if (v?.startsWith("arn:")) return v;
  }
  return "*";
}

/** The common S3 operations by method and shape; enough to name the action a policy names. */
function s3Request(method: string, url: URL, hostBucket: string | undefined): DerivedRequest {
  const parts = url.pathname.split("/").filter((p) => p !== "");
  const bucket = hostBucket ?? (parts.length > 0 ? decodeURIComponent(parts[0]!) : undefined);
  const keyParts = hostBucket ? parts : parts.slice(1);
  const key = keyParts.length > 0 ? keyParts.map(decodeURIComponent).join("/") : undefined;
  const q = url.searchParams;
  if (bucket === undefined) return { action: "s3:ListAllMyBuckets", resource: "*" };
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (key !== undefined) {
    const resource = `${bucketArn}/${key}`;
    const action =
      method === "GET" || method === "HEAD"
        ? q.has("tagging")
          ? "s3:GetObjectTagging"
          : "s3:GetObject"
        : method === "PUT"
          ? q.has("tagging")
            ? "s3:PutObjectTagging"
            : "s3:PutObject"
          : method === "DELETE"
            ? q.has("uploadId")
              ? "s3:AbortMultipartUpload"
              : "s3:DeleteObject"
            : "s3:PutObject";
    return { action, resource };
  }
  const sub = ["policy", "tagging", "versioning", "acl", "cors", "lifecycle", "location", "uploads"].find(
    (s) => q.has(s),
  );
  const bucketActions: Record<string, Record<string, string>> = {
    GET: {
      "": q.has("versions") ? "s3:ListBucketVersions" : "s3:ListBucket",
      policy: "s3:GetBucketPolicy",
      tagging: "s3:GetBucketTagging",
      versioning: "s3:GetBucketVersioning",
      acl: "s3:GetBucketAcl",
      cors: "s3:GetBucketCORS",
      lifecycle: "s3:GetLifecycleConfiguration",
      location: "s3:GetBucketLocation",
      uploads: "s3:ListBucketMultipartUploads",
    },
    HEAD: { "": "s3:ListBucket" },
    PUT: {
      "": "s3:CreateBucket",
      policy: "s3:PutBucketPolicy",
      tagging: "s3:PutBucketTagging",
      versioning: "s3:PutBucketVersioning",
      acl: "s3:PutBucketAcl",
      cors: "s3:PutBucketCORS",
      lifecycle: "s3:PutLifecycleConfiguration",
    },
    DELETE: { "": "s3:DeleteBucket", policy: "s3:DeleteBucketPolicy", tagging: "s3:PutBucketTagging" },
    POST: { "": q.has("delete") ? "s3:DeleteObject" : "s3:PutObject" },
  };
  return { action: bucketActions[method]?.[sub ?? ""], resource: bucketArn };
}
