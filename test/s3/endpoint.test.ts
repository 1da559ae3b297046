import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws, runCli } from "../helpers/spawn.js";

/**
 * S3 through an interface endpoint, driven by the unmodified AWS CLI run as a workload
 * (`privlink exec --from app`) with AWS's documented endpoint URL
 * `https://bucket.vpce-….s3.<region>.vpce.amazonaws.com`.
 */
let srv: TestServer;
let shell: NodeJS.ProcessEnv;
let endpointId: string;
let bucketUrl: string;
let work: string;

async function aws(args: string[]): Promise<Record<string, any>> {
  const r = await runAws([...args, "--endpoint-url", srv.url, "--output", "json"], shell);
  if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

function asApp(args: string[]) {
  return runCli(["exec", "--from", "app", "--", "aws", ...args, "--endpoint-url", bucketUrl], shell);
}

beforeAll(async () => {
  srv = await startTestServer();
  shell = { ...srv.cliEnv(), PRIVLINK_URL: srv.url };
  work = mkdtempSync(join(tmpdir(), "privlink-s3-"));
  const vpc = (await aws(["ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"])).Vpc.VpcId;
  const subnet = (
    await aws([
      "ec2",
      "create-subnet",
      "--vpc-id",
      vpc,
      "--cidr-block",
      "10.0.1.0/24",
      "--availability-zone",
      "us-east-1a",
    ])
  ).Subnet.SubnetId;
  const sg = (
    await aws(["ec2", "create-security-group", "--vpc-id", vpc, "--group-name", "s3", "--description", "s3"])
  ).GroupId;
  await aws([
    "ec2",
    "authorize-security-group-ingress",
    "--group-id",
    sg,
    "--protocol",
    "tcp",
    "--port",
    "443",
    "--cidr",
    "10.0.0.0/16",
  ]);
  await aws([
    "ec2",
    "run-instances",
    "--image-id",
    "ami-12345678",
    "--count",
    "1",
    "--subnet-id",
    subnet,
    "--tag-specifications",
    "ResourceType=instance,Tags=[{Key=Name,Value=app}]",
  ]);
  const ep = (
    await aws([
      "ec2",
      "create-vpc-endpoint",
      "--vpc-id",
      vpc,
      "--vpc-endpoint-type",
      "Interface",
      "--service-name",
      "com.amazonaws.us-east-1.s3",
      "--subnet-ids",
      subnet,
      "--security-group-ids",
      sg,
      "--no-private-dns-enabled",
    ])
  ).VpcEndpoint;
  endpointId = ep.VpcEndpointId;
  let state = ep.State;
  for (let i = 0; i < 40 && state !== "available"; i++)
    state = (await aws(["ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", endpointId])).VpcEndpoints[0]
      .State;
  expect(state).toBe("available");
  const wildcard = (ep.DnsEntries as { DnsName: string }[])[0]!.DnsName;
  expect(wildcard).toMatch(/^\*\.vpce-[0-9a-f]+-[a-z0-9]+\.s3\.us-east-1\.vpce\.amazonaws\.com$/);
  bucketUrl = `https://bucket.${wildcard.slice(2)}`;
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("S3 through an interface endpoint", () => {
  it("`aws s3 sync` of 200 files (100 MB) goes up and back byte-identical", async () => {
    const up = join(work, "up");
    const down = join(work, "down");
    mkdirSync(join(up, "nested"), { recursive: true });
    const size = 500 * 1000;
    for (let i = 0; i < 200; i++)
      writeFileSync(join(up, i % 2 ? "nested" : "", `file-${i}.bin`), randomBytes(size));
    await aws(["s3api", "create-bucket", "--bucket", "sync-bucket"]);
    const put = await asApp(["s3", "sync", up, "s3://sync-bucket/data", "--only-show-errors"]);
    expect(put.stderr).toBe("");
    expect(put.code).toBe(0);
    const get = await asApp(["s3", "sync", "s3://sync-bucket/data", down, "--only-show-errors"]);
    expect(get.stderr).toBe("");
    expect(get.code).toBe(0);
    const files = (dir: string) =>
      readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files(down)).toHaveLength(200);
    for (const f of files(up)) {
      const rel = join(f.parentPath, f.name).slice(up.length);
      expect(readFileSync(join(down, rel)).equals(readFileSync(join(up, rel))), rel).toBe(true);
    }
    // A second sync has nothing to do: sizes and times match what the listing says.
    const again = await asApp(["s3", "sync", up, "s3://sync-bucket/data", "--dryrun"]);
    expect(again.stdout).toBe("");
  }, 180_000);

  it("a bucket policy requiring aws:SourceVpce denies the edge and allows the endpoint", async () => {
    const s3 = new S3Client({
      endpoint: srv.url,
      region: "us-east-1",
      credentials: srv.credentials,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: "vpce-only" }));
    await s3.send(new PutObjectCommand({ Bucket: "vpce-only", Key: "report.txt", Body: "private" }));
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::vpce-only/*",
          Condition: { StringNotEquals: { "aws:SourceVpce": endpointId } },
        },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: "vpce-only", Policy: JSON.stringify(policy) }));
    const edge = await fails(s3.send(new GetObjectCommand({ Bucket: "vpce-only", Key: "report.txt" })));
    expect(edge).toMatchObject({ name: "AccessDenied", status: 403 });
    expect(edge.message).toBe(
      'User: arn:aws:iam::000000000000:root is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::vpce-only/report.txt" with an explicit deny in a resource-based policy',
    );
    const out = join(work, "report.txt");
    const viaEndpoint = await asApp(["s3", "cp", "s3://vpce-only/report.txt", out]);
    expect(viaEndpoint.stderr).toBe("");
    expect(readFileSync(out, "utf8")).toBe("private");
  });

  it("an endpoint policy allowing only GetObject refuses uploads with S3's AccessDenied", async () => {
    const policy = {
      Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }],
    };
    await aws([
      "ec2",
      "modify-vpc-endpoint",
      "--vpc-endpoint-id",
      endpointId,
      "--policy-document",
      JSON.stringify(policy),
    ]);
    const file = join(work, "small.txt");
    writeFileSync(file, "x");
    const put = await asApp(["s3", "cp", file, "s3://vpce-only/small.txt"]);
    expect(put.code).not.toBe(0);
    expect(put.stderr).toContain("AccessDenied");
    expect(put.stderr).toContain("because no VPC endpoint policy allows the s3:PutObject action");
    await aws(["ec2", "modify-vpc-endpoint", "--vpc-endpoint-id", endpointId, "--reset-policy"]);
  });
});
