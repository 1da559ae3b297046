import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../../src/api/sigv4.js";

export interface SignedRequest {
  service?: string;
  region?: string;
  method?: string;
  body?: string | Buffer | Uint8Array;
  headers?: Record<string, string>;
  path?: string;
  creds?: { accessKeyId: string; secretAccessKey: string };
}

/** Sends a hand-built, correctly signed request: for wire edge cases the SDK would never send. */
export async function signedFetch(
  url: string,
  opts: SignedRequest,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await signedResponse(url, opts);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** signedFetch's request, the response unread (for binary bodies such as CBOR). */
export async function signedResponse(url: string, opts: SignedRequest): Promise<Response> {
  const u = new URL(url);
  const body = opts.body ?? "";
  const path = opts.path ?? "/";
  const [pathname, query] = path.split("?");
  const req = new HttpRequest({
    method: opts.method ?? "POST",
    protocol: "http:",
    hostname: u.hostname,
    port: Number(u.port),
    path: pathname,
    query: Object.fromEntries(new URLSearchParams(query ?? "")),
    headers: {
      host: u.host,
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      ...opts.headers,
    },
    body,
  });
  const signer = new SignatureV4({
    service: opts.service ?? "ec2",
    region: opts.region ?? "us-east-1",
    credentials: opts.creds ?? { accessKeyId: "test", secretAccessKey: "test" },
    sha256: Sha256,
  });
  const signed = await signer.sign(req);
  return fetch(`${u.origin}${path}`, {
    method: signed.method,
    headers: signed.headers as Record<string, string>,
    body: signed.method === "GET" ? undefined : body,
  });
}
