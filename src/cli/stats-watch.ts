import type { Stats } from "../net/meter.js";
import { alignColumns } from "./columns.js";

type EndpointRow = Stats["endpoints"][number];

/** One redraw of `privlink stats --watch`: bytes/s per endpoint since the previous sample. */
export function rateTable(
  prev: Stats | undefined,
  next: Stats,
  seconds: number,
  maxRows: number,
  at: Date,
): string {
  const before = new Map((prev?.endpoints ?? []).map((e) => [e.vpcEndpointId, e]));
  const rate = (e: EndpointRow, k: "bytesIn" | "bytesOut") => {
    const p = before.get(e.vpcEndpointId);
    const d = p && e[k] >= p[k] ? e[k] - p[k] : prev ? e[k] : 0;
    return seconds > 0 ? d / seconds : 0;
  };
  const rows = next.endpoints
    .map((e) => ({ id: e.vpcEndpointId, in: rate(e, "bytesIn"), out: rate(e, "bytesOut"), e }))
    .sort((a, b) => b.in + b.out - (a.in + a.out) || (a.id < b.id ? -1 : 1));
  const shown = rows.slice(0, Math.max(1, maxRows));
  const head = ["endpoint", "in B/s", "out B/s", "active", "bytes in", "bytes out"];
  const cells = shown.map((r) => [
    r.id,
    r.in.toFixed(0),
    r.out.toFixed(0),
    String(r.e.activeConnections),
    String(r.e.bytesIn),
    String(r.e.bytesOut),
  ]);
  const [headLine, ...lines] = alignColumns([head, ...cells], (i) => i > 0);
  const more = rows.length > shown.length ? `… and ${rows.length - shown.length} more endpoints\n` : "";
  const body = rows.length ? `${lines.join("\n")}\n` : "(no endpoint has carried traffic yet)\n";
  return `privlink stats --watch  ${at.toISOString()}  (Ctrl-C to stop)\n${headLine}\n${body}${more}`;
}

/**
 * Samples the counters every `intervalMs` and redraws the table in place (a TTY) or prints it
 * again (a pipe), `count` times or until Ctrl-C. The table keeps to the terminal's height.
 */
export async function watchStats(
  sample: () => Promise<Stats>,
  o: { intervalMs: number; count?: number; out: NodeJS.WriteStream },
): Promise<void> {
  const tty = o.out.isTTY === true;
  let stop = false;
  let wake: (() => void) | undefined;
  const onInt = () => {
    stop = true;
    wake?.();
  };
  process.once("SIGINT", onInt);
  let prev: { stats: Stats; at: number } | undefined;
  try {
    for (let i = 0; !stop && (o.count === undefined || i < o.count); i++) {
      const stats = await sample();
      const at = Date.now();
      const rows = tty ? Math.max(1, (o.out.rows ?? 24) - 4) : 50;
      const text = rateTable(prev?.stats, stats, prev ? (at - prev.at) / 1000 : 0, rows, new Date(at));
      o.out.write(tty ? `\x1b[H\x1b[2J${text}` : `${text}\n`);
      prev = { stats, at };
      if (o.count !== undefined && i + 1 >= o.count) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.intervalMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } finally {
    process.off("SIGINT", onInt);
  }
}
