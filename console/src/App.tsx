import { useEffect, useState } from "react";
import { useLive, useSnapshot } from "./api.js";
import { Cost } from "./pages/Cost.js";
import { EndpointPage } from "./pages/Endpoint.js";
import { ServicePage } from "./pages/Service.js";
import { Topology } from "./pages/Topology.js";
import { Why } from "./pages/Why.js";
import { ErrorBox } from "./ui.js";

/** Hash routes: #/ topology, #/endpoint/ID, #/service/ID, #/why, #/cost. */
const readRoute = () =>
  (window.location.hash.replace(/^#\/?/, "").split("?")[0] ?? "").split("/").filter(Boolean);

function useRoute(): string[] {
  const read = readRoute;
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(readRoute());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function App() {
  const route = useRoute();
  const live = useLive();
  const snap = useSnapshot(live.stateVersion);
  const page = route[0] ?? "topology";
  const nav = [
    ["topology", "Topology"],
    ["why", "Why"],
    ["cost", "Cost"],
  ];
  return (
    <div className="app">
      <header className="bar">
        <strong className="brand">privlink</strong>
        <nav aria-label="pages">
          {nav.map(([id, label]) => (
            <a key={id} href={`#/${id}`} aria-current={page === id ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span className={live.connected ? "live on" : "live"} data-testid="live">
          {live.connected ? "live" : "offline"}
        </span>
      </header>
      <main>
        {snap.error && <ErrorBox error={snap.error} />}
        {!snap.data && !snap.error && <p className="muted">Loading…</p>}
        {snap.data && page === "topology" && <Topology snap={snap.data} live={live} />}
        {snap.data && page === "endpoint" && (
          <EndpointPage snap={snap.data} id={route[1] ?? ""} live={live} />
        )}
        {snap.data && page === "service" && (
          <ServicePage snap={snap.data} id={route[1] ?? ""} onChange={snap.reload} />
        )}
        {snap.data && page === "why" && <Why snap={snap.data} />}
        {page === "cost" && <Cost />}
      </main>
    </div>
  );
}
