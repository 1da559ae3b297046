/** The AWS wire codecs: SDK input/output shapes ⇄ EC2 Query, awsQuery, restXml and awsJson1_1. */

export { CONTENT_TYPES, type ErrorResponse, renderError } from "./errors.js";
export { decodeJson, encodeJson } from "./json.js";
export { decodeQuery, encodeQuery, encodeQuerySplit, type QueryFlavor } from "./query.js";
export {
  decodeRestXml,
  encodeRestXml,
  matchRestXmlOperation,
  type RestXmlMatch,
  type RestXmlRequest,
  type WireResponse,
} from "./rest-xml.js";
export {
  apiVersionOf,
  findOperation,
  isWireService,
  jsonActionOf,
  type ListShape,
  type MapShape,
  type Member,
  type OperationSchema,
  operationNames,
  protocolOf,
  type ScalarShape,
  type Shape,
  type StructShape,
  sdkPackageOf,
  WIRE_SERVICES,
  type WireProtocol,
  type WireProtocol as Protocol,
  type WireService,
  xmlNamespaceOf,
} from "./schema.js";
