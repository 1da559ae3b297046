/**
 * Upstreams: where a front sends requests for AWS services privlink does not build in (another
 * emulator, typically). After the endpoint policy allows a request, the front re-signs it with
 * the caller's own credentials for the upstream's host and forwards it as is.
 *
 * Upstreams must be loopback URLs (DESIGN.md: nothing escapes loopback).
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { AwsRequest, AwsResponse } from "../api/dispatch.js";
import type { AdminRoute } from "../api/server.js";
import { Sha256, type SigV4Scope } from "../api/sigv4.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State, Tx } from "../cloud/state.js";
import type { Upstream } from "../cloud/types.js";

/** Where the front looks up a service's upstream. */
export interface UpstreamTable {
  urlFor(service: string): string | undefined;
}

/** The upstreams persisted in the state (`privlink upstream set`). */
export function stateUpstreams(state: State): UpstreamTable {
  return { urlFor: (service) => state.get("upstream", service)?.url };
}

const SERVICE_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

export function checkUpstreamUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AwsError("InvalidParameterValue", `'${text}' is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new AwsError(
      "InvalidParameterValue",
      `An upstream URL is http:// or https://, not '${url.protocol}'`,
    );
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
  if (!loopback)
    throw new AwsError(
      "InvalidParameterValue",
      `An upstream must be on this machine (127.0.0.0/8, ::1 or localhost), not '${url.hostname}': privlink never dials outside loopback`,
    );
  return url;
}

export function setUpstream(tx: Tx, rt: Runtime, service: string, url: string): Upstream {
  if (!SERVICE_NAME.test(service))
    throw new AwsError(
      "InvalidParameterValue",
      `'${service}' is not an AWS SigV4 service name (e.g. kms, sqs, s3)`,
    );
  const checked = checkUpstreamUrl(url);
  return tx.put("upstream", {
    id: service,
    url: checked.toString().replace(/\/$/, ""),
    createdAt: rt.now().toISOString(),
  });
}

export function unsetUpstream(tx: Tx, service: string): boolean {
  if (!tx.get("upstream", service)) return false;
  tx.delete("upstream", service);
  return true;
}

function parseBody(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString("utf8") || "{}");
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {}
  throw new AwsError("InvalidRequest", "the body must be a JSON object");
}

/** Admin routes behind `privlink upstream list|set|unset`. */
export function upstreamAdminRoutes(state: State, rt: Runtime): Record<string, AdminRoute> {
  const list = () =>
    [...state.all("upstream")]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map(({ id, url }) => ({ service: id, url }));
  return {
    "GET /_privlink/upstreams": () => ({ status: 200, body: { upstreams: list() } }),
    "POST /_privlink/upstreams": ({ body }) => {
      const b = parseBody(body);
      const up = state.transact((tx) => setUpstream(tx, rt, String(b.service ?? ""), String(b.url ?? "")));
      return { status: 200, body: { service: up.id, url: up.url } };
    },
    "DELETE /_privlink/upstreams": ({ url }) => {
      const service = url.searchParams.get("service") ?? "";
      const removed = state.transact((tx) => unsetUpstream(tx, service));
      if (!removed) throw new AwsError("NotFound", `no upstream is set for '${service}'`, 404);
      return { status: 200, body: { service, removed: true } };
    },
  };
}

/** Headers a hop must not pass on, and the ones the new signature replaces. */
const DROPPED = new Set([
  "host",
  "authorization",
  "x-amz-date",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "proxy-connection",
  "te",
  "upgrade",
  "expect",
]);

export interface ForwardInput {
  readonly upstream: string;
  readonly request: AwsRequest & { body: Buffer };
  readonly scope: SigV4Scope;
  /** The caller's secret key, to sign as the caller. */
  readonly secretAccessKey: string;
  readonly now: Date;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** S3 virtual-hosted requests become path-style: the upstream's host names no bucket. */
  readonly bucket?: string;
}

/** Re-signs the request for the upstream host and relays the answer. */
export async function forwardToUpstream(input: ForwardInput): Promise<AwsResponse> {
  const base = new URL(input.upstream);
  const { request: req, scope } = input;
  const q = req.url.indexOf("?");
  let path = q < 0 ? req.url : req.url.slice(0, q);
  if (input.bucket !== undefined) path = `/${encodeURIComponent(input.bucket)}${path === "/" ? "" : path}`;
  const prefix = base.pathname.replace(/\/$/, "");
  const rawQuery = q < 0 ? "" : req.url.slice(q + 1);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || DROPPED.has(name.toLowerCase())) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  headers.host = base.host;
  headers["content-length"] = String(req.body.length);
  // Loaded on the first forwarded request: the SDK's signer pulls in @smithy/core's protocols,
  // which every `privlink up` would otherwise compile at start for a feature most never use.
  const [{ HttpRequest }, { SignatureV4 }] = await Promise.all([
    import("@smithy/protocol-http"),
    import("@smithy/signature-v4"),
  ]);
  const unsigned = new HttpRequest({
    method: req.method,
    protocol: base.protocol,
    hostname: base.hostname,
    port: base.port ? Number(base.port) : undefined,
    path: prefix + path,
    query: queryOf(rawQuery),
    headers,
    body: req.body,
  });
  const signer = new SignatureV4({
    service: scope.service,
    region: scope.region,
    credentials: {
      accessKeyId: scope.accessKeyId,
      secretAccessKey: input.secretAccessKey,
      sessionToken: scope.sessionToken,
    },
    sha256: Sha256,
    uriEscapePath: scope.service !== "s3",
  });
  const signed = await signer.sign(unsigned, { signingDate: input.now });
  return send(base, prefix + path + (rawQuery ? `?${rawQuery}` : ""), signed, req.body, input);
}

/** Decoded query for the signer; the raw text still goes on the wire. */
function queryOf(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (raw === "") return out;
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    const k = dec(eq < 0 ? pair : pair.slice(0, eq));
    const v = eq < 0 ? "" : dec(pair.slice(eq + 1));
    const prior = out[k];
    out[k] = prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : [prior, v];
  }
  return out;
}

function send(
  base: URL,
  path: string,
  signed: { method: string; headers: Record<string, string> },
  body: Buffer,
  input: ForwardInput,
): Promise<AwsResponse> {
  const requester = base.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const out = requester(
      {
        hostname: base.hostname.replace(/^\[|\]$/g, ""),
        port: base.port || (base.protocol === "https:" ? 443 : 80),
        method: signed.method,
        path,
        headers: signed.headers,
        timeout: input.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > input.maxResponseBytes) res.destroy(new Error("the upstream's answer is too large"));
          else chunks.push(c);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 502,
            headers: relayHeaders(res.headers),
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    out.on("timeout", () => out.destroy(new Error(`no answer within ${input.timeoutMs} ms`)));
    out.on("error", reject);
    out.end(body);
  });
}

function relayHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || DROPPED.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}
