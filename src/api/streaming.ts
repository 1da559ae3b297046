/**
 * Services that read their own request bodies as streams (S3: objects up to 5 GiB never pass
 * through memory). The edge and the service fronts hand such a request over before reading its
 * body; every other request keeps the buffered path of `dispatchAws`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Via } from "../cloud/context.js";

/** Serves one whole HTTP exchange; `via` when it came through an interface endpoint. */
export type StreamingService = (req: IncomingMessage, res: ServerResponse, via?: Via) => Promise<void>;

/** Streaming services by SigV4 signing name. */
export type StreamingServices = Readonly<Record<string, StreamingService>>;

const CREDENTIAL = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\//;

/** The SigV4 service a request is signed for, read from its head only (header or presigned query). */
export function signedServiceOf(req: Pick<IncomingMessage, "headers" | "url">): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === "string") return CREDENTIAL.exec(auth)?.[1];
  const url = req.url ?? "";
  const at = url.indexOf("X-Amz-Credential=");
  if (at < 0) return undefined;
  const value = decodeURIComponent(url.slice(at + "X-Amz-Credential=".length).split("&")[0] ?? "");
  return value.split("/")[3];
}

/** The streaming service that takes `req`, if any. */
export function streamingServiceFor(
  services: StreamingServices | undefined,
  req: Pick<IncomingMessage, "headers" | "url">,
): StreamingService | undefined {
  if (!services) return undefined;
  const name = signedServiceOf(req);
  return name === undefined ? undefined : services[name];
}
