/**
 * The network targets of `npm run fuzz`: bytes a workload sends to privlink's sockets, mutated
 * from real clients' bytes (test/fuzz/corpus/{dns,tls,connect,proxy-v2}: dig, curl, openssl,
 * Node's TLS, the AWS CLI, privlink's and proxy-protocol-js's PROXY encoders).
 *
 *   dns      — the VPC resolver (127.S.0.2) over UDP and TCP: mutated and framed-wrong queries,
 *              compression loops, truncated labels; every answer must decode, none be SERVFAIL
 *              (no forwarder is configured, so a SERVFAIL is an internal error);
 *   tls      — ClientHellos to an AWS-service endpoint's listener (the service front) and to the
 *              workload proxy's own TLS (a refused CONNECT to an AWS name is answered in TLS);
 *   connect  — CONNECT and absolute-URL requests to the workload's HTTP proxy: an HTTP answer or
 *              a close, never a 5xx but 502 (the upstream could not be reached);
 *   proxy-v2 — PROXY protocol v2 headers to the decoder: a header, "need more bytes", or a
 *              TypeError naming what is wrong; never another exception, never past the buffer.
 * Every socket target: no hang (each connection closes within its bound after the client's FIN),
 * nothing left open afterwards, and a real request is answered at the end.
 *
 * `--in-process` (NetFuzzOptions.inProcess): the same inputs and checks without the kernel. Each
 * connection is an in-memory socket pair whose server end goes where the listener would hand
 * an accepted socket (the service front, the workload proxy, the DNS server's TCP framing), and
 * UDP queries go to the DNS responder the resolver's socket calls; the real request at the end
 * still goes over the network to the running world.
 */
import dgram from "node:dgram";
import { readdirSync, readFileSync } from "node:fs";
import { connect, isIP, type Socket } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import packet from "dns-packet";
import { Responder } from "../src/dns/responder.js";
import { TcpConnection } from "../src/dns/server.js";
import { decodeProxyV2, encodeProxyV2 } from "../src/net/proxy-v2.js";
import { PACKAGE_ROOT } from "../src/privlink.js";
import { finding, mutateBinary, type Tally, tally } from "./fuzz-mutate.js";
import { socketPair } from "./fuzz-pipe.js";
import { type NetWorld, SM_NAME, startNetWorld } from "./net-world.js";

export const NET_TARGETS = ["dns", "tls", "connect", "proxy-v2"] as const;
export type NetTarget = (typeof NET_TARGETS)[number];

export interface NetFuzzOptions {
  slots?: { min: number; max: number };
  publicDns?: string;
  /** In-memory sockets into the handlers instead of the kernel's (see the header). */
  inProcess?: boolean;
}

type Where = "front" | "proxy" | "resolver";
/** Opens a connection as the workload to one of the world's sockets (or its handler, in-process). */
type Dial = (where: Where) => Duplex;

/** How long one connection may stay open after the client's FIN before it counts as a hang. */
const HANG_MS = 15_000;
/** Inputs in flight at once on the socket targets. */
const BATCH = 16;

/** The binary seeds of a corpus directory. */
export function binCorpus(dir: string): { name: string; bytes: Buffer }[] {
  const at = join(PACKAGE_ROOT, "test/fuzz/corpus", dir);
  return readdirSync(at)
    .filter((f) => f.endsWith(".bin"))
    .sort()
    .map((f) => ({ name: f, bytes: readFileSync(join(at, f)) }));
}

/** What the targets that need privlink running get: the world, how to dial it, the PRNG. */
interface WorldCtx {
  w: NetWorld;
  dial: Dial;
  inProcess: boolean;
  rand: () => number;
}

/**
 * One network target as a record: what its mutations start from, how one input is sent and
 * what comes back must look like. `fuzzNet` drives every record through the same loop: a batch
 * of mutated seeds sent at once, each outcome checked, then `settle` (answers that arrive
 * unmatched, as UDP's) and, after the inputs, `after` (a real request is still answered).
 */
interface NetTargetRecord<Out> {
  seeds: Buffer[];
  /** Inputs in flight at once. */
  batch: number;
  /** Default `mutateBinary`. */
  mutate?(seed: Buffer, rand: () => number): Buffer;
  /** Sends input number `i`; what comes back (or "hang": open past HANG_MS after the client's FIN). */
  send(input: Buffer, i: number): Promise<Out> | Out;
  check(r: Tally, input: Buffer, out: Out, i: number): void;
  settle?(r: Tally): Promise<void>;
  after?(r: Tally): Promise<void>;
  close?(): void;
}

/** Erases a record's outcome type for the table below (its methods only meet each other). */
function record<Out>(t: NetTargetRecord<Out>): NetTargetRecord<unknown> {
  return t as unknown as NetTargetRecord<unknown>;
}

/** Each target: whether it needs privlink running, and how its record is made. */
const RECORDS: {
  [T in NetTarget]:
    | { world: true; make(c: WorldCtx): Promise<NetTargetRecord<unknown>> }
    | { world: false; make(rand: () => number): NetTargetRecord<unknown> };
} = {
  dns: { world: true, make: dnsTarget },
  tls: { world: true, make: async (c) => tlsTarget(c) },
  connect: { world: true, make: async (c) => connectTarget(c) },
  "proxy-v2": { world: false, make: proxyV2Target },
};

export async function fuzzNet(
  target: NetTarget,
  r: Tally,
  count: number,
  deadline: number,
  rand: () => number,
  opts: NetFuzzOptions = {},
): Promise<void> {
  const entry = RECORDS[target];
  if (!entry.world) return drive(entry.make(rand), r, count, deadline, rand);
  const w = await startNetWorld(opts);
  try {
    const inProcess = opts.inProcess === true;
    const dial = inProcess ? inProcessDial(w) : networkDial(w);
    const t = await entry.make({ w, dial, inProcess, rand });
    try {
      await drive(t, r, count, deadline, rand);
    } finally {
      t.close?.();
    }
    await noLeftovers(w, r);
  } finally {
    await w.close();
  }
}

async function drive(
  t: NetTargetRecord<unknown>,
  r: Tally,
  count: number,
  deadline: number,
  rand: () => number,
): Promise<void> {
  const mutate = t.mutate ?? mutateBinary;
  for (let i = 0; i < count && Date.now() < deadline; i += t.batch) {
    const n = Math.min(t.batch, count - i);
    const inputs = Array.from({ length: n }, (_, j) => mutate(t.seeds[(i + j) % t.seeds.length]!, rand));
    const outs = await Promise.all(inputs.map((q, j) => t.send(q, i + j)));
    for (const [j, out] of outs.entries()) {
      r.inputs++;
      t.check(r, inputs[j]!, out, i + j);
    }
    await t.settle?.(r);
  }
  await t.after?.(r);
}

function networkDial(w: NetWorld): Dial {
  return (where) => {
    if (where === "proxy") return connect({ host: w.proxy.host, port: w.proxy.port });
    const to = where === "front" ? w.front : w.resolver;
    return connect({ host: to.host, port: to.port, localAddress: w.workloadHost });
  };
}

/** The server end of each pair goes where the listener of `where` hands its accepted sockets. */
function inProcessDial(w: NetWorld): Dial {
  const { state } = w.p;
  const workloadIp = state.get("eni", state.get("instance", w.instanceId)!.eniId)!.privateIp;
  const smEniId = state.get("vpcEndpoint", w.front.endpointId)!.enis[0]!.eniId;
  const responder = new Responder({ view: () => w.p.dns.view(w.vpcId) });
  return (where) => {
    const to = where === "front" ? w.front : where === "proxy" ? w.proxy : w.resolver;
    const { client, server } = socketPair(w.workloadHost, to.host, to.port);
    const sock = server as unknown as Socket;
    if (where === "front")
      w.p.front.handle(sock, { endpointId: w.front.endpointId, eniId: smEniId, clientIp: workloadIp });
    else if (where === "proxy") void w.p.dataplane.proxies.accept(w.instanceId, sock);
    else new TcpConnection(sock, responder, 10_000);
    return client;
  };
}

// ---- DNS ----

/**
 * Three inputs in four over UDP from the workload, the rest over TCP (some with mangled framing).
 * UDP answers are not matched to their (mutated) query: after each batch a real query for a
 * sentinel name collects them, and its own answer shows the resolver still answers.
 * In-process, UDP inputs go to the responder the resolver's socket calls (with the VPC's view)
 * and come back as the input's answer; TCP ones go through the server's framing.
 */
async function dnsTarget({ w, dial, inProcess, rand }: WorldCtx): Promise<NetTargetRecord<unknown>> {
  const responder = new Responder({ view: () => w.p.dns.view(w.vpcId) });
  const udp = dgram.createSocket("udp4");
  await new Promise<void>((res) => udp.bind(0, w.workloadHost, res));
  const replies: Buffer[] = [];
  udp.on("message", (m) => replies.push(m));
  let sentinel = 0;
  return record<Buffer[] | "hang">({
    // TCP captures are length-prefixed streams: their messages are seeds too.
    seeds: binCorpus("dns").map((s) => (s.name.startsWith("tcp-") ? s.bytes.subarray(2) : s.bytes)),
    batch: BATCH * 4,
    send: async (q, i) => {
      if (i % 4 === 3) return dnsOverTcp(dial, q, rand);
      if (!inProcess) {
        udp.send(q, w.resolver.port, w.resolver.host);
        return [];
      }
      const a = await responder.handle(q, "udp");
      return a ? [a] : [];
    },
    check: (r, _q, out, i) => {
      const transport = i % 4 === 3 ? "tcp" : "udp";
      if (out === "hang") finding(r, "TCP: a connection stayed open after the client's FIN");
      else for (const a of out) checkDnsAnswer(r, a, transport);
    },
    settle: async (r) => {
      if (inProcess) return;
      const mark = `sentinel-${sentinel++}.app.internal`;
      if (!(await udpUntil(udp, w, mark, replies)))
        finding(r, `UDP: the resolver stopped answering (no answer to ${mark})`);
      for (const a of replies.splice(0)) checkDnsAnswer(r, a, "udp");
    },
    after: async (r) => {
      const q = packet.encode({ type: "query", id: 1, questions: [{ name: "db.app.internal", type: "A" }] });
      if (inProcess) {
        const a = await responder.handle(q, "udp");
        if (!a || !packet.decode(a).answers?.some((x) => x.type === "A"))
          finding(r, "the responder's answer to a real query after fuzzing has no A record");
      }
      // Over the network in both modes: the resolver's own socket still answers.
      const after = await udpUntil(udp, w, "db.app.internal", replies, 5000);
      const a = after && packet.decode(after).answers?.find((x) => x.type === "A");
      if (!a) finding(r, "a real query after fuzzing got no A record");
    },
    close: () => udp.close(),
  });
}

/** Sends a real query for `name` and waits for its answer (replies before it stay in `replies`). */
function udpUntil(
  udp: dgram.Socket,
  w: NetWorld,
  name: string,
  replies: Buffer[],
  ms = 5000,
): Promise<Buffer | undefined> {
  const id = Math.floor(Math.random() * 0xffff);
  const q = packet.encode({
    type: "query",
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: "A" }],
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), ms);
    const onMessage = (m: Buffer) => {
      if (m.length >= 12 && m.readUInt16BE(0) === id && m.includes(Buffer.from(name.split(".")[0]!))) {
        replies.splice(replies.lastIndexOf(m), 1);
        done(m);
      }
    };
    const done = (m: Buffer | undefined) => {
      clearTimeout(timer);
      udp.off("message", onMessage);
      resolve(m);
    };
    udp.on("message", onMessage);
    udp.send(q, w.resolver.port, w.resolver.host);
  });
}

/** One TCP connection: the query framed (or framed wrong), a FIN, then every answer until close. */
function dnsOverTcp(dial: Dial, q: Buffer, rand: () => number): Promise<Buffer[] | "hang"> {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(q.length & 0xffff);
  let bytes: Buffer = Buffer.concat([len, q]);
  const pick = rand();
  if (pick < 0.15) bytes = mutateBinary(bytes, rand);
  else if (pick < 0.3) bytes = Buffer.concat([bytes, bytes]);
  return sendAndClose(dial("resolver"), bytes).then((all) => {
    if (all === "hang") return all;
    const out: Buffer[] = [];
    for (let at = 0; at + 2 <= all.length; ) {
      const n = all.readUInt16BE(at);
      out.push(all.subarray(at + 2, at + 2 + n));
      at += 2 + n;
    }
    return out;
  });
}

function checkDnsAnswer(r: Tally, a: Buffer, transport: "udp" | "tcp"): void {
  let d: packet.Packet;
  try {
    d = packet.decode(a);
  } catch (err) {
    finding(
      r,
      `${transport}: an answer that does not decode (${(err as Error).message}): ${a.toString("hex")}`,
    );
    return;
  }
  const rcode = (d as { rcode?: string }).rcode ?? "?";
  tally(r, `${transport}:${rcode}`);
  if (rcode === "SERVFAIL") finding(r, `${transport}: SERVFAIL (an internal error) for ${a.toString("hex")}`);
  if (transport === "udp" && a.length > 1232) finding(r, `udp: an answer of ${a.length} bytes`);
}

// ---- TLS ----

/** ClientHellos: one in four through the workload proxy's own TLS (a refused AWS name), the rest to the front. */
function tlsTarget({ w, dial, inProcess }: WorldCtx): NetTargetRecord<unknown> {
  const viaProxy = (i: number) => i % 4 === 3;
  return record<Buffer | "hang">({
    seeds: binCorpus("tls").map((s) => s.bytes),
    batch: inProcess ? BATCH * 4 : BATCH,
    send: (hello, i) =>
      viaProxy(i) ? tlsViaProxy(dial("proxy"), hello) : sendAndClose(dial("front"), hello),
    check: (r, hello, out, i) => {
      const where = viaProxy(i) ? "proxy" : "front";
      if (out === "hang")
        finding(
          r,
          `${where}: a connection stayed open after the client's FIN <= ${hello.toString("hex").slice(0, 400)}`,
        );
      else
        tally(
          r,
          `${where}:${out.length === 0 ? "closed" : out[0] === 0x16 ? "handshake" : out[0] === 0x15 ? "alert" : out.subarray(0, 12).toString("latin1")}`,
        );
    },
    after: async (r) => {
      const answer = await realTlsRequest(w);
      if (!answer.startsWith("HTTP/1.1 "))
        finding(r, `a real TLS request after fuzzing got: ${answer.slice(0, 200)}`);
    },
  });
}

/** On a new connection: sends `bytes`, half-closes, and collects the answer until the close. */
function sendAndClose(sock: Duplex, bytes: Buffer): Promise<Buffer | "hang"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      resolve("hang");
    }, HANG_MS);
    sock.on("data", (d) => chunks.push(d));
    sock.on("error", () => undefined);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    sock.end(bytes);
  });
}

/** CONNECT to an AWS name the workload has no path to: the proxy answers in TLS; then the hello. */
function tlsViaProxy(sock: Duplex, hello: Buffer): Promise<Buffer | "hang"> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let head = true;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve("hang");
    }, HANG_MS);
    sock.on("data", (d) => {
      if (!head) return void chunks.push(d);
      head = false;
      if (/^HTTP\/1\.1 200/.test(d.toString("latin1"))) sock.end(hello);
      else sock.end();
    });
    sock.on("error", () => undefined);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    sock.write(
      "CONNECT sts.us-east-1.amazonaws.com:443 HTTP/1.1\r\nHost: sts.us-east-1.amazonaws.com:443\r\n\r\n",
    );
  });
}

/** A real client: TLS to the Secrets Manager endpoint as its public name, trusting privlink's CA. */
function realTlsRequest(w: NetWorld): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const s = tlsConnect({
      socket: connect({ host: w.front.host, port: w.front.port, localAddress: w.workloadHost }),
      servername: SM_NAME,
      ca: w.p.ca.certPem,
    });
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on("secureConnect", () => s.write(`GET / HTTP/1.1\r\nHost: ${SM_NAME}\r\nConnection: close\r\n\r\n`));
    s.on("data", (d) => (got += d.toString("latin1")));
    s.on("error", (e) => (got ||= `error: ${e.message}`));
    s.on("close", () => {
      clearTimeout(timer);
      resolve(got);
    });
  });
}

// ---- CONNECT ----

/** CONNECT and absolute-URL requests to the workload's proxy: an HTTP answer or a close, no 5xx but 502. */
function connectTarget({ w, dial, inProcess }: WorldCtx): NetTargetRecord<unknown> {
  const echoIp = w.p.state.get(
    "eni",
    w.p.state.get("vpcEndpoint", w.echo.endpointId)!.enis[0]!.eniId,
  )!.privateIp;
  return record<Buffer | "hang">({
    seeds: [
      ...binCorpus("connect").map((s) => s.bytes),
      // Admitted tunnels with bytes after the head: through the echo endpoint and back.
      Buffer.from(`CONNECT ${echoIp}:7070 HTTP/1.1\r\nHost: ${echoIp}:7070\r\n\r\nhello`),
      Buffer.from(
        `GET http://${echoIp}:7070/ HTTP/1.1\r\nHost: ${echoIp}:7070\r\nContent-Length: 2\r\n\r\nhi`,
      ),
    ],
    batch: inProcess ? BATCH * 4 : BATCH,
    send: (q) => sendAndClose(dial("proxy"), q),
    check: (r, q, a) => {
      const input = q.toString("latin1").slice(0, 300);
      if (a === "hang") return finding(r, `a connection stayed open after the client's FIN <= ${input}`);
      const text = a.toString("latin1");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      tally(r, status ? `${Math.floor(status / 100)}xx` : a.length ? "bytes" : "closed");
      if (status >= 500 && status !== 502) finding(r, `${status}: ${text.slice(0, 200)} <= ${input}`);
    },
    after: async (r) => {
      const after = await sendAndClose(
        networkDial(w)("proxy"),
        Buffer.from(`CONNECT ${echoIp}:7070 HTTP/1.1\r\n\r\nping`),
      );
      if (after === "hang" || !/^HTTP\/1\.1 200[\s\S]*ping$/.test(after.toString("latin1")))
        finding(r, `a real CONNECT after fuzzing got: ${after.toString().slice(0, 200)}`);
    },
  });
}

/** After the inputs: no connection left open in the front, the echo target or the proxies. */
async function noLeftovers(w: NetWorld, r: Tally): Promise<void> {
  const until = Date.now() + 5000;
  while (Date.now() < until && (w.p.front.openSockets > 0 || w.echoOpen() > 0))
    await new Promise((res) => setTimeout(res, 100));
  if (w.p.front.openSockets > 0) finding(r, `the service front still holds ${w.p.front.openSockets} sockets`);
  if (w.echoOpen() > 0) finding(r, `${w.echoOpen()} relayed connections still open to the target`);
}

// ---- PROXY protocol v2 ----

/** PROXY v2 headers straight to the decoder: no world, no sockets. */
function proxyV2Target(): NetTargetRecord<unknown> {
  return record<Buffer>({
    seeds: binCorpus("proxy-v2").map((s) => s.bytes),
    batch: 1024,
    mutate: (seed, rand) => {
      const input = mutateBinary(seed, rand);
      // The stream goes on after the header: whatever follows must not change the decoding.
      return rand() < 0.3 ? Buffer.concat([input, Buffer.from("GET / HTTP/1.1\r\n")]) : input;
    },
    send: (input) => input,
    check: (r, input) => checkProxyV2(r, input),
  });
}

export function checkProxyV2(r: Tally, input: Buffer): void {
  const hex = input.toString("hex").slice(0, 300);
  let d: ReturnType<typeof decodeProxyV2>;
  try {
    d = decodeProxyV2(input);
  } catch (err) {
    if (err instanceof TypeError) tally(r, "rejected");
    else finding(r, `threw ${(err as Error).name}: ${(err as Error).message} <= ${hex}`);
    return;
  }
  if (d === undefined) {
    tally(r, "incomplete");
    if (input.length >= 16 && input.length >= 16 + input.readUInt16BE(14))
      finding(r, `asked for more bytes of a complete header <= ${hex}`);
    return;
  }
  tally(r, `${d.command}:${d.family}`);
  if (d.length !== 16 + input.readUInt16BE(14) || d.length > input.length)
    finding(r, `length ${d.length} does not match the header <= ${hex}`);
  if ((input[12]! & 0x0f) > 1) finding(r, `accepted command ${input[12]! & 0x0f} <= ${hex}`);
  if (d.source && d.destination) {
    if (!isIP(d.source.address) || !isIP(d.destination.address))
      finding(r, `decoded a non-address ${d.source.address} / ${d.destination.address} <= ${hex}`);
    try {
      encodeProxyV2({ source: d.source, destination: d.destination });
    } catch (err) {
      finding(r, `decoded addresses the encoder refuses (${(err as Error).message}) <= ${hex}`);
    }
  }
}
