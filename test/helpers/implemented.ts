import type { Privlink } from "../../src/privlink.js";

/**
 * Every action the server implements, as [service, action]: the handler tables' and the
 * streaming services' (S3). Coverage checks read this, so new actions join by construction.
 */
export function implementedActions(srv: Pick<Privlink, "services" | "streamingActions">): [string, string][] {
  const tables = Object.entries(srv.services).flatMap(([service, table]) =>
    Object.keys(table).map((action) => [service, action] as [string, string]),
  );
  const streaming = Object.entries(srv.streamingActions).flatMap(([service, actions]) =>
    actions.map((action) => [service, action] as [string, string]),
  );
  return [...tables, ...streaming];
}

/** Whether the server implements `action` of `service` (or, without `action`, any of it). */
export function implements_(
  srv: Pick<Privlink, "services" | "streamingActions">,
  service: string,
  action?: string,
): boolean {
  if (action === undefined)
    return srv.services[service] !== undefined || srv.streamingActions[service] !== undefined;
  return (
    srv.services[service]?.[action] !== undefined ||
    (srv.streamingActions[service]?.includes(action) ?? false)
  );
}

/** The services the server implements, handler tables and streaming. */
export function implementedServices(srv: Pick<Privlink, "services" | "streamingActions">): string[] {
  return [...Object.keys(srv.services), ...Object.keys(srv.streamingActions)];
}
