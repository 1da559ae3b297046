import { spawn } from "node:child_process";
import { isIP } from "node:net";
import { constants, networkInterfaces } from "node:os";
import type { Command } from "commander";
import type { WorkloadNamespaceReply } from "../api/admin-namespace.js";
import type { WorkloadProxyInfo } from "../net/workload-proxy.js";
import { admin, serverNetwork } from "./client.js";

/**
 * What POST /_privlink/workloads/proxy answers: the proxy and the TLS environment for its
 * programs; on an API-only node also the agent whose host runs the proxy (docs/agents.md).
 */
export type WorkloadProxyReply = WorkloadProxyInfo & {
  env: Record<string, string>;
  agent?: string;
  agentAddress?: string;
};

export async function workloadProxy(workload: string): Promise<WorkloadProxyReply> {
  const reply = await admin<WorkloadProxyReply>("POST", "/_privlink/workloads/proxy", { workload });
  // The proxy listens on the agent's host: from another host its address reaches nothing (or
  // something else). Only a warning: behind NAT the advertised address is not a local one.
  if (reply.agentAddress && !isLocalAddress(reply.agentAddress))
    process.stderr.write(
      `privlink: warning: ${workload} is served by agent ${reply.agent} (${reply.agentAddress}), whose host runs its proxy at ${reply.url}: run this command on that host\n`,
    );
  return reply;
}

/** Whether an agent's host:port names this host (a loopback or one of its interfaces' addresses). */
function isLocalAddress(address: string): boolean {
  const host = address.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  if (isIP(host) === 0) return true;
  if (host.startsWith("127.") || host === "::1") return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === host));
}

const PROXY_VARS = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] as const;

/**
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (what `privlink env` exports for the edge)
 * would send a workload's SDK straight to privlink's public edge; inside a VPC the SDK must
 * resolve the service's real name, so that private DNS, routes and endpoints decide.
 */
export function isEndpointUrlVar(name: string): boolean {
  return name === "AWS_ENDPOINT_URL" || name.startsWith("AWS_ENDPOINT_URL_");
}

/**
 * The environment CMD runs in: every proxy variable at the workload's proxy, NO_PROXY cleared
 * (or localhost-style exceptions would bypass the workload's network), the caller's
 * AWS_ENDPOINT_URL* removed, the CA bundle, and AWS credentials kept from the caller, else the
 * default account's.
 */
export function workloadEnv(base: NodeJS.ProcessEnv, reply: WorkloadProxyReply): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    ...reply.env,
    NO_PROXY: "",
    no_proxy: "",
    PRIVLINK_WORKLOAD: reply.workloadId,
  };
  for (const k of PROXY_VARS) env[k] = reply.url;
  return withAwsDefaults(env, base);
}

/**
 * Namespace mode: the command's own connections leave from the instance's private IP, so no
 * proxy variable is set, and the caller's are removed (they would bypass the VPC).
 */
export function namespaceEnv(base: NodeJS.ProcessEnv, reply: WorkloadNamespaceReply): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...reply.env, PRIVLINK_WORKLOAD: reply.instanceId };
  for (const k of [...PROXY_VARS, "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]) delete env[k];
  return withAwsDefaults(env, base);
}

/** No AWS_ENDPOINT_URL*, the caller's credentials or the default account's, one region. */
function withAwsDefaults(env: NodeJS.ProcessEnv, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  for (const k of Object.keys(env)) if (isEndpointUrlVar(k)) delete env[k];
  const hasCredentials = base.AWS_ACCESS_KEY_ID || base.AWS_PROFILE || base.AWS_WEB_IDENTITY_TOKEN_FILE;
  if (!hasCredentials) {
    env.AWS_ACCESS_KEY_ID = "test";
    env.AWS_SECRET_ACCESS_KEY = "test";
  }
  env.AWS_DEFAULT_REGION ??= base.AWS_REGION ?? "us-east-1";
  // The SDK v3 reads only AWS_REGION, the CLI v1 only AWS_DEFAULT_REGION: both name one region.
  env.AWS_REGION ??= env.AWS_DEFAULT_REGION;
  return env;
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export function registerExecCommand(program: Command): void {
  program
    .command("exec")
    .description(
      "run a command as a workload (i-…, eni-… or an instance's Name): its connections leave from the workload's address through a proxy that enforces security groups, routes and endpoints; AWS_ENDPOINT_URL* are removed so AWS SDKs and the CLI call the services' real names",
    )
    .requiredOption(
      "--from <workload>",
      "the instance (i-… or the Name tag of a running instance), network interface (eni-…) or on-premises site (site:NAME, site:NAME:IP) to act as",
    )
    .argument("<command...>", "the command, after --")
    .action(async (command: string[], o: { from: string }) => {
      const [file, args, env] =
        serverNetwork() === "netns"
          ? await inNamespace(o.from, command)
          : [command[0]!, command.slice(1), workloadEnv(process.env, await workloadProxy(o.from))];
      const child = spawn(file, args, { stdio: "inherit", env });
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      for (const s of SIGNALS) process.on(s, forward);
      const code = await new Promise<number>((resolve) => {
        child.once("error", (err) => {
          process.stderr.write(`privlink: cannot run ${command[0]}: ${err.message}\n`);
          resolve(127);
        });
        child.once("exit", (c, signal) => resolve(c ?? 128 + signalNumber(signal)));
      });
      for (const s of SIGNALS) process.off(s, forward);
      process.exitCode = code;
    });
}

/**
 * `ip netns exec NS CMD`, dropping back to the invoking user under sudo: entering a namespace
 * needs root, the command itself does not.
 */
async function inNamespace(from: string, command: string[]): Promise<[string, string[], NodeJS.ProcessEnv]> {
  if (process.getuid?.() !== 0)
    throw new Error(
      "entering an instance's network namespace needs root (CAP_SYS_ADMIN): run 'sudo privlink exec …' (the command runs as you)",
    );
  const reply = await admin<WorkloadNamespaceReply>("POST", "/_privlink/workloads/namespace", {
    workload: from,
  });
  const uid = process.env.SUDO_UID;
  const gid = process.env.SUDO_GID;
  const asCaller =
    uid && gid && uid !== "0" ? ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--init-groups", "--"] : [];
  return [
    "ip",
    ["netns", "exec", reply.namespace, ...asCaller, ...command],
    namespaceEnv(process.env, reply),
  ];
}

/** A child killed by a signal exits 128 + its number, as shells report it. */
function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && constants.signals[signal]) || constants.signals.SIGTERM;
}
