import { createAccount, ensureDefaultAccount } from "../cloud/account.js";
import { lookupAddresses } from "../cloud/addressing.js";
import { AwsError } from "../cloud/errors.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import { connectionEvents } from "./events.js";
import type { AdminRoute } from "./server.js";

export interface AdminDeps {
  state: State;
  rt: Runtime;
  startedAt: Date;
  version: string;
  /** Extra status fields other parts add (data plane, DNS). */
  health?: () => Record<string, unknown>;
  /**
   * Whether every listener and DNS view is up. The edge listens before they are made (a port in
   * use fails the start before any work), so until then health answers 503 "starting".
   */
  ready?: () => boolean;
}

function json(body: unknown, status = 200) {
  return { status, body };
}

/** An admin request body: empty, or a JSON object. */
export function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const v = JSON.parse(body.toString("utf8"));
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {}
  throw new AwsError("InvalidRequest", "the body must be a JSON object");
}

export function adminRoutes(deps: AdminDeps): Record<string, AdminRoute> {
  const { state, rt } = deps;
  return {
    "GET /_privlink/health": () => {
      const ready = deps.ready?.() ?? true;
      return json(
        {
          status: ready ? "ok" : "starting",
          version: deps.version,
          startedAt: deps.startedAt.toISOString(),
          stateVersion: state.version,
          ...deps.health?.(),
        },
        ready ? 200 : 503,
      );
    },
    "POST /_privlink/reset": () => {
      state.clear();
      state.transact((tx) => ensureDefaultAccount(tx, rt));
      return json({ reset: true, stateVersion: state.version });
    },
    "POST /_privlink/accounts": ({ body }) => {
      const b = parseJson(body);
      const id = b.id === undefined ? undefined : String(b.id);
      const orgId = b.org === undefined ? undefined : String(b.org);
      const { account, key } = state.transact((tx) => createAccount(tx, rt, { id, orgId }));
      return json(
        {
          accountId: account.id,
          orgId: account.orgId ?? null,
          accessKeyId: key.id,
          secretAccessKey: key.secret,
        },
        201,
      );
    },
    "GET /_privlink/accounts": () =>
      json({ accounts: [...state.all("account")].map((a) => ({ accountId: a.id, orgId: a.orgId ?? null })) }),
    "GET /_privlink/addr": ({ url }) => {
      const q = url.searchParams.get("q");
      if (!q) throw new AwsError("MissingParameter", "q is required");
      return json({ addresses: lookupAddresses(state, q, url.searchParams.get("vpc") ?? undefined) });
    },
    "GET /_privlink/events": ({ url }) =>
      json(connectionEvents(state, url.searchParams.get("since") ?? undefined)),
  };
}
