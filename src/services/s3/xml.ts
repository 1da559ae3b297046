/**
 * S3's XML: the few response documents privlink writes, its error document, and the small
 * request documents it reads (CreateBucketConfiguration, CompleteMultipartUpload, Delete).
 * Request documents are flat; a tolerant element reader is enough and never evaluates entities
 * beyond the five predefined ones.
 */
import { AwsError } from "../../cloud/errors.js";

export const S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
export const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`,
  );
}

/** `<Name>value</Name>` for each defined field, in order. */
export function fields(obj: Record<string, string | number | boolean | undefined>): string {
  let out = "";
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out += `<${k}>${esc(String(v))}</${k}>`;
  return out;
}

export function document(root: string, inner: string): string {
  return `${DECLARATION}<${root} xmlns="${S3_NS}">${inner}</${root}>`;
}

export function errorDocument(
  err: AwsError,
  requestId: string,
  extra: Record<string, string | undefined> = {},
): string {
  return `${DECLARATION}<Error>${fields({ Code: err.code, Message: err.message, ...extra, RequestId: requestId, HostId: requestId })}</Error>`;
}

function unescapeXml(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g,
    (_m, name: string, dec?: string, hex?: string) => {
      if (dec) return String.fromCodePoint(Number(dec));
      if (hex) return String.fromCodePoint(Number.parseInt(hex, 16));
      return { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[name] ?? "";
    },
  );
}

/** The inner texts of every `<name>` element (namespace prefixes ignored). */
export function elements(xml: string, name: string): string[] {
  const re = new RegExp(
    `<(?:[A-Za-z0-9_]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9_]+:)?${name}>`,
    "g",
  );
  return [...xml.matchAll(re)].map((m) => m[1]!);
}

export function text(xml: string, name: string): string | undefined {
  const v = elements(xml, name)[0];
  return v === undefined ? undefined : unescapeXml(v);
}

export const malformedXml = () =>
  new AwsError(
    "MalformedXML",
    "The XML you provided was not well-formed or did not validate against our published schema",
    400,
  );

export function requireRoot(xml: string, root: string): void {
  if (!new RegExp(`<(?:[A-Za-z0-9_]+:)?${root}[\\s>]`).test(xml)) throw malformedXml();
}
