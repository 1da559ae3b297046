import { useState } from "react";
import { api } from "../api.js";
import type { Snapshot } from "../model.js";
import { ErrorBox, Section } from "../ui.js";

export interface WhyHop {
  kind: string;
  allowed: boolean;
  resource?: string;
  ruleId?: string;
  detail: string;
  code?: string;
}

export interface WhyResult {
  allowed: boolean;
  source: { label: string; eniId: string; vpcId: string; privateIp: string };
  destination: {
    label: string;
    name?: string;
    address: string;
    vpcId?: string;
    privateIp?: string;
    port: number;
  };
  hops: WhyHop[];
  refusedAt?: number;
  reason: string;
  explanationCode?: string;
  fix?: string;
}

/** Reads ?source=…&destination=… from the hash, so a why question is a link. */
function initial(name: string): string {
  const q = window.location.hash.split("?")[1] ?? "";
  return new URLSearchParams(q).get(name) ?? "";
}

export function Why({ snap }: { snap: Snapshot }) {
  const [source, setSource] = useState(initial("source"));
  const [destination, setDestination] = useState(initial("destination"));
  const [principal, setPrincipal] = useState("");
  const [action, setAction] = useState("");
  const [result, setResult] = useState<WhyResult>();
  const [error, setError] = useState<Error>();
  const [copied, setCopied] = useState(false);
  const ask = async () => {
    setError(undefined);
    setCopied(false);
    try {
      setResult(
        await api<WhyResult>("POST", "/_privlink/why", {
          source,
          destination,
          principal: principal || undefined,
          action: action || undefined,
        }),
      );
    } catch (err) {
      setResult(undefined);
      setError(err as Error);
    }
  };
  const workloads = [...snap.instances.map((i) => i.id), ...snap.endpoints.map((e) => e.id)];
  return (
    <div className="page" data-testid="why-page">
      <h1>Why can't A reach B?</h1>
      <form
        className="whyform"
        onSubmit={(e) => {
          e.preventDefault();
          void ask();
        }}
      >
        <label>
          Source{" "}
          <input
            list="workloads"
            value={source}
            onChange={(e) => setSource(e.target.value)}
            placeholder="i-… or eni-… or IP"
            data-testid="why-source"
            required
          />
        </label>
        <label>
          Destination{" "}
          <input
            value={destination}
            onChange={(e) => setDestination(e.target.value)}
            placeholder="vpce-…, DNS name or IP, :port"
            data-testid="why-destination"
            required
          />
        </label>
        <label>
          Principal{" "}
          <input
            value={principal}
            onChange={(e) => setPrincipal(e.target.value)}
            placeholder="optional ARN"
          />
        </label>
        <label>
          Action{" "}
          <input
            value={action}
            onChange={(e) => setAction(e.target.value)}
            placeholder="optional, e.g. secretsmanager:GetSecretValue"
          />
        </label>
        <datalist id="workloads">
          {workloads.map((w) => (
            <option key={w} value={w} />
          ))}
        </datalist>
        <button type="submit">Explain</button>
      </form>
      {error && <ErrorBox error={error} />}
      {result && (
        <>
          <p className={result.allowed ? "verdict ok" : "verdict no"} data-testid="why-verdict">
            {result.allowed ? "ALLOWED" : "REFUSED"}: {result.source.label} ({result.source.privateIp}) →{" "}
            {result.destination.label}
            {result.destination.privateIp ? ` (${result.destination.privateIp})` : ""}:
            {result.destination.port} — {result.reason}
          </p>
          <ol className="hopchain" aria-label="hops">
            {result.hops.map((h, i) => (
              <li
                key={i}
                className={h.allowed ? "hop ok" : i === result.refusedAt ? "hop refused" : "hop"}
                title={h.detail}
              >
                {h.kind}
              </li>
            ))}
          </ol>
          <Section title="Hops">
            <table data-testid="why-hops">
              <thead>
                <tr>
                  <th>#</th>
                  <th>hop</th>
                  <th>verdict</th>
                  <th>resource</th>
                  <th>detail</th>
                </tr>
              </thead>
              <tbody>
                {result.hops.map((h, i) => (
                  <tr
                    key={i}
                    className={i === result.refusedAt ? "refused" : ""}
                    data-hop={h.kind}
                    data-refused={i === result.refusedAt ? "true" : undefined}
                  >
                    <td>{i + 1}</td>
                    <td>{h.kind}</td>
                    <td>{h.allowed ? "allow" : `deny${h.code ? ` (${h.code})` : ""}`}</td>
                    <td className="mono">
                      {h.resource ?? ""}
                      {h.ruleId ? ` ${h.ruleId}` : ""}
                    </td>
                    <td>{h.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
          {result.fix && (
            <Section title="Suggested fix">
              <pre className="code" data-testid="why-fix">
                {result.fix}
              </pre>
              <button
                type="button"
                onClick={() =>
                  navigator.clipboard?.writeText(result.fix!).then(
                    () => setCopied(true),
                    () => setCopied(false),
                  )
                }
              >
                {copied ? "Copied" : "Copy"}
              </button>
            </Section>
          )}
        </>
      )}
    </div>
  );
}
