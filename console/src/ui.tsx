import type { ReactNode } from "react";
import { formatClock, formatRate } from "./format.js";
import { highlightJson, prettyJson } from "./highlight.js";
import type { HourOfRates, RatePoint } from "./history.js";

export function ErrorBox({ error }: { error: Error }) {
  return (
    <div className="error" role="alert">
      {error.message}
    </div>
  );
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="card">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function Policy({ text }: { text: string }) {
  return (
    <pre className="code" data-testid="policy">
      {highlightJson(prettyJson(text)).map((t, i) => (
        <span key={i} className={`tok-${t.kind}`}>
          {t.text}
        </span>
      ))}
    </pre>
  );
}

/**
 * An hour of bytes per second: CloudWatch's minutes (solid) and then the live stream (accent),
 * on one time axis, scaled to the hour's maximum.
 */
export function RateChart({ hour, label }: { hour: HourOfRates; label: string }) {
  const w = 600;
  const h = 110;
  const all = [...hour.cloudwatch, ...hour.live];
  const max = Math.max(1, ...all.map((p) => p.rate));
  const x = (t: number) => ((t - hour.from) / (hour.to - hour.from)) * w;
  const y = (r: number) => h - (r / max) * (h - 6) - 3;
  const line = (ps: readonly RatePoint[]) =>
    ps.map((p) => `${x(p.t).toFixed(1)},${y(p.rate).toFixed(1)}`).join(" ");
  const busy = hour.cloudwatch.filter((p) => p.rate > 0).length / 2;
  return (
    <figure
      className="chart"
      data-testid="history-chart"
      data-cloudwatch-minutes={busy}
      data-live-samples={hour.live.length}
    >
      <svg viewBox={`0 0 ${w} ${h}`} width="100%" height={h} role="img" aria-label={label}>
        <line className="axis" x1={0} y1={h - 0.5} x2={w} y2={h - 0.5} />
        <polyline className="cw" points={line(hour.cloudwatch)} fill="none" />
        <polyline className="stream" points={line(hour.live)} fill="none" />
      </svg>
      <figcaption className="muted">
        <span>{formatClock(new Date(hour.from).toISOString())}</span>
        <span>
          <span className="key cw">CloudWatch, per minute</span>{" "}
          <span className="key stream">live, per second</span> · peak{" "}
          {formatRate(max === 1 && all.every((p) => p.rate === 0) ? 0 : max)}
        </span>
        <span>{formatClock(new Date(hour.to).toISOString())}</span>
      </figcaption>
    </figure>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge s-${state}`}>{state}</span>;
}
