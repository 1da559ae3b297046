import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { startPrivlink } from "../src/privlink.js";
import { type LoadResult, type LoadSpec, SdkLoad } from "./measure.js";

export interface FrontRow extends LoadResult {
  name: string;
  ratioToEdge: number;
}

const CREDS = { accessKeyId: "test", secretAccessKey: "test" };
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
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-front-"));
  const p = await startPrivlink({ port: 0, home, slots: { min: 200, max: 254 }, publicDns: "127.0.253.6" });
  const listener = createServer();
  const load = SdkLoad.start();
  try {
    const ec2 = new EC2Client({ endpoint: p.url, region: "us-east-1", credentials: CREDS, maxAttempts: 1 });
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    const subnetId = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.1.0/24", AvailabilityZone: "us-east-1a" }),
      )
    ).Subnet!.SubnetId!;
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
    const ep = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        VpcEndpointType: "Interface",
        ServiceName: "com.amazonaws.us-east-1.secretsmanager",
        SubnetIds: [subnetId],
        PrivateDnsEnabled: false,
        PolicyDocument: JSON.stringify(policy),
      }),
    );
    ec2.destroy();
    const endpointId = ep.VpcEndpoint!.VpcEndpointId!;
    const eniId = p.state.get("vpcEndpoint", endpointId)!.enis[0]!.eniId;
    listener.on("connection", (socket) =>
      p.front.handle(socket, { endpointId, eniId, clientIp: "10.9.1.77" }),
    );
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const port = (listener.address() as AddressInfo).port;

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
    await load.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await p.close();
    rmSync(home, { recursive: true, force: true });
  }
}
