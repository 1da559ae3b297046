import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "commander";
import type { WorkloadProxyInfo } from "../net/workload-proxy.js";
import { admin } from "./client.js";

/** What POST /_privlink/workloads/proxy answers: the proxy and the TLS environment for its programs. */
export type WorkloadProxyReply = WorkloadProxyInfo & { env: Record<string, string> };

export function workloadProxy(workload: string): Promise<WorkloadProxyReply> {
  return admin<WorkloadProxyReply>("POST", "/_privlink/workloads/proxy", { workload });
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
  for (const k of Object.keys(env)) if (isEndpointUrlVar(k)) delete env[k];
  for (const k of PROXY_VARS) env[k] = reply.url;
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
      const reply = await workloadProxy(o.from);
      const child = spawn(command[0]!, command.slice(1), {
        stdio: "inherit",
        env: workloadEnv(process.env, reply),
      });
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

/** A child killed by a signal exits 128 + its number, as shells report it. */
function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && constants.signals[signal]) || constants.signals.SIGTERM;
}
