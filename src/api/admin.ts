import { createAccount, ensureDefaultAccount } from "../cloud/account.js";
import { hostAddressOf, privateIpOfHost } from "../cloud/addressing.js";
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

export interface AddrRow {
  privateIp: string;
  hostAddress: string;
  vpcId: string;
  eniId: string | null;
}

/**
 * `privlink addr X`: X is a private IP (with vpc), a host address, an ENI, an instance, or a
 * VPC (for its resolver). Works across accounts: the host is one machine.
 */
export function lookupAddresses(state: State, q: string, vpcId?: string): AddrRow[] {
  const eniRow = (eniId: string): AddrRow[] => {
    const e = state.get("eni", eniId);
    const vpc = e && state.get("vpc", e.vpcId);
    const host = vpc && hostAddressOf(vpc, e.privateIp);
    return e && host ? [{ privateIp: e.privateIp, hostAddress: host, vpcId: e.vpcId, eniId: e.id }] : [];
  };
  if (q.startsWith("eni-")) return eniRow(q);
  if (q.startsWith("i-")) {
    const i = state.get("instance", q);
    return i ? eniRow(i.eniId) : [];
  }
  if (q.startsWith("vpc-")) {
    const vpc = state.get("vpc", q);
    if (!vpc) return [];
    return vpc.cidrBlocks.flatMap((b) => {
      if (b.slot === undefined) return [];
      const base = b.cidr.split("/")[0]!.split(".").map(Number);
      const ip = `${base[0]}.${base[1]}.${base[2]}.${base[3]! + 2}`;
      return [{ privateIp: ip, hostAddress: hostAddressOf(vpc, ip)!, vpcId: vpc.id, eniId: null }];
    });
  }
  if (q.startsWith("127.")) {
    const hit = privateIpOfHost(state, q);
    if (!hit) return [];
    const eni = [...state.all("eni")].find((e) => e.vpcId === hit.vpc.id && e.privateIp === hit.privateIp);
    return [{ privateIp: hit.privateIp, hostAddress: q, vpcId: hit.vpc.id, eniId: eni?.id ?? null }];
  }
  const candidates = [...state.all("vpc")].filter((v) => (vpcId ? v.id === vpcId : true));
  return candidates.flatMap((vpc) => {
    const host = hostAddressOf(vpc, q);
    if (!host) return [];
    const eni = [...state.all("eni")].find((e) => e.vpcId === vpc.id && e.privateIp === q);
    return [{ privateIp: q, hostAddress: host, vpcId: vpc.id, eniId: eni?.id ?? null }];
  });
}

export function adminRoutes(deps: AdminDeps): Record<string, AdminRoute> {
  const { state, rt } = deps;
  return {
    "GET /_privlink/health": () =>
      json({
        status: "ok",
        version: deps.version,
        startedAt: deps.startedAt.toISOString(),
        stateVersion: state.version,
        ...deps.health?.(),
      }),
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
