/**
 * The SDK load generator of the API benchmarks, in a process of its own (started by SdkLoad in
 * bench/measure.ts): the SDK's serialisation, signing and XML parsing cost as much CPU as the
 * server's work, so on a small machine a client in the server's process halves what the server
 * gets and mixes the client's cost into the server's latency.
 *
 * Plain JavaScript on purpose: it imports only the SDK, so it runs the same from bench/*.ts under
 * vitest and from dist/bench/*.js. Every run is bounded in time and in operations.
 */
import { Agent } from "node:https";
import { performance } from "node:perf_hooks";
import { serveRuns } from "./child-ipc.mjs";

const CLIENTS = {
  ec2: ["@aws-sdk/client-ec2", "EC2Client"],
  secretsmanager: ["@aws-sdk/client-secrets-manager", "SecretsManagerClient"],
  elasticloadbalancing: ["@aws-sdk/client-elastic-load-balancing-v2", "ElasticLoadBalancingV2Client"],
  route53: ["@aws-sdk/client-route-53", "Route53Client"],
  sts: ["@aws-sdk/client-sts", "STSClient"],
  logs: ["@aws-sdk/client-cloudwatch-logs", "CloudWatchLogsClient"],
};
const MAX_SECONDS = 30;
const MAX_OPS = 1_000_000;

const clients = new Map();

/** One client per connection settings, reused across runs (keep-alive connections stay warm). */
async function clientFor(spec) {
  const key = JSON.stringify([spec.service, spec.endpoint, spec.tls ?? null, spec.concurrency]);
  const hit = clients.get(key);
  if (hit) return hit;
  const entry = CLIENTS[spec.service];
  if (!entry) throw new Error(`sdk-load: no client for service '${spec.service}'`);
  const mod = await import(entry[0]);
  const config = {
    endpoint: spec.endpoint,
    region: spec.region ?? "us-east-1",
    credentials: spec.credentials ?? { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  };
  if (spec.tls) {
    const { NodeHttpHandler } = await import("@smithy/node-http-handler");
    const address = spec.tls.address;
    const httpsAgent = new Agent({
      ca: spec.tls.ca,
      keepAlive: true,
      maxSockets: spec.concurrency,
      // The endpoint's service name, resolved as a VPC's resolver would: to the endpoint's address.
      lookup: (_host, opts, cb) => (opts?.all ? cb(null, [{ address, family: 4 }]) : cb(null, address, 4)),
    });
    config.requestHandler = new NodeHttpHandler({ httpsAgent });
  }
  const client = { sdk: new mod[entry[1]](config), mod };
  clients.set(key, client);
  return client;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The loop of measure.ts's runFor, with errors counted instead of ending the run. */
async function runFor(send, seconds, concurrency, maxOps) {
  const samples = [];
  let errors = 0;
  let firstError;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + seconds * 1000;
  let started = 0;
  const loop = async () => {
    while (performance.now() < deadline && started < maxOps) {
      const i = started++;
      const t = performance.now();
      try {
        await send(i);
        samples.push(performance.now() - t);
      } catch (err) {
        errors++;
        firstError ??= `${err?.name ?? "Error"}: ${err?.message ?? String(err)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  samples.sort((a, b) => a - b);
  return {
    count: samples.length,
    seconds: elapsed,
    perSec: samples.length / elapsed,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    errors,
    firstError,
    clientCpu: (cpu.user + cpu.system) / 1e6 / elapsed,
  };
}

async function run(spec) {
  const { sdk, mod } = await clientFor(spec);
  const Command = mod[`${spec.command}Command`];
  if (!Command) throw new Error(`sdk-load: no command ${spec.command} for ${spec.service}`);
  const inputs = spec.inputs.length > 0 ? spec.inputs : [{}];
  const concurrency = Math.max(1, Math.min(spec.concurrency, 256));
  const seconds = Math.min(spec.seconds, MAX_SECONDS);
  const maxOps = Math.min(spec.maxOps ?? MAX_OPS, MAX_OPS);
  const send = (i) => sdk.send(new Command(inputs[i % inputs.length]));
  if (spec.warmupSeconds > 0)
    await runFor(send, Math.min(spec.warmupSeconds, MAX_SECONDS), concurrency, spec.warmupOps ?? MAX_OPS);
  return runFor(send, seconds, concurrency, maxOps);
}

serveRuns(run, () => {
  for (const { sdk } of clients.values()) sdk.destroy();
});
