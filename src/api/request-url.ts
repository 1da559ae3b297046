import { AwsError } from "../cloud/errors.js";

/**
 * The URL of a request target as received. `new URL(target, base)` reads `//host/…` as another
 * host and throws on some targets: a request target is always a path here, so it is appended
 * to a fixed origin, and one that still does not parse is the client's error, not ours.
 */
export function requestUrl(target: string): URL {
  const path = target.startsWith("/") ? target : `/${target}`;
  try {
    return new URL(`http://privlink${path}`);
  } catch {
    throw new AwsError("InvalidParameterValue", "The request target is not a valid URL path", 400);
  }
}
