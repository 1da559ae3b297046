/**
 * The raw replay client of bench/api-cpu.ts, in a process of its own (pinned to another core than
 * the server under test): each input is signed once by the SDK itself (its serialiser, its host
 * header, its SigV4 signer), captured as the exact bytes it would send, and those bytes are
 * replayed over keep-alive connections, one request in flight per connection. The client's own
 * cost (the SDK's serialisation, signing and XML parsing) is thus out of the loop: what the server
 * under test spends per request is what is measured, as in issue 15's independent harness.
 *
 * Plain JavaScript on purpose, like sdk-load.mjs: it imports only the SDK. Every run is bounded
 * in time and in requests.
 */
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { serveRuns } from "./child-ipc.mjs";

const MAX_SECONDS = 60;
const MAX_REQUESTS = 1_000_000;

class Captured extends Error {
  constructor(request) {
    super("captured");
    this.request = request;
  }
}

/**
 * The raw HTTP/1.1 bytes the SDK would send for each input (signed now, valid 15 minutes), for
 * the server at `signPort`: the baseline is sent the very bytes privlink is.
 */
export async function signAll(spec) {
  const { EC2Client } = await import("@aws-sdk/client-ec2");
  const mod = await import("@aws-sdk/client-ec2");
  const Command = mod[`${spec.command}Command`];
  if (!Command) throw new Error(`raw-replay: no command ${spec.command}`);
  const client = new EC2Client({
    endpoint: `http://${spec.host}:${spec.signPort ?? spec.port}`,
    region: spec.region ?? "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    requestHandler: {
      metadata: { handlerProtocol: "http/1.1" },
      handle: async (request) => {
        throw new Captured(request);
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    },
  });
  const out = [];
  for (const input of spec.inputs) {
    try {
      await client.send(new Command(input));
      throw new Error("raw-replay: the request was not captured");
    } catch (err) {
      if (!(err instanceof Captured)) throw err;
      out.push(rawOf(err.request));
    }
  }
  client.destroy();
  return out;
}

function rawOf(request) {
  const query = Object.entries(request.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  const body = Buffer.from(request.body ?? "");
  const lines = [`${request.method} ${request.path}${query ? `?${query}` : ""} HTTP/1.1`];
  const headers = { ...request.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-length"))
    headers["content-length"] = String(body.length);
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push("connection: keep-alive", "", "");
  return Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]);
}

const HEAD_END = Buffer.from("\r\n\r\n");

/**
 * One keep-alive connection answering `next()` requests in turn. Responses are framed by their
 * content-length (both servers under test send one); anything else counts as an error.
 */
function connection(spec, raws, state) {
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port, noDelay: true });
    let pending = Buffer.alloc(0);
    let need = -1;
    let status = 0;
    const sendNext = () => {
      if (performance.now() >= state.deadline || state.started >= state.max) {
        socket.end();
        return resolve();
      }
      const i = state.first + state.started++;
      socket.write(raws[i % raws.length]);
    };
    socket.on("connect", sendNext);
    socket.on("data", (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        if (need < 0) {
          const end = pending.indexOf(HEAD_END);
          if (end < 0) return;
          const head = pending.subarray(0, end).toString("latin1");
          status = Number(head.slice(9, 12));
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          if (!m) {
            state.errors++;
            state.firstError ??= `no content-length: ${head.slice(0, 200)}`;
            socket.destroy();
            return resolve();
          }
          need = end + 4 + Number(m[1]);
        }
        if (pending.length < need) return;
        if (status === 200) state.count++;
        else {
          state.errors++;
          state.firstError ??= `HTTP ${status}: ${pending.subarray(0, Math.min(need, 600)).toString("latin1")}`;
        }
        pending = pending.subarray(need);
        need = -1;
        sendNext();
      }
    });
    socket.on("error", (err) => {
      state.errors++;
      state.firstError ??= String(err);
      resolve();
    });
  });
}

async function replay(spec, raws, requests, first) {
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const state = {
    deadline: start + Math.min(spec.seconds, MAX_SECONDS) * 1000,
    max: Math.min(requests, MAX_REQUESTS),
    first,
    started: 0,
    count: 0,
    errors: 0,
    firstError: undefined,
  };
  const conns = Math.max(1, Math.min(spec.connections ?? 4, 64));
  await Promise.all(Array.from({ length: conns }, () => connection(spec, raws, state)));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    started: state.started,
    count: state.count,
    errors: state.errors,
    firstError: state.firstError,
    seconds,
    perSec: state.count / seconds,
    clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

/** Signed bytes by request signature, so a case's rounds replay the very same bytes. */
const signed = new Map();
/**
 * Where each server's next run starts in a case's inputs: where its last run stopped. Starting
 * every run at the first input replayed, at each round's start, the inputs the server had just
 * answered and still held prepared, so "each request a new read" rows were partly repeats.
 */
const cursors = new Map();

async function run(spec) {
  const key = JSON.stringify([spec.host, spec.signPort ?? spec.port, spec.command, spec.inputs]);
  let raws = signed.get(key);
  if (!raws) {
    raws = await signAll(spec);
    signed.set(key, raws);
  }
  const at = `${key}|${spec.port}`;
  const first = cursors.get(at) ?? 0;
  const out = await replay(spec, raws, spec.requests, first);
  cursors.set(at, (first + out.started) % raws.length);
  return out;
}

// Run as the bench's child only: bench/api-cpu-ab.mjs imports signAll from here.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) serveRuns(run);
