import { AwsError } from "../cloud/errors.js";
import type { DataPlane } from "../net/dataplane.js";
import { WorkloadError, type WorkloadProxies } from "../net/workload-proxy.js";
import { parseJson } from "./admin.js";
import type { AdminRoute } from "./server.js";

/** Without a CA yet (a server that never started its front), the workload simply gets no TLS env. */
export function tlsEnvOrNone(tlsEnv: () => Record<string, string>): Record<string, string> {
  try {
    return tlsEnv();
  } catch {
    return {};
  }
}

/**
 * GET /_privlink/stats (counters), GET /_privlink/flows?since=N (refused flows, newest last),
 * POST /_privlink/workloads/proxy {"workload":"i-…|eni-…"} (starts that workload's proxy; answers
 * its address and the TLS environment its programs need).
 */
export function dataPlaneRoutes(
  dataplane: DataPlane,
  proxies: WorkloadProxies,
  tlsEnv: () => Record<string, string>,
  /** What GET /_privlink/stats answers (default this data plane's counters; with agents, theirs too). */
  stats: () => object = () => dataplane.meter.snapshot(),
): Record<string, AdminRoute> {
  return {
    "GET /_privlink/stats": () => ({ status: 200, body: stats() }),
    "GET /_privlink/flows": ({ url }) => ({
      status: 200,
      body: { flows: dataplane.events.list(Number(url.searchParams.get("since") ?? 0) || 0) },
    }),
    "POST /_privlink/workloads/proxy": async ({ body }) => {
      const id = workloadParam(body);
      return { status: 200, body: { ...(await asAws(() => proxies.ensure(id))), env: tlsEnvOrNone(tlsEnv) } };
    },
  };
}

/** The `workload` of a workload route's JSON body. */
export function workloadParam(body: Buffer): string {
  const id = parseJson(body).workload;
  if (typeof id !== "string" || !id)
    throw new AwsError("MissingParameter", "workload (an i-… or eni-… ID) is required");
  return id;
}

/** Runs `fn`, turning a WorkloadError (no such workload, not running) into its AWS error. */
export async function asAws<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkloadError) throw workloadAwsError(err);
    throw err;
  }
}

/** The AWS error of a WorkloadError: the admin routes' and the agents' answers agree. */
export function workloadAwsError(err: WorkloadError): AwsError {
  return new AwsError(err.status === 404 ? "NotFound" : "InvalidWorkload", err.message, err.status);
}
