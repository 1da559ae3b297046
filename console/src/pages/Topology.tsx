import { ReactFlowProvider } from "@xyflow/react";
import { useMemo, useState } from "react";
import type { Live } from "../api.js";
import { formatBytes, formatClock, formatRate } from "../format.js";
import { GraphView } from "../GraphView.js";
import {
  buildGraph,
  type EdgeTraffic,
  edgeTraffic,
  findNode,
  type GraphEdge,
  type GraphNode,
  ownerOfEni,
  withFlowEdges,
} from "../graph.js";
import type { Snapshot } from "../model.js";

function hrefOf(n: GraphNode): string | undefined {
  if (n.kind === "endpoint") return `#/endpoint/${n.id}`;
  if (n.kind === "service") return `#/service/${n.id}`;
  return undefined;
}

function Canvas({ snap, live }: { snap: Snapshot; live: Live }) {
  const [account, setAccount] = useState("");
  const [vpcId, setVpcId] = useState("");
  const [showDefault, setShowDefault] = useState(false);
  const [query, setQuery] = useState("");
  const [selected, setSelected] = useState<string>();
  const [notFound, setNotFound] = useState(false);
  const [hovered, setHovered] = useState<string>();
  const [focus, setFocus] = useState<{ id: string; seq: number }>();

  const base = useMemo(
    () =>
      buildGraph(snap, {
        accounts: account ? [account] : undefined,
        vpcId: vpcId || undefined,
        hideDefaultVpcs: !showDefault && !vpcId,
      }),
    [snap, account, vpcId, showDefault],
  );
  const graph = useMemo(() => withFlowEdges(snap, base, live.flows), [snap, base, live.flows]);
  const traffic = useMemo(
    () =>
      edgeTraffic(
        snap,
        graph,
        live.rates,
        live.flows,
        live.sample ? Date.parse(live.sample.time) : undefined,
      ),
    [snap, graph, live.rates, live.flows, live.sample],
  );
  const look = (e: GraphEdge) => {
    const t = traffic.get(e.id);
    const refused = t?.refused;
    const moving = (t?.rate ?? 0) > 0 || (t?.active ?? 0) > 0;
    const label = refused
      ? `refused at ${refused.hop ?? "?"}`
      : t && (moving || e.kind === "endpoint" || e.kind === "flow")
        ? `${formatRate(t.rate)} · ${t.active} conn`
        : e.label;
    return {
      label,
      className: `${refused ? " refused" : ""}${moving ? " moving" : ""}`.trim(),
      animated: moving,
      ariaLabel: refused ? `${e.id}: refused — ${refused.reason}` : e.id,
    };
  };

  const accounts = snap.accounts.map((a) => a.id);
  const vpcs = snap.vpcs.filter((v) => !account || v.accountId === account);
  const sel = graph.nodes.find((n) => n.id === selected);

  const find = () => {
    const id = findNode(snap, graph, query);
    setNotFound(!id);
    if (!id) return;
    setSelected(id);
    setFocus((f) => ({ id, seq: (f?.seq ?? 0) + 1 }));
  };
  const open = (id: string) => {
    const n = graph.nodes.find((x) => x.id === id);
    const href = n && hrefOf(n);
    if (href) window.location.hash = href;
  };

  return (
    <div className="topology">
      <div className="toolbar">
        <label>
          Account{" "}
          <select
            value={account}
            onChange={(e) => {
              setAccount(e.target.value);
              setVpcId("");
            }}
            data-testid="filter-account"
          >
            <option value="">all</option>
            {accounts.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label>
          VPC{" "}
          <select value={vpcId} onChange={(e) => setVpcId(e.target.value)} data-testid="filter-vpc">
            <option value="">all</option>
            {vpcs.map((v) => (
              <option key={v.id} value={v.id}>
                {v.tags.Name ? `${v.tags.Name} (${v.id})` : v.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={showDefault} onChange={(e) => setShowDefault(e.target.checked)} />{" "}
          default VPCs
        </label>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            find();
          }}
        >
          <input
            type="search"
            placeholder="ID, Name tag or private IP"
            aria-label="search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            data-testid="search"
          />
          <button type="submit">Find</button>
          {notFound && <span className="muted"> no match</span>}
        </form>
        <span className="muted">
          {graph.nodes.length} nodes · {graph.edges.length} edges
        </span>
      </div>
      <div className="canvas-row">
        <div className="canvas-wrap">
          <GraphView
            graph={graph}
            testId="topology"
            label="topology: Tab reaches the nodes, arrow keys move between them, Enter opens one"
            selected={selected}
            focus={focus}
            look={look}
            onSelect={setSelected}
            onOpen={open}
            onEdgeHover={setHovered}
          />
          {hovered && <EdgeTip id={hovered} traffic={traffic.get(hovered)} />}
        </div>
        {sel && (
          <aside className="side card" data-testid="selection">
            <div className="kind">{sel.kind}</div>
            <h2>{sel.label}</h2>
            <p className="mono">{sel.id}</p>
            <p>{sel.detail}</p>
            {hrefOf(sel) && <a href={hrefOf(sel)}>Open {sel.kind} page →</a>}
          </aside>
        )}
      </div>
      <FlowTable snap={snap} live={live} />
    </div>
  );
}

/** What the hovered edge carries, and why its last flow was refused. */
function EdgeTip({ id, traffic }: { id: string; traffic?: EdgeTraffic }) {
  return (
    <div className="edgetip card" role="status" data-testid="edge-tip">
      <div className="mono">{id}</div>
      {traffic && (
        <div>
          {formatRate(traffic.rate)} · {traffic.active} open
        </div>
      )}
      {traffic?.refused && (
        <div className="bad">
          refused at {traffic.refused.hop ?? "?"} ({formatClock(traffic.refused.time)}):{" "}
          {traffic.refused.reason}
        </div>
      )}
    </div>
  );
}

function FlowTable({ snap, live }: { snap: Snapshot; live: Live }) {
  const [paused, setPaused] = useState<typeof live.flows>();
  const [filter, setFilter] = useState("");
  const rows = (paused ?? live.flows).filter(
    (f) => !filter || JSON.stringify(f).toLowerCase().includes(filter.toLowerCase()),
  );
  const endpointOf = (eni?: string) =>
    snap.endpoints.find((e) => e.enis.some((x) => x.eniId === eni))?.id ?? "";
  return (
    <section className="card flows">
      <div className="toolbar">
        <h2>Flows</h2>
        <button
          type="button"
          onClick={() => setPaused(paused ? undefined : live.flows)}
          aria-pressed={!!paused}
        >
          {paused ? "Resume" : "Pause"}
        </button>
        <input
          type="search"
          placeholder="filter"
          aria-label="filter flows"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>
      <div className="scroll">
        <table data-testid="flows">
          <thead>
            <tr>
              <th>time</th>
              <th>source</th>
              <th>destination</th>
              <th>endpoint</th>
              <th>bytes</th>
              <th>verdict</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => (
              <tr key={f.id} className={f.verdict === "REJECT" ? "reject" : ""} title={f.reason}>
                <td>{formatClock(f.time)}</td>
                <td className="mono">
                  {f.srcIp} {ownerOfEni(snap, f.srcEniId) ?? ""}
                </td>
                <td className="mono">
                  {f.dstIp}:{f.dstPort}
                </td>
                <td className="mono">{endpointOf(f.dstEniId)}</td>
                <td>{f.phase === "open" ? "open" : formatBytes(f.bytesIn + f.bytesOut)}</td>
                <td>{f.verdict === "REJECT" ? `REJECT (${f.hop ?? "?"}): ${f.reason}` : "ACCEPT"}</td>
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  No flows yet: connections through the data plane show here as they happen.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Topology(props: { snap: Snapshot; live: Live }) {
  return (
    <ReactFlowProvider>
      <Canvas {...props} />
    </ReactFlowProvider>
  );
}
