export type TokenKind = "key" | "string" | "number" | "literal" | "punct" | "space";

export interface Token {
  kind: TokenKind;
  text: string;
}

const TOKEN =
  /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\],:])|(\s+)|(.)/gy;

/**
 * A JSON document (an endpoint policy) as tokens for colouring: strings followed by a colon
 * are keys. Text that is not JSON still comes back whole, as plain tokens — nothing is lost.
 */
export function highlightJson(text: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
    if (m[1] !== undefined) {
      out.push({ kind: m[2] ? "key" : "string", text: m[1] });
      if (m[2]) out.push({ kind: "punct", text: m[2] });
    } else if (m[3] !== undefined) out.push({ kind: "number", text: m[3] });
    else if (m[4] !== undefined) out.push({ kind: "literal", text: m[4] });
    else if (m[5] !== undefined) out.push({ kind: "punct", text: m[5] });
    else if (m[6] !== undefined) out.push({ kind: "space", text: m[6] });
    else out.push({ kind: "punct", text: m[7]! });
  }
  return out;
}

/** Pretty-prints a policy when it parses; otherwise returns it as it was. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
