import { ReactFlowProvider } from "@xyflow/react";
import { useCallback, useMemo, useState } from "react";
import { api } from "../api.js";
import { GraphView } from "../GraphView.js";
import { buildGraph, type GraphEdge, type GraphNode } from "../graph.js";
import type { Snapshot } from "../model.js";
import { ErrorBox, Section } from "../ui.js";
import { type WhyResult, whyPath } from "../why-path.js";

export type { WhyHop, WhyResult } from "../why-path.js";

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
          <WhyGraph snap={snap} result={result} />
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

/**
 * The answer drawn on the topology: the source's VPC and what its endpoints reach, the flow's
 * path in the accent colour, the refusing hop's node or edge in red with the hop's name.
 */
function WhyGraph({ snap, result }: { snap: Snapshot; result: WhyResult }) {
  const { graph, path } = useMemo(() => {
    const base = buildGraph(snap, { vpcId: result.source.vpcId, hideDefaultVpcs: !result.source.vpcId });
    const path = whyPath(snap, base, result);
    const have = new Set(base.edges.map((e) => e.id));
    const graph = { nodes: base.nodes, edges: [...base.edges, ...path.edges.filter((e) => !have.has(e.id))] };
    return { graph, path };
  }, [snap, result]);
  const refused = path.refused;
  const onPath = useMemo(() => new Set([...path.nodes, ...path.edges.map((e) => e.id)]), [path]);
  const mark = useCallback(
    (n: GraphNode) => (refused?.at === n.id ? "why-refused" : onPath.has(n.id) ? "on-path" : undefined),
    [refused, onPath],
  );
  const look = (e: GraphEdge) => {
    if (refused?.at === e.id)
      return {
        className: "why-refused",
        label: `refused: ${refused.kind}`,
        ariaLabel: `${e.id}: refused at ${refused.kind}`,
      };
    if (onPath.has(e.id)) {
      const kinds = path.hops.filter((h) => h.at === e.id).map((h) => h.kind);
      return {
        className: "why-path",
        label: kinds.join(" · ") || e.label,
        ariaLabel: `${e.id}: on the path`,
      };
    }
    return { className: "why-off" };
  };
  return (
    <section className="card why-canvas">
      <h2>On the topology</h2>
      {refused ? (
        <p data-testid="why-refused" data-hop={refused.kind} data-at={refused.at}>
          Refused at <strong>{refused.kind}</strong> on <span className="mono">{refused.at}</span> (marked
          red); the path is in blue.
        </p>
      ) : (
        <p className="muted">The path the flow takes is in blue.</p>
      )}
      <ReactFlowProvider>
        <GraphView
          graph={graph}
          testId="why-graph"
          label="the why answer's path on the topology"
          look={look}
          mark={mark}
          onOpen={(id) => {
            const n = graph.nodes.find((x) => x.id === id);
            if (n?.kind === "endpoint" || n?.kind === "service") window.location.hash = `#/${n.kind}/${id}`;
          }}
        />
      </ReactFlowProvider>
    </section>
  );
}
