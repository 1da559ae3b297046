/**
 * `npm run fuzz -- TARGET [--count N] [--seconds S] [--seed N] [--in-process]`: mutates real requests captured
 * from the AWS SDK (test/fuzz/corpus/) and feeds them to privlink's parsers of outside bytes.
 *
 * Targets:
 *   query, json, rest-xml — the wire decoders and handlers of every service the edge serves,
 *                           through the same dispatch as the edge (auth open, so mutated bytes
 *                           reach the decoders); json includes CloudWatch's JSON 1.0 and CBOR;
 *   cbor                  — CloudWatch's Smithy RPC v2 CBOR bodies, mutated as binary;
 *   sigv4                 — header and presigned-query parsing and verification (auth verify):
 *                           mutations of Authorization, X-Amz-Date and the query string;
 *   http                  — raw mutated HTTP/1.1 bytes on a real socket to the API edge;
 *   dns, tls, connect, proxy-v2 — the workload-facing sockets (bench/fuzz-net.ts).
 * `--in-process`: the socket targets (http, dns, tls, connect) hand in-memory sockets to the
 * handlers their listeners feed (node:http's parser and the edge, the service front's TLS, the
 * workload proxy, the DNS responder and TCP framing) instead of the kernel's: the same parsing,
 * several times the inputs per second, for the 1,000,000-input runs. The other targets always
 * run in-process (the decoders and SigV4 through `dispatchAws`, the PROXY v2 decoder).
 * Properties: nothing throws out of the dispatcher; no 5xx but AWS's InternalError/
 * ServiceUnavailable (each counted and reported as a finding with its message) and the deliberate
 * 501 NotImplemented for a service name privlink does not serve (counted apart); memory stays
 * bounded; a real request is answered afterwards. Prints one line per target (inputs, wall and CPU
 * time, inputs per CPU-second — the rate that holds on a shared machine — heap growth, peak RSS);
 * exits 1 on a finding.
 */
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { type AwsRequest, type AwsResponse, dispatchAws } from "../src/api/dispatch.js";
import { createApiServer } from "../src/api/server.js";
import { STATE_SERVICES } from "../src/api/state-services.js";
import { ensureDefaultAccount } from "../src/cloud/account.js";
import { systemRuntime } from "../src/cloud/runtime.js";
import { State } from "../src/cloud/state.js";
import { PACKAGE_ROOT } from "../src/privlink.js";
import { CloudWatchAlarms } from "../src/services/cloudwatch/alarms.js";
import { cloudWatchHandlers } from "../src/services/cloudwatch/handlers.js";
import { CloudWatchMetrics } from "../src/services/cloudwatch/metrics.js";
import { SqliteMetricStore } from "../src/services/cloudwatch/store.js";
import { LogEventStore } from "../src/services/logs/event-store.js";
import { logsHandlers } from "../src/services/logs/handlers.js";
import { snsHandlers } from "../src/services/sns/handlers.js";
import { finding, mutateBinary, mutateBytes, prng } from "./fuzz-mutate.js";
import { fuzzNet, NET_TARGETS, type NetFuzzOptions, type NetTarget } from "./fuzz-net.js";
import { socketPair } from "./fuzz-pipe.js";

export const TARGETS = ["query", "json", "cbor", "rest-xml", "sigv4", "http", ...NET_TARGETS] as const;
export type Target = (typeof TARGETS)[number];

export interface FuzzResult {
  target: Target;
  inputs: number;
  /** Answers by status class, e.g. { "2xx": 10, "4xx": 9990 }. */
  statuses: Record<string, number>;
  /** Problems: a throw, a hang, a non-AWS 5xx, an InternalError, memory growth, no answer after. */
  findings: string[];
  heapGrowthMb: number;
  ms: number;
  /** CPU time of the process (user + system) over the run: the rate that holds on a loaded machine. */
  cpuMs: number;
  /** The process's peak resident set so far (process.resourceUsage().maxRSS). */
  peakRssMb: number;
}

interface Seed {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

const CORPUS = join(PACKAGE_ROOT, "test/fuzz/corpus");

export function corpus(dir: string): Seed[] {
  return readdirSync(join(CORPUS, dir))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const j = JSON.parse(readFileSync(join(CORPUS, dir, f), "utf8"));
      return { method: j.method, url: j.url, headers: j.headers, body: Buffer.from(j.body, "base64") };
    });
}

function mutateText(s: string, rand: () => number): string {
  return mutateBytes(Buffer.from(s, "latin1"), rand).toString("latin1");
}

/** One mutated request: the body, the URL, or a header (sigv4 mutates the signature parts). */
function mutate(seed: Seed, target: Target, rand: () => number): AwsRequest {
  const headers: Record<string, string> = { ...seed.headers };
  let url = seed.url;
  let body = seed.body;
  const what = rand();
  if (target === "sigv4") {
    if (what < 0.5 && headers.authorization) headers.authorization = mutateText(headers.authorization, rand);
    else if (what < 0.7) headers["x-amz-date"] = mutateText(headers["x-amz-date"] ?? "", rand);
    else {
      // The same request as a presigned URL with mangled parameters.
      const auth = /Credential=([^,]+), SignedHeaders=([^,]+), Signature=(\w+)/.exec(
        headers.authorization ?? "",
      );
      const q = new URLSearchParams({
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": auth?.[1] ?? "",
        "X-Amz-Date": headers["x-amz-date"] ?? "",
        "X-Amz-Expires": String(Math.floor(rand() * 1_000_000) - 10),
        "X-Amz-SignedHeaders": auth?.[2] ?? "host",
        "X-Amz-Signature": auth?.[3] ?? "",
      });
      delete headers.authorization;
      url = `${seed.url.split("?")[0]}?${mutateText(q.toString(), rand)}`;
    }
  } else if (target === "cbor") body = mutateBinary(body, rand);
  else if (what < 0.6) body = mutateBytes(body, rand);
  else if (what < 0.8) url = mutateText(url, rand);
  else {
    const keys = Object.keys(headers);
    const k = keys[Math.floor(rand() * keys.length)]!;
    headers[k] = mutateText(headers[k]!, rand);
  }
  const headersDistinct = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  return { method: seed.method, url, headers, headersDistinct, body };
}

/** Every service the edge serves (as src/privlink.ts wires them), stores in memory, SNS without delivery. */
const metrics = new CloudWatchMetrics(new SqliteMetricStore(":memory:"), () => systemRuntime.now());
export const SERVICES = {
  ...STATE_SERVICES,
  monitoring: cloudWatchHandlers(metrics, new CloudWatchAlarms(metrics, () => systemRuntime.now())),
  logs: logsHandlers(new LogEventStore(":memory:")),
  sns: snsHandlers({ push: () => undefined }),
};

function freshState(): State {
  const state = new State();
  state.transact((tx) => ensureDefaultAccount(tx, systemRuntime));
  return state;
}

/**
 * The one 5xx privlink answers on purpose: 501 NotImplemented for an AWS service it has no
 * handlers for (src/api/unimplemented.ts). A mutation of the service name (credential scope,
 * X-Amz-Target prefix, Route 53 path) names a service privlink does not serve, and that answer,
 * in the service's own error envelope, is what the SDKs and the CLI print instead of retrying.
 * Accepted only when it names a service outside `served`: a 501 for a served one is a finding.
 */
export function isDeliberateNotImplemented(status: number, text: string, served: readonly string[]): boolean {
  if (status !== 501) return false;
  const code =
    /"__type":"NotImplemented"|<Code>NotImplemented<\/Code>|x-amzn-errortype: NotImplemented/i.test(text);
  const named = /does not implement the AWS service (?:'|&apos;)(.*?)(?:'|&apos;)[.,]/s.exec(text)?.[1];
  return code && named !== undefined && !served.includes(named);
}

function classify(res: AwsResponse, r: FuzzResult, input: string): void {
  const cls = `${Math.floor(res.status / 100)}xx`;
  r.statuses[cls] = (r.statuses[cls] ?? 0) + 1;
  if (res.status < 500) return;
  const body = typeof res.body === "string" ? res.body : Buffer.from(res.body).toString("utf8");
  const errorType = String(res.headers?.["x-amzn-errortype"] ?? "");
  if (
    isDeliberateNotImplemented(res.status, `${body}\nx-amzn-errortype: ${errorType}`, Object.keys(SERVICES))
  ) {
    r.statuses.notImplemented = (r.statuses.notImplemented ?? 0) + 1;
    return;
  }
  const aws = /InternalError|ServiceUnavailable|InternalFailure|InternalServiceError/.test(body);
  // An InternalError is AWS-shaped but still a bug here: report it with what caused it.
  finding(
    r,
    `${aws ? "InternalError" : `non-AWS ${res.status}`}: ${body.slice(0, 300)} <= ${input.slice(0, 300)}`,
  );
}

/** Fuzzes one target in this process; bounded by `count` inputs and `seconds`. */
export async function fuzz(
  target: Target,
  opts: { count?: number; seconds?: number; seed?: number } & NetFuzzOptions = {},
): Promise<FuzzResult> {
  const count = opts.count ?? 1_000_000;
  const deadline = Date.now() + (opts.seconds ?? 600) * 1000;
  const rand = prng(opts.seed ?? 1);
  const r: FuzzResult = {
    target,
    inputs: 0,
    statuses: {},
    findings: [],
    heapGrowthMb: 0,
    ms: 0,
    cpuMs: 0,
    peakRssMb: 0,
  };
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  if (target === "http") await fuzzHttp(r, count, deadline, rand, opts.inProcess === true);
  else if ((NET_TARGETS as readonly string[]).includes(target))
    await fuzzNet(target as NetTarget, r, count, deadline, rand, opts);
  else {
    const seeds =
      target === "sigv4"
        ? [...corpus("query"), ...corpus("json"), ...corpus("rest-xml")]
        : target === "cbor"
          ? corpus("json").filter((s) => s.headers["content-type"] === "application/cbor")
          : corpus(target);
    // A decoder that prints on bad input lets any client fill the server's log: a finding.
    const quiet = silenceConsole((line) => finding(r, `printed to the console: ${line.slice(0, 300)}`));
    let state = freshState();
    const opts0 = { state, rt: systemRuntime, host: { slots: { min: 1, max: 254 } }, services: SERVICES };
    const auth = target === "sigv4" ? ("verify" as const) : ("open" as const);
    for (let i = 0; i < count && Date.now() < deadline; i++) {
      // A fresh state now and then keeps memory about the inputs, not about what they created.
      if (i % 2000 === 0) state = freshState();
      const req = mutate(seeds[i % seeds.length]!, target, rand);
      try {
        classify(
          await dispatchAws({ ...opts0, state, auth }, req),
          r,
          `${req.method} ${req.url} ${req.body?.toString("latin1")}`,
        );
      } catch (err) {
        finding(r, `threw ${(err as Error).stack}`);
      }
      r.inputs++;
    }
    quiet.restore();
    // Still answers a real request (the unmutated seeds, freshly signed by the SDK at capture time).
    if (target !== "sigv4") {
      const real = seeds[0]!;
      const res = await dispatchAws(
        { ...opts0, state: freshState(), auth: "open" },
        {
          ...real,
          headersDistinct: Object.fromEntries(Object.entries(real.headers).map(([k, v]) => [k, [v]])),
        },
      );
      if (res.status >= 500) r.findings.push(`a real request after fuzzing answered ${res.status}`);
    }
  }
  global.gc?.();
  r.heapGrowthMb = Math.round((process.memoryUsage().heapUsed - heap0) / 1e5) / 10;
  if (r.heapGrowthMb > 256) r.findings.push(`heap grew ${r.heapGrowthMb} MB`);
  r.ms = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  r.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  r.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  return r;
}

/** Routes console output to `seen` until restored. */
function silenceConsole(seen: (line: string) => void): { restore(): void } {
  const methods = ["log", "info", "warn", "error", "debug"] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => seen(args.map(String).join(" "));
  return {
    restore: () => {
      methods.forEach((m, i) => {
        console[m] = saved[i]!;
      });
    },
  };
}

/** Raw bytes on a socket to a real API server: request lines, headers, framing. */
async function fuzzHttp(
  r: FuzzResult,
  count: number,
  deadline: number,
  rand: () => number,
  inProcess: boolean,
): Promise<void> {
  const seeds = [...corpus("query"), ...corpus("json"), ...corpus("rest-xml")].map((s) =>
    Buffer.concat([
      Buffer.from(
        `${s.method} ${s.url} HTTP/1.1\r\n${Object.entries(s.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join("\r\n")}\r\n\r\n`,
        "latin1",
      ),
      s.body,
    ]),
  );
  const server = createApiServer({
    state: freshState(),
    rt: systemRuntime,
    host: { slots: { min: 1, max: 254 } },
    auth: "open",
    services: SERVICES,
    admin: {},
  });
  server.headersTimeout = 2000;
  server.requestTimeout = 2000;
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const port = (server.address() as { port: number }).port;
  const network = (): Duplex => connect(port, "127.0.0.1");
  // In-process: what the listener does with an accepted socket, with an in-memory one.
  const inMemory = (): Duplex => {
    const { client, server: end } = socketPair("127.0.0.1", "127.0.0.1", port);
    server.emit("connection", end as unknown as Socket);
    return client;
  };
  const send = (bytes: Buffer, dial = inProcess ? inMemory : network): Promise<string> =>
    new Promise((resolve) => {
      const sock = dial();
      let got = "";
      const timer = setTimeout(() => {
        sock.destroy();
        resolve("(timeout)");
      }, 5000);
      sock.on("data", (d) => (got += d.toString("latin1")));
      sock.on("error", () => undefined);
      sock.on("close", () => {
        clearTimeout(timer);
        resolve(got);
      });
      sock.end(bytes);
    });
  try {
    const batch = inProcess ? 64 : 16;
    for (let i = 0; i < count && Date.now() < deadline; i += batch) {
      const inputs = Array.from({ length: Math.min(batch, count - i) }, (_, j) =>
        mutateBytes(seeds[(i + j) % seeds.length]!, rand),
      );
      const answers = await Promise.all(inputs.map((b) => send(b)));
      answers.forEach((a, j) => {
        r.inputs++;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(a)?.[1] ?? 0);
        const cls = status ? `${Math.floor(status / 100)}xx` : a === "(timeout)" ? "timeout" : "closed";
        r.statuses[cls] = (r.statuses[cls] ?? 0) + 1;
        if (isDeliberateNotImplemented(status, a, Object.keys(SERVICES))) return;
        if (a === "(timeout)" || (status >= 500 && !/InternalError|ServiceUnavailable/.test(a)))
          finding(r, `${cls}: ${a.slice(0, 200)} <= ${inputs[j]!.toString("latin1").slice(0, 200)}`);
      });
    }
    const after = await send(seeds[0]!, network);
    if (!/^HTTP\/1\.1 [234]\d\d/.test(after))
      r.findings.push(`a real request after fuzzing got: ${after.slice(0, 200)}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
  }
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : Number(process.argv[i + 1]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const named = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith("--") && !/^--(count|seconds|seed)$/.test(all[i - 1] ?? ""));
  const targets = named.length ? named : [...TARGETS];
  let bad = 0;
  for (const t of targets) {
    if (!(TARGETS as readonly string[]).includes(t))
      throw new Error(`unknown target '${t}' (${TARGETS.join(", ")})`);
    const r = await fuzz(t as Target, {
      count: arg("count"),
      seconds: arg("seconds") ?? 600,
      seed: arg("seed"),
      inProcess: process.argv.includes("--in-process"),
    });
    process.stdout.write(
      `${t}: ${r.inputs} inputs in ${(r.ms / 1000).toFixed(1)} s (CPU ${(r.cpuMs / 1000).toFixed(1)} s, ${Math.round((r.inputs * 1000) / Math.max(1, r.cpuMs))} inputs per CPU-second), ${JSON.stringify(r.statuses)}, heap +${r.heapGrowthMb} MB, peak RSS ${r.peakRssMb} MB, findings ${r.findings.length}\n`,
    );
    for (const f of r.findings) process.stdout.write(`  ${f}\n`);
    bad += r.findings.length;
  }
  process.exitCode = bad ? 1 : 0;
}
