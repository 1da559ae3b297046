import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { BENCH_CREDS as CREDS, startFrontBench } from "./front-fixture.js";
import type { LoadResult, LoadSpec } from "./measure.js";

export interface FrontRow extends LoadResult {
  name: string;
  ratioToEdge: number;
}

const SM_HOST = "secretsmanager.us-east-1.amazonaws.com";

/**
 * Issue 6's benchmark: GetSecretValue per second and latency through an interface endpoint's
 * service front (TLS, SigV4, endpoint policy and resource policy evaluation) against the same
 * call straight to the plain-HTTP edge, in the same run, with the same SDK client settings. The
 * endpoint carries a realistic restrictive policy so that evaluation is real work. The SDK
 * clients run in a process of their own (bench/sdk-load.mjs): privlink keeps this process's core.
 */
export async function benchFront(opts: { seconds?: number; concurrency?: number } = {}): Promise<FrontRow[]> {
  const seconds = opts.seconds ?? 3;
  const concurrency = opts.concurrency ?? 16;
  const policy = {
    Statement: [
      {
        Effect: "Allow",
        Principal: "*",
        Action: "secretsmanager:GetSecretValue",
        Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/*",
      },
      {
        Effect: "Deny",
        Principal: "*",
        Action: "*",
        Resource: "*",
        Condition: { NotIpAddress: { "aws:VpcSourceIp": "10.9.0.0/16" } },
      },
    ],
  };
  const { p, port, load, close } = await startFrontBench("secretsmanager", policy, "127.0.253.6");
  try {
    const edge = new SecretsManagerClient({
      endpoint: p.url,
      region: "us-east-1",
      credentials: CREDS,
      maxAttempts: 1,
    });
    await edge.send(
      new CreateSecretCommand({ Name: "prod/db", SecretString: '{"user":"app","password":"s3cret"}' }),
    );
    edge.destroy();
    const get = (endpoint: string, tls?: LoadSpec["tls"]): LoadSpec => ({
      service: "secretsmanager",
      endpoint,
      tls,
      command: "GetSecretValue",
      inputs: [{ SecretId: "prod/db" }],
      seconds,
      concurrency,
      // Warms both paths (TLS sessions, leaf issuance, JIT) before measuring.
      warmupSeconds: 0.5,
      warmupOps: 500,
    });
    const straight = await load.run(get(p.url));
    const front = await load.run(
      get(`https://${SM_HOST}:${port}`, { ca: p.ca.certPem, address: "127.0.0.1" }),
    );
    return [
      { name: "GetSecretValue via edge (HTTP)", ...straight, ratioToEdge: 1 },
      {
        name: "GetSecretValue via endpoint front (TLS + policies)",
        ...front,
        ratioToEdge: front.perSec / straight.perSec,
      },
    ];
  } finally {
    await close();
  }
}
