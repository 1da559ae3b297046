import type { ObservedRequest } from "../api/dispatch.js";
import type { FlowInfo, FlowTap, RefusedFlow } from "../net/flow-tap.js";

/**
 * `privlink up --log requests|flows [--log-format json]`: one console line per API call or per
 * admitted/refused flow, so a new user watching the server sees what their tools did.
 */
export type LogKind = "requests" | "flows";

export interface ConsoleLog {
  onRequest?: (r: ObservedRequest) => void;
  flowTap?: FlowTap;
}

export function parseLogKinds(text: string | undefined): Set<LogKind> {
  const out = new Set<LogKind>();
  for (const k of (text ?? "").split(",").filter(Boolean)) {
    if (k !== "requests" && k !== "flows")
      throw new Error(`--log takes requests, flows or both (requests,flows), not '${k}'`);
    out.add(k);
  }
  return out;
}

const flowText = (f: FlowInfo) =>
  `${f.srcIp}:${f.srcPort} -> ${f.dstIp}:${f.dstPort}${f.dstEniId ? ` (${f.dstEniId})` : ""}`;

export async function consoleLog(
  kinds: Set<LogKind>,
  format: "text" | "json",
  out: NodeJS.WritableStream = process.stdout,
): Promise<ConsoleLog> {
  // pino loads for JSON logs only: `privlink up` without them starts without it.
  const json =
    format === "json" ? (await import("pino")).default({ base: undefined }, out as never) : undefined;
  const text = (line: string) => out.write(`${new Date().toISOString()} ${line}\n`);
  const log: ConsoleLog = {};
  if (kinds.has("requests"))
    log.onRequest = (r) => {
      if (json) json.info({ kind: "request", ...r, time: undefined, ms: Math.round(r.ms * 10) / 10 });
      else
        text(
          `${r.accountId ?? "-"} ${r.region ?? "-"} ${r.service} ${r.action ?? "-"} ${r.status}${r.code ? ` ${r.code}` : ""} ${r.ms.toFixed(1)}ms`,
        );
    };
  if (kinds.has("flows"))
    log.flowTap = {
      opened(f) {
        if (json) json.info({ kind: "flow", action: "ACCEPT", ...f });
        else text(`ACCEPT ${flowText(f)}`);
        return undefined;
      },
      refused(f: RefusedFlow) {
        if (json) json.info({ kind: "flow", action: "REJECT", ...f });
        else text(`REJECT ${flowText(f)} at ${f.hop ?? "endpoint"}: ${f.reason}`);
      },
    };
  return log;
}
