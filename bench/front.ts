import { mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:https";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startPrivlink } from "../src/privlink.js";
import { type Measured, runFor } from "./measure.js";

export interface FrontRow extends Measured {
  name: string;
  ratioToEdge: number;
}

const CREDS = { accessKeyId: "test", secretAccessKey: "test" };
const SM_HOST = "secretsmanager.us-east-1.amazonaws.com";

/**
 * Issue 6's benchmark: GetSecretValue per second and latency through an interface endpoint's
 * service front (TLS, SigV4, endpoint policy and resource policy evaluation) against the same
 * call straight to the plain-HTTP edge, in the same process and run, with the same SDK client
 * settings. The endpoint carries a realistic restrictive policy so that evaluation is real work.
 */
export async function benchFront(opts: { seconds?: number; concurrency?: number } = {}): Promise<FrontRow[]> {
  const seconds = opts.seconds ?? 3;
  const concurrency = opts.concurrency ?? 16;
  const home = mkdtempSync(join(tmpdir(), "privlink-bench-front-"));
  const p = await startPrivlink({ port: 0, home, slots: { min: 200, max: 254 }, publicDns: "127.0.253.6" });
  const listener = createServer();
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
    const agent = new Agent({
      ca: p.ca.certPem,
      keepAlive: true,
      maxSockets: concurrency,
      lookup: ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
        o?.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as never,
    });
    const viaFront = new SecretsManagerClient({
      endpoint: `https://${SM_HOST}:${port}`,
      region: "us-east-1",
      credentials: CREDS,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent: agent }),
    });
    const get = (c: SecretsManagerClient) => () => c.send(new GetSecretValueCommand({ SecretId: "prod/db" }));
    // Warm both paths (TLS sessions, leaf issuance, JIT) before measuring.
    await runFor(get(edge), { seconds: 0.5, concurrency, maxOps: 500 });
    await runFor(get(viaFront), { seconds: 0.5, concurrency, maxOps: 500 });
    const straight = await runFor(get(edge), { seconds, concurrency });
    const front = await runFor(get(viaFront), { seconds, concurrency });
    viaFront.destroy();
    edge.destroy();
    return [
      { name: "GetSecretValue via edge (HTTP)", ...straight, ratioToEdge: 1 },
      {
        name: "GetSecretValue via endpoint front (TLS + policies)",
        ...front,
        ratioToEdge: front.perSec / straight.perSec,
      },
    ];
  } finally {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await p.close();
    rmSync(home, { recursive: true, force: true });
  }
}
