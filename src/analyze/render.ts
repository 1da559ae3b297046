import type { AccessReport, AccessRow } from "./access.js";
import type { ImpactReport } from "./impact.js";
import type { WhyResult } from "./why.js";

/**
 * `why` as text: one line per hop (`ok`, `NO` on the first refusal, `..` for hops after it,
 * which the flow never reaches), then the verdict and the fix.
 */
export function renderWhy(r: WhyResult): string {
  const dst = r.destination;
  const where = dst.name ?? dst.label;
  const address = dst.privateIp ?? dst.address;
  const lines = [
    `${r.source.label} ${r.source.privateIp} (${r.source.vpcId ?? `on-premises site ${r.source.site}`}) -> ${where}${address !== where ? ` [${address}]` : ""}:${dst.port}`,
  ];
  const width = Math.max(...r.hops.map((h) => h.kind.length));
  r.hops.forEach((h, i) => {
    const mark = r.refusedAt === undefined || i < r.refusedAt ? "ok" : i === r.refusedAt ? "NO" : "..";
    const code = h.code ? ` [${h.code}]` : "";
    lines.push(`  ${mark} ${h.kind.padEnd(width)}  ${h.detail}${code}`);
  });
  if (r.allowed) lines.push("allowed");
  else {
    lines.push(`refused at ${r.hops[r.refusedAt!]!.kind}: ${r.reason}`);
    if (r.fix) lines.push(`fix: ${r.fix}`);
  }
  return `${lines.join("\n")}\n`;
}

const COLUMNS: (keyof AccessRow)[] = [
  "account",
  "vpcId",
  "subnetId",
  "workload",
  "name",
  "endpointId",
  "endpointAccount",
  "service",
  "port",
  "path",
  "endpointPolicy",
];

export function accessCsv(r: AccessReport): string {
  const cell = (v: unknown) => {
    const s = v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [COLUMNS.join(","), ...r.rows.map((row) => COLUMNS.map((k) => cell(row[k])).join(","))];
  return `${lines.join("\n")}\n`;
}

export function accessText(r: AccessReport): string {
  const lines = r.rows.map(
    (x) =>
      `${x.workload}${x.name ? ` (${x.name})` : ""} ${x.vpcId} -> ${x.endpointId} ${x.service} tcp/${x.port} via ${x.path}${x.endpointPolicy === "restricted" ? " [endpoint policy restricts]" : ""}`,
  );
  lines.push(`${r.rows.length} flows allowed, ${r.refused} refused, of ${r.checked} checked`);
  for (const res of r.sourceVpceResources)
    lines.push(`${res.arn} requires ${res.keys.join(", ")} = ${res.values.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

export function impactText(r: ImpactReport): string {
  const lines = r.broken.map(
    (b) =>
      `breaks: ${b.workload}${b.name ? ` (${b.name})` : ""} -> ${b.endpointId} ${b.service} tcp/${b.port}: ${b.hop}: ${b.reason}`,
  );
  lines.push(`${r.broken.length} flows would break, ${r.unaffected} keep working`);
  return `${lines.join("\n")}\n`;
}
