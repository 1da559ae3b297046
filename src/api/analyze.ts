import { type AccessReport, accessReport } from "../analyze/access.js";
import { type Change, impact } from "../analyze/impact.js";
import { BadInput, type Resolver } from "../analyze/subjects.js";
import { why } from "../analyze/why.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import type { HealthView, ListenerView } from "../flow/index.js";
import { parseJson } from "./admin.js";
import type { AdminRoute } from "./server.js";

export interface AnalyzeDeps {
  state: State;
  rt: Runtime;
  /** The workload proxies' resolver: the VPC's DNS view, then the state. */
  resolver: Resolver;
  /** The data plane's target health. */
  health: () => HealthView;
  /** The data plane's endpoint listeners. */
  listeners: () => ListenerView;
}

function text(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new BadInput(`${name} must be a string`);
  return v;
}

function changeOf(b: Record<string, unknown>): Change {
  const kind = text(b.kind, "kind");
  if (kind === "delete-route")
    return {
      kind,
      routeTableId: text(b.routeTableId, "routeTableId") ?? "",
      cidr: text(b.cidr, "cidr") ?? "",
    };
  if (kind === "delete-endpoint") return { kind, endpointId: text(b.endpointId, "endpointId") ?? "" };
  if (kind === "revoke") return { kind, ruleId: text(b.ruleId, "ruleId") ?? "" };
  throw new BadInput("a change is --delete-route RTB CIDR, --delete-endpoint VPCE or --revoke SGR");
}

/**
 * POST /_privlink/why {source, destination, vpc?, principal?, action?, resource?},
 * GET /_privlink/access?account=A, POST /_privlink/impact {kind, …, account?}. Bad input is a 400.
 */
export function analyzeRoutes(deps: AnalyzeDeps): Record<string, AdminRoute> {
  return {
    "POST /_privlink/why": async ({ body }) => {
      const b = parseJson(body);
      const source = text(b.source, "source");
      const destination = text(b.destination, "destination");
      if (!source || !destination) throw new BadInput("why needs a source and a destination");
      const principal = text(b.principal, "principal");
      const action = text(b.action, "action");
      if (!!principal !== !!action) throw new BadInput("--principal and --action go together");
      const result = await why(
        {
          state: deps.state,
          resolver: deps.resolver,
          rt: deps.rt,
          health: deps.health(),
          listeners: deps.listeners(),
        },
        {
          source,
          destination,
          vpc: text(b.vpc, "vpc"),
          policy:
            principal && action ? { principal, action, resource: text(b.resource, "resource") } : undefined,
        },
      );
      return { status: 200, body: result };
    },
    "GET /_privlink/access": ({ url }) => {
      const report: AccessReport = accessReport(deps.state, {
        account: url.searchParams.get("account") ?? undefined,
        health: deps.health(),
      });
      return { status: 200, body: report };
    },
    "POST /_privlink/impact": ({ body }) => {
      const b = parseJson(body);
      return { status: 200, body: impact(deps.state, deps.rt, changeOf(b), text(b.account, "account")) };
    },
  };
}
