import { useState } from "react";
import { api, useLoad } from "../api.js";
import { formatUsd } from "../format.js";
import { ErrorBox, Section } from "../ui.js";

interface CostLine {
  resource: string;
  account: string;
  payer: string;
  usageType: string;
  quantity: number;
  unit: string;
  rate: number;
  cost: number;
  description: string;
}

interface Bill {
  since: string;
  until: string;
  lines: CostLine[];
  total: number;
  byPayer: Record<string, number>;
  whatIfNat?: { lines: CostLine[]; total: number; difference: number };
  prices: string;
}

const WINDOWS: [string, number][] = [
  ["last hour", 3_600_000],
  ["last 24 hours", 86_400_000],
  ["last 7 days", 7 * 86_400_000],
  ["last 30 days", 30 * 86_400_000],
];

function Lines({ lines, testId }: { lines: CostLine[]; testId: string }) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th>resource</th>
          <th>payer</th>
          <th>usage</th>
          <th>quantity</th>
          <th>rate</th>
          <th>cost</th>
        </tr>
      </thead>
      <tbody>
        {lines.map((l, i) => (
          <tr key={i} title={l.description}>
            <td className="mono">{l.resource}</td>
            <td className="mono">{l.payer}</td>
            <td>{l.usageType}</td>
            <td>
              {l.quantity} {l.unit}
            </td>
            <td>{formatUsd(l.rate)}</td>
            <td>{formatUsd(l.cost)}</td>
          </tr>
        ))}
        {lines.length === 0 && (
          <tr>
            <td colSpan={6} className="muted">
              Nothing billed in this window.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

/** Two bars: what the endpoints cost, and the same bytes through NAT gateways. */
function Bars({ endpoints, nat }: { endpoints: number; nat: number }) {
  const max = Math.max(endpoints, nat, 1e-9);
  const bar = (label: string, v: number, cls: string, y: number) => (
    <g>
      <text x={0} y={y + 14}>
        {label}
      </text>
      <rect x={150} y={y} width={Math.max(1, (v / max) * 300)} height={20} className={cls} />
      <text x={160 + (v / max) * 300} y={y + 14}>
        {formatUsd(v)}
      </text>
    </g>
  );
  return (
    <svg
      width={560}
      height={60}
      role="img"
      aria-label="endpoint cost against the NAT gateway alternative"
      className="bars"
    >
      {bar("PrivateLink", endpoints, "bar-a", 4)}
      {bar("NAT alternative", nat, "bar-b", 32)}
    </svg>
  );
}

export function Cost() {
  const [win, setWin] = useState(1);
  const ms = WINDOWS[win]![1];
  const bill = useLoad(() => {
    const until = new Date();
    const since = new Date(until.getTime() - ms);
    return api<Bill>(
      "GET",
      `/_privlink/cost?what-if=nat&since=${since.toISOString()}&until=${until.toISOString()}`,
    );
  }, ms);
  const b = bill.data;
  return (
    <div className="page" data-testid="cost-page">
      <h1>Cost</h1>
      <label>
        Window{" "}
        <select value={win} onChange={(e) => setWin(Number(e.target.value))}>
          {WINDOWS.map(([label], i) => (
            <option key={label} value={i}>
              {label}
            </option>
          ))}
        </select>
      </label>{" "}
      <button type="button" onClick={bill.reload}>
        Refresh
      </button>
      {bill.error && <ErrorBox error={bill.error} />}
      {b && (
        <>
          <p>
            {b.since} → {b.until} · prices: {b.prices}
          </p>
          <Bars endpoints={b.total} nat={b.whatIfNat?.total ?? 0} />
          <div className="grid">
            <Section title={`PrivateLink: ${formatUsd(b.total)}`}>
              <Lines lines={b.lines} testId="cost-lines" />
              <ul>
                {Object.entries(b.byPayer).map(([p, v]) => (
                  <li key={p}>
                    payer <span className="mono">{p}</span>: {formatUsd(v)}
                  </li>
                ))}
              </ul>
            </Section>
            <Section title={`NAT gateway alternative: ${formatUsd(b.whatIfNat?.total ?? 0)}`}>
              <Lines lines={b.whatIfNat?.lines ?? []} testId="cost-nat" />
              {b.whatIfNat && (
                <p>
                  Difference: <strong>{formatUsd(b.whatIfNat.difference)}</strong>{" "}
                  {b.whatIfNat.difference >= 0 ? "more through NAT" : "less through NAT"}
                </p>
              )}
            </Section>
          </div>
        </>
      )}
    </div>
  );
}
