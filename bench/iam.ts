import { type AuthRequest, compilePolicy, evaluate, parsePolicy, requestContext } from "../src/iam/index.js";

const ACCOUNT = "111122223333";

/** A realistic 20-statement endpoint policy: the last statements are the ones that match. */
function twentyStatements(): string {
  const statements: unknown[] = [];
  for (let i = 0; i < 16; i++) {
    statements.push({
      Sid: `Other${i}`,
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/team-${i}` },
      Action: [`secretsmanager:Describe*`, `logs:PutLogEvents`],
      Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:team-${i}/*`,
      Condition: { StringEquals: { "aws:SourceVpce": "vpce-1a2b3c4d" } },
    });
  }
  statements.push(
    {
      Sid: "DenyPlainHttp",
      Effect: "Deny",
      Principal: "*",
      Action: "*",
      Resource: "*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    {
      Sid: "DenyOutsideOrg",
      Effect: "Deny",
      Principal: "*",
      Action: "*",
      Resource: "*",
      Condition: { StringNotEquals: { "aws:PrincipalOrgID": "o-exampleorgid" } },
    },
    {
      Sid: "Home",
      Effect: "Allow",
      Principal: { AWS: ACCOUNT },
      Action: "secretsmanager:GetSecretValue",
      Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:home/\${aws:PrincipalTag/team}/*`,
    },
    {
      Sid: "App",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/app-role` },
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/*`,
      Condition: {
        StringEquals: { "aws:SourceVpce": "vpce-1a2b3c4d" },
        IpAddress: { "aws:VpcSourceIp": "10.0.0.0/16" },
        DateLessThan: { "aws:CurrentTime": "2030-01-01T00:00:00Z" },
      },
    },
  );
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

const WARMUP_MS = 100;
const MEASURE_MS = 700;

function runFor(ms: number, run: () => void): { ops: number; elapsed: number } {
  // Batches keep the clock out of the measured loop.
  const batch = 1000;
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) run();
    ops += batch;
    elapsed = performance.now() - start;
  }
  return { ops, elapsed };
}

function measure(name: string, run: () => void): { name: string; opsPerSec: number } {
  runFor(WARMUP_MS, run);
  const { ops, elapsed } = runFor(MEASURE_MS, run);
  return { name, opsPerSec: Math.round((ops / elapsed) * 1000) };
}

/** Evaluations per second of a 20-statement policy, about 1.6 s in all (warm-up included). */
export async function benchIam(): Promise<{ name: string; opsPerSec: number }[]> {
  const policy = compilePolicy(parsePolicy(twentyStatements(), { kind: "endpoint" }));
  const principal = {
    type: "AWS" as const,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/i-0abc`,
    userId: "AROAEXAMPLE:i-0abc",
    tags: { team: "payments" },
  };
  const context = requestContext({
    principal,
    sourceVpce: "vpce-1a2b3c4d",
    vpcSourceIp: "10.0.7.9",
    secureTransport: true,
    region: "us-east-1",
    now: new Date("2026-01-01T00:00:00Z"),
    orgId: "o-exampleorgid",
  });
  const allowed: AuthRequest = {
    principal,
    action: "secretsmanager:GetSecretValue",
    resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/db-AbCdEf`,
    context,
  };
  const denied: AuthRequest = { ...allowed, action: "secretsmanager:PutSecretValue" };
  return [
    measure("iam: 20-statement policy, allowed request", () => evaluate(policy, allowed)),
    measure("iam: 20-statement policy, implicitly denied request", () => evaluate(policy, denied)),
  ];
}
