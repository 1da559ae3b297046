/**
 * Issue 19's store benchmark: DescribeVpcs and CreateSubnet through the real SDK against a
 * server on the SQLite file and one on PostgreSQL (a private server on this machine), in the
 * same run; every PostgreSQL row carries its ratio to the SQLite row of the same case.
 * Each server runs in its own process, as users run it; the client runs here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSubnetCommand, CreateVpcCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { PACKAGE_ROOT } from "../src/privlink.js";
import { child } from "./api.js";
import { type Measured, runFor } from "./measure.js";
import { postgresMissing, startPostgres } from "./postgres.js";

export interface StoreRow extends Partial<Measured> {
  case: string;
  store: "sqlite" | "postgres";
  /** perSec against the SQLite server's, same case, same run. */
  vsSqlite?: number;
  note?: string;
}

const client = (endpoint: string) =>
  new EC2Client({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });

export async function benchStore(opts: { seconds?: number; concurrency?: number } = {}): Promise<StoreRow[]> {
  const seconds = opts.seconds ?? 3;
  const concurrency = opts.concurrency ?? 8;
  const rows: StoreRow[] = [...(await measure("sqlite", undefined, seconds, concurrency))];
  const missing = postgresMissing();
  if (missing) return [...rows, { case: "(all)", store: "postgres", note: `skipped: ${missing}` }];
  const pgs = await startPostgres();
  try {
    const pgRows = await measure("postgres", await pgs.createDatabase(), seconds, concurrency);
    for (const r of pgRows) {
      const base = rows.find((b) => b.case === r.case);
      if (base?.perSec && r.perSec) r.vsSqlite = r.perSec / base.perSec;
    }
    return [...rows, ...pgRows];
  } finally {
    await pgs.stop();
  }
}

async function measure(
  store: StoreRow["store"],
  url: string | undefined,
  seconds: number,
  concurrency: number,
): Promise<StoreRow[]> {
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-store-"));
  const args = [join(PACKAGE_ROOT, "bin", "privlink.js"), "up", "--port", "0", "--home", home];
  const p = await child(
    process.execPath,
    [...args, "--slots", "250-254", "--public-dns", "127.0.253.31", ...(url ? ["--store", url] : [])],
    (out) => /endpoint\s+(http:\S+)/.exec(out)?.[1],
  );
  try {
    const ec2 = client(p.url);
    for (let i = 0; i < 10; i++) await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${i}.0.0/16` }));
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.200.0.0/16" }))).Vpc!.VpcId!;
    await runFor(() => ec2.send(new DescribeVpcsCommand({})), { seconds: 0.3, concurrency }); // warm-up
    const describe = await runFor(() => ec2.send(new DescribeVpcsCommand({})), { seconds, concurrency });
    let n = 0;
    const create = await runFor(
      () =>
        ec2.send(
          new CreateSubnetCommand({
            VpcId: vpc,
            CidrBlock: `10.200.${Math.floor(n / 16)}.${(n++ % 16) * 16}/28`,
          }),
        ),
      { seconds, concurrency, maxOps: 4096 },
    );
    return [
      { case: "DescribeVpcs (11 VPCs)", store, ...describe },
      { case: "CreateSubnet (acknowledged once durable)", store, ...create },
    ];
  } finally {
    p.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
