/**
 * Which bucket and key a request names: virtual-hosted style puts the bucket in the Host
 * (`bucket.s3.<region>.amazonaws.com`, `bucket.bucket.vpce-….s3.<region>.vpce.amazonaws.com`,
 * `bucket.localhost`), path style in the first path segment.
 */
import { AwsError } from "../../cloud/errors.js";

export interface Target {
  readonly bucket?: string;
  readonly key?: string;
  /** The Host names S3 Control or an access point, which privlink does not implement. */
  readonly unsupported?: "control" | "accesspoint";
}

const VPCE =
  /^(?:(.+)\.)?(bucket|accesspoint|control)\.vpce-[a-z0-9-]+\.s3\.[a-z0-9-]+\.vpce\.amazonaws\.com$/;
const VPCE_BARE = /^vpce-[a-z0-9-]+\.s3\.[a-z0-9-]+\.vpce\.amazonaws\.com$/;
const PUBLIC = /^(.+?)\.s3(?:[.-](?!accesspoint|control)[a-z0-9-]+)*\.amazonaws\.com$/;
const UNSUPPORTED_PUBLIC = /\.s3-(accesspoint|control)\./;

/** The bucket a Host names, if any (port and a trailing dot ignored). */
export function hostTarget(hostHeader: string): Target {
  const host = hostHeader.replace(/:\d+$/, "").replace(/\.$/, "").toLowerCase();
  const vpce = VPCE.exec(host);
  if (vpce) {
    if (vpce[2] === "bucket") return vpce[1] ? { bucket: vpce[1] } : {};
    return { unsupported: vpce[2] as "control" | "accesspoint" };
  }
  if (VPCE_BARE.test(host)) return {};
  const un = UNSUPPORTED_PUBLIC.exec(host);
  if (un) return { unsupported: un[1] as "control" | "accesspoint" };
  const pub = PUBLIC.exec(host);
  if (pub) return { bucket: pub[1] };
  if (host.endsWith(".localhost")) return { bucket: host.slice(0, -".localhost".length) };
  return {};
}

/** Bucket and key of a request: from the Host when it names a bucket, else from the path. */
export function requestTarget(hostHeader: string, rawPath: string): Target {
  const fromHost = hostTarget(hostHeader);
  if (fromHost.unsupported) return fromHost;
  const path = rawPath.startsWith("/") ? rawPath.slice(1) : rawPath;
  if (fromHost.bucket !== undefined)
    return { bucket: fromHost.bucket, key: path === "" ? undefined : decodeKey(path) };
  if (path === "") return {};
  const slash = path.indexOf("/");
  if (slash < 0) return { bucket: decodeKey(path) };
  const key = path.slice(slash + 1);
  return { bucket: decodeKey(path.slice(0, slash)), key: key === "" ? undefined : decodeKey(key) };
}

function decodeKey(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new AwsError("InvalidURI", "Couldn't parse the specified URI.", 400);
  }
}

/** AWS's bucket naming rules for new buckets (general purpose buckets). */
export function checkBucketName(name: string): void {
  const ok =
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) &&
    !name.includes("..") &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name);
  if (!ok) throw new AwsError("InvalidBucketName", "The specified bucket is not valid.", 400);
}
