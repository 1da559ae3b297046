import type { ReactNode } from "react";
import { highlightJson, prettyJson } from "./highlight.js";

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

/** A small line chart of the last samples (bytes/s), scaled to its own maximum. */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const w = 300;
  const h = 48;
  const max = Math.max(1, ...values);
  const pts = values
    .map((v, i) => `${(i / Math.max(1, values.length - 1)) * w},${h - (v / max) * (h - 4) - 2}`)
    .join(" ");
  return (
    <svg className="spark" width={w} height={h} role="img" aria-label={label}>
      <polyline points={pts} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge s-${state}`}>{state}</span>;
}
