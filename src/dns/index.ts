export { canonicalName } from "./name.js";
export { type DnsStats, Responder, type ResponderOptions, type Transport } from "./responder.js";
export { type DnsServer, type DnsServerOptions, type DnsServerStats, startDnsServer } from "./server.js";
export {
  type Alias,
  type Answer,
  ENDPOINT_RECORD_TTL,
  type Fallback,
  normalizeType,
  type Rcode,
  type RR,
  type RRType,
  route53Soa,
  type SoaFields,
  typeName,
  typeNumber,
  View,
  type ViewOptions,
  type Zone,
} from "./view.js";
