import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { startPrivlink } from "../src/privlink.js";

/**
 * Issue 16: N slow clients on the API edge (each sends a request header one byte a second, as
 * a slowloris does) against one normal SDK client's DescribeVpcs latency, measured before and
 * during; then every slow socket is closed and the process's open descriptors must be back to
 * their baseline. Bounded: `seconds` of slow load, `clients` sockets (default 1,000; the fd
 * limit here is 20,000).
 */
export async function benchSlowClients(opts: { clients?: number; seconds?: number } = {}) {
  const clients = opts.clients ?? 1000;
  const seconds = opts.seconds ?? 5;
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-slow-"));
  const p = await startPrivlink({
    port: 0,
    home,
    auth: "open",
    slots: { min: 200, max: 254 },
    publicDns: "127.0.253.7",
  });
  const ec2 = new EC2Client({
    endpoint: p.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  const fds = () => readdirSync("/proc/self/fd").length;
  const latency = async (n: number) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await ec2.send(new DescribeVpcsCommand({}));
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { p50: ms[Math.floor(n / 2)]!, p99: ms[Math.floor(n * 0.99)]! };
  };
  try {
    await latency(20);
    const baseFds = fds();
    const before = await latency(100);
    const sockets: Socket[] = [];
    for (let i = 0; i < clients; i++) {
      const s = connect(p.port, "127.0.0.1");
      s.on("error", () => undefined);
      s.write("G");
      sockets.push(s);
    }
    const header = "ET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let k = 0;
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(header[k % header.length]!);
      k++;
    }, 1000);
    const deadline = Date.now() + seconds * 1000;
    let during = await latency(50);
    while (Date.now() < deadline) during = await latency(50);
    const open = sockets.filter((s) => !s.destroyed).length;
    clearInterval(drip);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const afterFds = fds();
    return [
      { case: "normal client, no slow clients", p50Ms: round(before.p50), p99Ms: round(before.p99) },
      {
        case: `normal client, ${clients} slow clients`,
        p50Ms: round(during.p50),
        p99Ms: round(during.p99),
        p50Factor: round(during.p50 / before.p50),
        slowStillOpen: open,
      },
      {
        case: "open fds after closing them",
        baseline: baseFds,
        after: afterFds,
        leaked: Math.max(0, afterFds - baseFds),
      },
    ];
  } finally {
    ec2.destroy();
    await p.close();
    rmSync(home, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
