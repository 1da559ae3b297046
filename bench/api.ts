import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { PACKAGE_ROOT } from "../src/privlink.js";
import { type Measured, runFor } from "./measure.js";

export interface ApiRow extends Measured {
  name: string;
  ratioToCeiling: number;
}

const FIXED_XML =
  '<?xml version="1.0" encoding="UTF-8"?><DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>00000000-0000-0000-0000-000000000000</requestId><vpcSet><item><vpcId>vpc-0123456789abcdef0</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock><isDefault>false</isDefault></item></vpcSet></DescribeVpcsResponse>';

function client(endpoint: string): EC2Client {
  return new EC2Client({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
}

/**
 * Issue 2's benchmark: API requests per second and latency through the real SDK for
 * DescribeVpcs and CreateSubnet, against the ceiling of a minimal node:http server that returns
 * a fixed XML body, measured in the same run with the same client.
 */
export async function benchApi(opts: { seconds?: number; concurrency?: number } = {}): Promise<ApiRow[]> {
  const seconds = opts.seconds ?? 3;
  const concurrency = opts.concurrency ?? 16;
  // Servers run in their own processes, as users run them: the client's CPU is not theirs.
  const ceilingServer = await child(
    process.execPath,
    [
      "-e",
      `require("node:http").createServer((q,s)=>{q.resume();q.on("end",()=>s.writeHead(200,{"content-type":"text/xml"}).end(${JSON.stringify(FIXED_XML)}))}).listen(0,"127.0.0.1",function(){console.log("http://127.0.0.1:"+this.address().port)})`,
    ],
    (out) => /http:\/\/\S+/.exec(out)?.[0],
  );
  const ceilingUrl = ceilingServer.url;
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-api-"));
  const p = await child(
    process.execPath,
    [join(PACKAGE_ROOT, "bin", "privlink.js"), "up", "--port", "0", "--home", home, "--slots", "200-254"],
    (out) => /endpoint\s+(http:\S+)/.exec(out)?.[1],
  );
  try {
    const ceilingClient = client(ceilingUrl);
    await runFor(() => ceilingClient.send(new DescribeVpcsCommand({})), { seconds: 0.3, concurrency }); // warm-up
    const ceiling = await runFor(() => ceilingClient.send(new DescribeVpcsCommand({})), {
      seconds,
      concurrency,
    });
    const ec2 = client(p.url);
    for (let i = 0; i < 10; i++) await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${i}.0.0/16` }));
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.200.0.0/16" }))).Vpc!.VpcId!;
    const describe = await runFor(() => ec2.send(new DescribeVpcsCommand({})), { seconds, concurrency });
    let n = 0;
    const created: string[] = [];
    const create = await runFor(
      async () => {
        const i = n++;
        const s = await ec2.send(
          new CreateSubnetCommand({
            VpcId: vpc,
            CidrBlock: `10.200.${Math.floor(i / 16)}.${(i % 16) * 16}/28`,
          }),
        );
        created.push(s.Subnet!.SubnetId!);
      },
      { seconds, concurrency, maxOps: 4096 },
    );
    for (const id of created.splice(0)) await ec2.send(new DeleteSubnetCommand({ SubnetId: id }));
    return [
      { name: "ceiling: node:http fixed XML (DescribeVpcs via SDK)", ...ceiling, ratioToCeiling: 1 },
      {
        name: "privlink DescribeVpcs (11 VPCs)",
        ...describe,
        ratioToCeiling: describe.perSec / ceiling.perSec,
      },
      {
        name: "privlink CreateSubnet (committed to SQLite)",
        ...create,
        ratioToCeiling: create.perSec / ceiling.perSec,
      },
    ];
  } finally {
    p.stop();
    ceilingServer.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Starts a server process and waits until `urlOf(output)` finds its URL (at most 15 s). */
export async function child(
  cmd: string,
  args: string[],
  urlOf: (out: string) => string | undefined,
): Promise<{ url: string; stop(): void }> {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`server did not start: ${out}`));
    }, 15_000);
    const onData = (d: Buffer) => {
      out += d;
      const url = urlOf(out);
      if (url) {
        clearTimeout(timer);
        resolve({ url, stop: () => proc.kill("SIGTERM") });
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", (d) => (out += d));
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}): ${out}`));
    });
  });
}
