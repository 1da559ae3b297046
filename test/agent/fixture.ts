/** What the agent tests (two namespace hosts, bench/agents-world.ts) share. */
import type { TwoHosts } from "../../bench/agents-world.js";
import type { Leases } from "../../src/store/leases.js";
import type { Creds } from "../dataplane/world.js";
import type { TestPostgres } from "../helpers/postgres.js";
import type { TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";

/** Polls `probe` every 100 ms until it gives a value; a rejection counts as "not yet" and is reported on time-out. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last = "";
  for (;;) {
    const v = await probe().catch((err: Error) => {
      last = err.message;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `aws SERVICE ARGS… --output json` against the API node `server`, as `creds`. */
export async function awsJson(server: TestServer, creds: Creds, ...args: string[]) {
  const r = await runAws([...args, "--output", "json"], server.cliEnv(creds));
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout || "{}");
}

/** Ends an agents test: its processes (their output first under AGENT_TEST_DEBUG), namespaces, store. */
export async function closeAgentsWorld(w: {
  hosts?: TwoHosts;
  leases?: Leases;
  server?: TestServer;
  pgs?: TestPostgres;
}): Promise<void> {
  if (process.env.AGENT_TEST_DEBUG) for (const o of w.hosts?.outputs() ?? []) console.log(o);
  w.hosts?.close();
  await w.leases?.close();
  await w.server?.close();
  await w.pgs?.stop();
}

/**
 * A flow log of `vpcId` (all traffic, 60 s windows) into the new CloudWatch Logs group `group`,
 * delivered by an API node; its ID.
 */
export async function vpcFlowLog(
  server: TestServer,
  creds: Creds,
  vpcId: string,
  group: string,
): Promise<string> {
  await awsJson(server, creds, "logs", "create-log-group", "--log-group-name", group);
  const out = await awsJson(
    server,
    creds,
    "ec2",
    "create-flow-logs",
    "--resource-type",
    "VPC",
    "--resource-ids",
    vpcId,
    "--traffic-type",
    "ALL",
    "--log-destination-type",
    "cloud-watch-logs",
    "--log-group-name",
    group,
    "--deliver-logs-permission-arn",
    "arn:aws:iam::222222222222:role/flow-logs",
    "--max-aggregation-interval",
    "60",
  );
  return out.FlowLogIds[0] as string;
}

/** The provider's target on each host at 127.0.0.1:`port` (the target group's address): it answers `HOST-` and echoes. */
export function targetsOnHosts(hosts: TwoHosts, port: number): void {
  for (const h of ["a", "b"] as const)
    hosts.spawn(h, ["socat", `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `SYSTEM:printf ${h}-; cat`]);
}
