import { useCallback, useEffect, useRef, useState } from "react";
import { endpointRates } from "./graph.js";
import type { RatePoint } from "./history.js";
import type { FlowRow, Snapshot, StatsSample } from "./model.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Calls one of privlink's admin routes with the console's session cookie. The header marks the
 * call as the console's (the server asks for it on anything that changes state).
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json", "x-privlink-console": "1" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: any;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: "BadResponse", message: text.slice(0, 200) };
  }
  if (res.status === 401)
    throw new ApiError(
      401,
      "NotLoggedIn",
      "Not logged in: run `privlink console` and open the link it prints.",
    );
  if (!res.ok)
    throw new ApiError(res.status, data.error ?? String(res.status), data.message ?? data.error ?? text);
  return data as T;
}

/** Runs `load` now and whenever `key` changes; its value, its error, and whether it runs. */
export function useLoad<T>(
  load: () => Promise<T>,
  key: unknown,
): { data?: T; error?: Error; loading: boolean; reload(): void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` and `tick` are the reasons to load again
  useEffect(() => {
    let live = true;
    setLoading(true);
    loadRef.current().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: Error) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export interface Live {
  connected: boolean;
  stateVersion: number;
  sample?: StatsSample;
  rates: Map<string, { rate: number; active: number }>;
  /** Recent flows, newest first, one row per flow (its latest phase). */
  flows: FlowRow[];
  /** Bytes per second per endpoint over the last samples, oldest first (the endpoint page's chart). */
  history: Map<string, RatePoint[]>;
}

const MAX_FLOWS = 200;
/** An hour of one-second samples: the chart's window. */
const MAX_HISTORY = 3600;

/** The event stream: counters, flows and state versions, as the server pushes them. */
export function useLive(): Live {
  const [live, setLive] = useState<Live>({
    connected: false,
    stateVersion: -1,
    rates: new Map(),
    flows: [],
    history: new Map(),
  });
  useEffect(() => {
    const es = new EventSource("/_privlink/console/stream");
    let prev: StatsSample | undefined;
    es.addEventListener("open", () => setLive((l) => ({ ...l, connected: true })));
    es.addEventListener("error", () => setLive((l) => ({ ...l, connected: false })));
    es.addEventListener("hello", (ev) => {
      const d = JSON.parse((ev as MessageEvent).data) as { stateVersion: number };
      setLive((l) => ({ ...l, connected: true, stateVersion: d.stateVersion }));
    });
    es.addEventListener("state", (ev) => {
      const d = JSON.parse((ev as MessageEvent).data) as { stateVersion: number };
      setLive((l) => (l.stateVersion === d.stateVersion ? l : { ...l, stateVersion: d.stateVersion }));
    });
    es.addEventListener("stats", (ev) => {
      const sample = JSON.parse((ev as MessageEvent).data) as StatsSample;
      const rates = endpointRates(prev, sample);
      prev = sample;
      const t = Date.parse(sample.time);
      setLive((l) => {
        const history = new Map(l.history);
        for (const [id, r] of rates)
          history.set(id, [...(history.get(id) ?? []), { t, rate: r.rate }].slice(-MAX_HISTORY));
        return { ...l, sample, rates, history };
      });
    });
    es.addEventListener("flows", (ev) => {
      const rows = JSON.parse((ev as MessageEvent).data) as FlowRow[];
      setLive((l) => {
        const byId = new Map(l.flows.map((f) => [f.id, f]));
        for (const r of rows) byId.set(r.id, r);
        const flows = [...byId.values()].sort((a, b) => b.id - a.id).slice(0, MAX_FLOWS);
        return { ...l, flows };
      });
    });
    return () => es.close();
  }, []);
  return live;
}

/** The state snapshot, reloaded whenever the stream says the state moved. */
export function useSnapshot(stateVersion: number) {
  return useLoad(() => api<Snapshot>("GET", "/_privlink/console/state"), stateVersion);
}
