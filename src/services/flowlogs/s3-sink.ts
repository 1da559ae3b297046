import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { State } from "../../cloud/state.js";
import type { FlowLog, S3Bucket } from "../../cloud/types.js";
import type { Blobs } from "../s3/blobs.js";
import { objectId } from "../s3/rules.js";
import { type FlowLogBatch, type FlowLogDestination, textOf } from "./destinations.js";

const gzipped = promisify(gzip);

/** `arn:aws:s3:::bucket/optional/prefix` → bucket and prefix (without slashes at its ends). */
export function s3Target(arn: string): { bucket: string; prefix: string } {
  const rest = arn.slice("arn:aws:s3:::".length);
  const slash = rest.indexOf("/");
  if (slash < 0) return { bucket: rest, prefix: "" };
  return { bucket: rest.slice(0, slash), prefix: rest.slice(slash + 1).replace(/^\/+|\/+$/g, "") };
}

/**
 * AWS's key for a flow-log file: `<prefix>/AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/
 * <account>_vpcflowlogs_<region>_<fl-id>_<yyyymmddTHHmmZ>_<hash>.log.gz`. The hash tells apart
 * files of the same minute (privlink writes one per interface and window).
 */
export function flowLogKey(fl: FlowLog, at: Date, salt: string): string {
  const iso = at.toISOString();
  const [yyyy, mm, dd] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  const stamp = `${yyyy}${mm}${dd}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
  const hash = createHash("sha256").update(`${fl.id}/${salt}/${iso}`).digest("hex").slice(0, 8);
  const { prefix } = s3Target(fl.logDestination);
  const dir = `AWSLogs/${fl.accountId}/vpcflowlogs/${fl.region}/${yyyy}/${mm}/${dd}`;
  const file = `${fl.accountId}_vpcflowlogs_${fl.region}_${fl.id}_${stamp}_${hash}.log.gz`;
  return `${prefix ? `${prefix}/` : ""}${dir}/${file}`;
}

/**
 * May the log delivery service write to this bucket? Its owner's own flow logs may (AWS adds
 * the bucket policy for the owner); another account's need a policy statement allowing
 * `delivery.logs.amazonaws.com` to `s3:PutObject`.
 */
export function deliveryAllowed(bucket: S3Bucket, fl: FlowLog): boolean {
  if (bucket.accountId === fl.accountId) return true;
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(bucket.policy ?? "{}");
  } catch {
    return false;
  }
  const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return list(doc.Statement as Record<string, unknown> | Record<string, unknown>[]).some((s) => {
    const principal = s.Principal as { Service?: string | string[] } | undefined;
    const actions = list(s.Action as string | string[]);
    return (
      s.Effect === "Allow" &&
      list(principal?.Service).includes("delivery.logs.amazonaws.com") &&
      actions.some((a) => a === "s3:PutObject" || a === "s3:*" || a === "*")
    );
  });
}

/**
 * `s3`: each batch becomes one gzip object in the built-in S3, a header line of field names
 * then the records, written like any PutObject (blob committed, then its metadata), so that
 * `aws s3 ls`/`aws s3 cp` read it. A missing bucket or a bucket whose policy does not let the
 * delivery service write is DeliverLogsStatus FAILED with the reason.
 */
export function s3Destination(deps: { state: State; blobs: Blobs; now: () => Date }): FlowLogDestination {
  const problem = (fl: FlowLog) => {
    const { bucket } = s3Target(fl.logDestination);
    const b = deps.state.get("s3Bucket", bucket);
    if (!b) return `Access error: LogDestination: ${bucket} does not exist.`;
    if (!deliveryAllowed(b, fl))
      return `Access error: Access Denied for LogDestination: ${bucket}. Please check LogDestination permission.`;
    return undefined;
  };
  return {
    problem,
    async deliver(batch: FlowLogBatch) {
      const why = problem(batch.flowLog);
      if (why) throw new Error(why);
      const body = await gzipped(Buffer.concat([Buffer.from(`${batch.header}\n`), textOf(batch)]));
      const temp = deps.blobs.create();
      await new Promise<void>((resolve, reject) => {
        temp.stream.once("error", reject);
        temp.stream.end(body, resolve);
      });
      const blob = await temp.commit();
      const { bucket } = s3Target(batch.flowLog.logDestination);
      const key = flowLogKey(batch.flowLog, deps.now(), `${batch.interfaceId}/${batch.start}`);
      const md5 = createHash("md5").update(body).digest("hex");
      let replaced: string | undefined;
      try {
        await deps.state.transactDurable((tx) => {
          if (!tx.get("s3Bucket", bucket))
            throw new Error(`Access error: LogDestination: ${bucket} does not exist.`);
          replaced = tx.get("s3Object", objectId(bucket, key))?.blob;
          tx.put("s3Object", {
            id: objectId(bucket, key),
            bucket,
            key,
            size: body.length,
            etag: `"${md5}"`,
            lastModified: deps.now().toISOString(),
            contentType: "application/octet-stream",
            metadata: {},
            headers: {},
            blob,
          });
        });
      } catch (err) {
        // A commit still queued for the store (PostgreSQL lost meanwhile) keeps its body.
        if (deps.state.get("s3Object", objectId(bucket, key))?.blob !== blob) await deps.blobs.remove([blob]);
        throw err;
      }
      if (replaced !== undefined) await deps.blobs.remove([replaced]);
    },
  };
}
