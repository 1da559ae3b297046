/** Small DNS clients for tests: raw UDP/TCP exchanges and a `dig` runner with a parser for its output. */
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { existsSync } from "node:fs";
import net from "node:net";
import packet from "dns-packet";

export const HOST = "127.0.0.1";
export const DIG = "/usr/bin/dig";
export const hasDig = existsSync(DIG);

/** Sends one datagram and waits for the reply (rejects after `ms` without one). */
export function udpExchange(port: number, msg: Buffer, ms = 3000, host = HOST): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error("no UDP reply"));
    }, ms);
    sock.on("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.send(msg, port, host);
  });
}

/** Opens one TCP connection, sends the messages framed (all at once), returns `expect` replies. */
export function tcpExchange(
  port: number,
  msgs: Buffer[],
  expect = msgs.length,
  opts: { halfClose?: boolean; raw?: Buffer; host?: string } = {},
): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: opts.host ?? HOST, port, allowHalfOpen: true });
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`got ${replies.length} of ${expect} TCP replies`));
    }, 5000);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(replies);
    };
    sock.on("connect", () => {
      const framed = msgs.map((m) => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(m.length);
        return Buffer.concat([len, m]);
      });
      sock.write(Buffer.concat([...framed, ...(opts.raw ? [opts.raw] : [])]));
      if (opts.halfClose) sock.end();
      if (expect === 0) done();
    });
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length >= expect) done();
    });
    sock.on("error", reject);
    // The server hung up before answering everything: report what came back.
    const hungUp = () => {
      if (replies.length < expect) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    };
    sock.on("end", hungUp);
    sock.on("close", hungUp);
  });
}

export function query(
  name: string,
  type: string,
  opts: { id?: number; edns?: number; do?: boolean; flags?: number } = {},
): Buffer {
  const additionals: packet.Answer[] = [];
  if (opts.edns !== undefined)
    additionals.push({
      type: "OPT",
      name: ".",
      udpPayloadSize: opts.edns,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: opts.do ? packet.DNSSEC_OK : 0,
      flag_do: !!opts.do,
      options: [],
    });
  return packet.encode({
    type: "query",
    id: opts.id ?? 4242,
    flags: opts.flags ?? packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType, class: "IN" }],
    additionals,
  });
}

export type DigResult = {
  status: string;
  opcode: string;
  flags: string[];
  /** Each record as its whitespace-separated fields: name, ttl, class, type, rdata... */
  answer: string[][];
  authority: string[][];
  question: string[][];
  ednsUdp?: number;
  retriedTcp: boolean;
  raw: string;
};

export function dig(port: number, args: string[]): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile(
      DIG,
      [`@${HOST}`, "-p", String(port), "+tries=1", "+time=3", ...args],
      { timeout: 15_000 },
      (err, stdout) => {
        if (err && !stdout) return reject(err);
        resolve(parseDig(stdout));
      },
    );
  });
}

export function parseDig(out: string): DigResult {
  const r: DigResult = {
    status: "",
    opcode: "",
    flags: [],
    answer: [],
    authority: [],
    question: [],
    retriedTcp: out.includes("retrying in TCP mode"),
    raw: out,
  };
  let section: "answer" | "authority" | "question" | undefined;
  for (const line of out.split("\n")) {
    const h = /opcode: (\w+), status: (\w+)/.exec(line);
    if (h) [r.opcode, r.status] = [h[1]!, h[2]!];
    const f = /^;; flags:([^;]*);/.exec(line);
    if (f) r.flags = f[1]!.trim().split(/\s+/).filter(Boolean);
    const e = /udp: (\d+)/.exec(line);
    if (e && line.startsWith("; EDNS")) r.ednsUdp = Number(e[1]);
    if (line.startsWith(";; ANSWER SECTION")) section = "answer";
    else if (line.startsWith(";; AUTHORITY SECTION")) section = "authority";
    else if (line.startsWith(";; QUESTION SECTION")) section = "question";
    else if (line.trim() === "" || line.startsWith(";;")) section = undefined;
    else if (section === "question") r.question.push(line.slice(1).trim().split(/\s+/));
    else if (section) r[section].push(line.trim().split(/\s+/));
  }
  return r;
}

/** A decoded record, loosely typed: dns-packet's union lacks `data` on OPT and `rcode` on packets. */
export type AnyRecord = {
  name: string;
  type: string;
  ttl?: number;
  data?: any;
  udpPayloadSize?: number;
  flag_do?: boolean;
  ednsVersion?: number;
  extendedRcode?: number;
};

export type Decoded = Omit<packet.DecodedPacket, "answers" | "authorities" | "additionals"> & {
  rcode: string;
  opcode: string;
  answers: AnyRecord[];
  authorities: AnyRecord[];
  additionals: AnyRecord[];
};

export const decode = (b: Buffer): Decoded => packet.decode(b) as unknown as Decoded;
