import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll } from "vitest";
import { type Privlink, type PrivlinkOptions, startPrivlink } from "../../src/privlink.js";
import { adminJson } from "./admin.js";
import { postgresMissing, startPostgres, type TestPostgres } from "./postgres.js";

/**
 * Each vitest worker gets its own band of host-address slots, so servers in parallel test files
 * never bind the same 127.S.x.y. VITEST_POOL_ID is 1..N; 8 workers × 30 slots stay below 254.
 */
export function workerSlots(width = 30): { min: number; max: number } {
  const id = Number(process.env.VITEST_POOL_ID ?? "1");
  const band = ((id - 1) % 8) * width;
  return { min: band + 1, max: band + width };
}

let servers = 0;

/**
 * A public resolver address of this worker's own (127.0.x.y is never a VPC slot): servers in
 * parallel workers, and successive servers in one worker, never share one.
 */
export function testPublicDns(): string {
  const id = Number(process.env.VITEST_POOL_ID ?? "1");
  servers++;
  return `127.0.${154 + (servers % 100)}.${id % 250}`;
}

export interface TestServer extends Privlink {
  credentials: { accessKeyId: string; secretAccessKey: string };
  ec2(region?: string, creds?: { accessKeyId: string; secretAccessKey: string }): EC2Client;
  sts(region?: string, creds?: { accessKeyId: string; secretAccessKey: string }): STSClient;
  /** Environment for the AWS CLI against this server. */
  cliEnv(creds?: { accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv;
  /** Calls an admin route (`/_privlink/…`) with this server's admin token; the JSON it answers. */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * PRIVLINK_TEST_STORE=postgres runs every test server on PostgreSQL (the store matrix): one
 * private PostgreSQL server per test file, started with the file's first server and stopped
 * after its last test, and a fresh database per home: a server restarted on the same home (the
 * durability tests) finds its database again, as it would find its SQLite file.
 */
const TEST_STORE = process.env.PRIVLINK_TEST_STORE;
let testPostgres: Promise<TestPostgres> | undefined;
const databaseOfHome = new Map<string, string>();
if (TEST_STORE === "postgres")
  afterAll(async () => {
    await (await testPostgres?.catch(() => undefined))?.stop();
    testPostgres = undefined;
    databaseOfHome.clear();
  });

async function testStore(home: string): Promise<string | undefined> {
  if (TEST_STORE === undefined || TEST_STORE === "sqlite") return undefined;
  if (TEST_STORE !== "postgres")
    throw new Error(`PRIVLINK_TEST_STORE is sqlite or postgres, not '${TEST_STORE}'`);
  const missing = postgresMissing();
  if (missing) throw new Error(`PRIVLINK_TEST_STORE=postgres: ${missing}`);
  testPostgres ??= startPostgres();
  const known = databaseOfHome.get(home);
  if (known) return known;
  const url = await (await testPostgres).createDatabase();
  databaseOfHome.set(home, url);
  return url;
}

export async function startTestServer(opts: PrivlinkOptions = {}): Promise<TestServer> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), "privlink-test-"));
  const store = opts.store ?? (await testStore(home));
  const p = await startPrivlink({
    port: 0,
    home,
    slots: workerSlots(),
    publicDns: testPublicDns(),
    ...opts,
    store,
  });
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const clientConfig = (region: string, creds = credentials) => ({
    endpoint: p.url,
    region,
    credentials: creds,
    maxAttempts: 1,
  });
  return Object.assign(p, {
    credentials,
    ec2: (region = "us-east-1", creds = credentials) => new EC2Client(clientConfig(region, creds)),
    sts: (region = "us-east-1", creds = credentials) => new STSClient(clientConfig(region, creds)),
    cliEnv: (creds = credentials): NodeJS.ProcessEnv => ({
      ...process.env,
      AWS_ENDPOINT_URL: p.url,
      // The privlink CLI finds this server and its admin token through these.
      PRIVLINK_URL: p.url,
      PRIVLINK_HOME: p.home,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    }),
    admin: <T>(method: string, path: string, body?: unknown) => adminJson<T>(p, method, path, body),
    async stop() {
      await p.close();
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  });
}
