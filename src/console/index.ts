import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { parseJson } from "../api/admin.js";
import { requestUrl } from "../api/request-url.js";
import type { AdminRoute } from "../api/server.js";
import { DEFAULT_HOST } from "../cloud/context.js";
import { acceptConnections, rejectConnections } from "../cloud/endpoint-connections.js";

import { serviceNotFound } from "../cloud/endpoint-service.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import type { FlowTaps } from "../net/flow-tap.js";
import type { Stats } from "../net/meter.js";
import type { CloudWatchMetrics } from "../services/cloudwatch/metrics.js";
import { endpointHistory } from "./history.js";
import { ConsoleSessions, sessionCookie } from "./sessions.js";
import { consoleSnapshot } from "./snapshot.js";
import { CONSOLE_HEADERS, loadBundle, type StaticFile, sendFile } from "./static.js";
import { ConsoleStream } from "./stream.js";

export interface ConsoleDeps {
  state: State;
  rt: Runtime;
  stats: () => Stats;
  taps: FlowTaps | undefined;
  /** The CloudWatch store: an endpoint page starts from its last hour. */
  metrics: CloudWatchMetrics;
  /** The package root; the bundle is its console/dist. */
  root: string;
  /** False when the admin API is open (--auth open): the console needs no login then. */
  needsLogin: boolean;
}

export interface WebConsole {
  /** The edge's fallback: GET / and /assets/*; false for anything else (AWS keeps it). */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  /** True when the request holds a console session that may call admin routes. */
  admits(req: IncomingMessage): boolean;
  routes: Record<string, AdminRoute>;
  streams: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** The console's address for a person: with a fresh one-time login code when one is needed. */
  loginUrl(base: string): string;
  close(): void;
}

export function startConsole(deps: ConsoleDeps): WebConsole {
  const sessions = new ConsoleSessions();
  const stream = new ConsoleStream({
    state: deps.state,
    stats: deps.stats,
    taps: deps.taps,
    now: () => deps.rt.now(),
  });
  let bundle: Map<string, StaticFile> | undefined;
  const files = () => {
    if (!bundle?.size) bundle = loadBundle(join(deps.root, "console", "dist"));
    return bundle;
  };
  const loginPath = () => (deps.needsLogin ? `/?login=${sessions.mintLogin()}` : "/");
  return {
    serve(req, res) {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      // The edge already refused targets requestUrl cannot parse; `//` is one new URL would throw on.
      const url = requestUrl(req.url ?? "/");
      const path = url.pathname === "/" ? "/index.html" : url.pathname;
      if (path !== "/index.html" && !path.startsWith("/assets/") && path !== "/favicon.svg") return false;
      const code = url.searchParams.get("login");
      if (path === "/index.html" && code !== null) return login(res, sessions.redeem(code));
      const f = files().get(path);
      if (!f) return notBuilt(res, path);
      sendFile(res, req, f, path.startsWith("/assets/"));
      return true;
    },
    admits: (req) => sessions.admits(req.method ?? "GET", req.headers),
    routes: {
      "GET /_privlink/console/state": () => ({ status: 200, body: consoleSnapshot(deps.state) }),
      "GET /_privlink/console/metrics": async ({ url }) => ({
        status: 200,
        body: await endpointHistory(
          deps.state,
          deps.metrics,
          url.searchParams.get("endpoint") ?? "",
          deps.rt.now(),
        ),
      }),
      "POST /_privlink/console/login": () => ({ status: 200, body: { path: loginPath() } }),
      "POST /_privlink/console/connections": ({ body }) => decideConnections(deps, parseJson(body)),
    },
    streams: { "GET /_privlink/console/stream": (req, res) => stream.serve(req, res) },
    loginUrl: (base) => `${base}${loginPath()}`,
    close: () => stream.close(),
  };
}

/** Trades a login code for a session cookie, then shows the console without the code in the bar. */
function login(res: ServerResponse, session: string | undefined): true {
  if (!session) {
    const text = "This console link was already used or has expired. Run `privlink console` for a new one.\n";
    res.writeHead(401, { "content-type": "text/plain; charset=utf-8", ...CONSOLE_HEADERS });
    res.end(text);
    return true;
  }
  res.writeHead(303, { location: "/", "set-cookie": sessionCookie(session), ...CONSOLE_HEADERS });
  res.end();
  return true;
}

function notBuilt(res: ServerResponse, path: string): true {
  const index = path === "/index.html";
  res.writeHead(index ? 503 : 404, { "content-type": "text/plain; charset=utf-8", ...CONSOLE_HEADERS });
  res.end(
    index ? "The console is not built: run `npm run build:console` (npm ci does it).\n" : "not found\n",
  );
  return true;
}

/**
 * POST /_privlink/console/connections {serviceId, endpointIds, action: accept|reject}: the
 * provider's Accept/RejectVpcEndpointConnections, made as the service's owner (the console
 * holds the admin token's power, not a SigV4 key). Answers the API's Unsuccessful items.
 */
function decideConnections(deps: ConsoleDeps, b: Record<string, unknown>) {
  const serviceId = typeof b.serviceId === "string" ? b.serviceId : "";
  const ids = Array.isArray(b.endpointIds)
    ? b.endpointIds.filter((x): x is string => typeof x === "string")
    : [];
  if (b.action !== "accept" && b.action !== "reject")
    throw new AwsError("InvalidParameterValue", "action is accept or reject");
  if (ids.length === 0) throw new AwsError("MissingParameter", "endpointIds must name at least one endpoint");
  const svc = deps.state.get("endpointService", serviceId);
  if (!svc) throw serviceNotFound(serviceId);
  const ctx = {
    accountId: svc.accountId,
    region: svc.region,
    principalArn: `arn:aws:iam::${svc.accountId}:root`,
    rt: deps.rt,
    host: DEFAULT_HOST,
  };
  const decide = b.action === "accept" ? acceptConnections : rejectConnections;
  const unsuccessful = deps.state.transact((tx) => decide(tx, ctx, serviceId, ids));
  return { status: 200, body: { unsuccessful } };
}
