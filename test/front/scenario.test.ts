import { DeleteVpcEndpointsCommand, ModifyVpcEndpointCommand } from "@aws-sdk/client-ec2";
import {
  CreateSecretCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminFetch } from "../helpers/admin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import { makeEndpoint, makeNetwork } from "./fixture.js";

/**
 * The seed's first scenario with the unmodified AWS CLI: an application in a private subnet
 * reads its database credentials through a Secrets Manager interface endpoint with private
 * DNS, with no --endpoint-url. The CLI runs as `privlink exec` runs it: the workload's proxy
 * and the CA environment from POST /_privlink/workloads/proxy.
 */
let srv: TestServer;
let net: { vpcId: string; subnetId: string; instanceId: string };
let endpointId: string;
let env: NodeJS.ProcessEnv;

async function asApp(args: string[]) {
  return runAws(["secretsmanager", ...args, "--region", "us-east-1", "--output", "json"], env);
}

beforeAll(async () => {
  srv = await startTestServer();
  net = await makeNetwork(srv);
  endpointId = (await makeEndpoint(srv, net, "secretsmanager")).endpointId;
  const edge = new SecretsManagerClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
  });
  await edge.send(new CreateSecretCommand({ Name: "prod/db", SecretString: '{"password":"hunter2"}' }));
  const res = await adminFetch(srv, `/_privlink/workloads/proxy`, {
    method: "POST",
    body: JSON.stringify({ workload: net.instanceId }),
  });
  const reply = (await res.json()) as { url: string; env: Record<string, string> };
  env = {
    ...srv.cliEnv(),
    ...reply.env,
    AWS_ENDPOINT_URL: "",
    HTTPS_PROXY: reply.url,
    HTTP_PROXY: reply.url,
    https_proxy: reply.url,
    http_proxy: reply.url,
    NO_PROXY: "",
    no_proxy: "",
    AWS_MAX_ATTEMPTS: "1",
  };
  delete env.AWS_ENDPOINT_URL;
}, 60_000);
afterAll(() => srv?.stop());

describe("privlink exec --from i-app -- aws secretsmanager get-secret-value", () => {
  it("reads the secret through private DNS, the endpoint and the front", async () => {
    const r = await asApp(["get-secret-value", "--secret-id", "prod/db"]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({ Name: "prod/db", SecretString: '{"password":"hunter2"}' });
  }, 60_000);

  it("gives AWS's AccessDeniedException when the endpoint policy denies GetSecretValue", async () => {
    const policy = {
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" },
        {
          Effect: "Deny",
          Principal: { AWS: "arn:aws:iam::000000000000:root" },
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
        },
      ],
    };
    await srv
      .ec2()
      .send(
        new ModifyVpcEndpointCommand({ VpcEndpointId: endpointId, PolicyDocument: JSON.stringify(policy) }),
      );
    const r = await asApp(["get-secret-value", "--secret-id", "prod/db"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("(AccessDeniedException)");
    expect(r.stderr).toContain("with an explicit deny in a VPC endpoint policy");
    await srv.ec2().send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpointId, ResetPolicy: true }));
  }, 60_000);

  it("honours a resource policy requiring the endpoint: allowed through it, refused at the edge", async () => {
    const edge = new SecretsManagerClient({
      endpoint: srv.url,
      region: "us-east-1",
      credentials: srv.credentials,
      maxAttempts: 1,
    });
    const policy = {
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
          Condition: { StringNotEquals: { "aws:SourceVpce": endpointId } },
        },
      ],
    };
    await edge.send(
      new PutResourcePolicyCommand({ SecretId: "prod/db", ResourcePolicy: JSON.stringify(policy) }),
    );
    expect((await asApp(["get-secret-value", "--secret-id", "prod/db"])).code).toBe(0);
    const viaEdge = await runAws(
      ["secretsmanager", "get-secret-value", "--secret-id", "prod/db", "--endpoint-url", srv.url],
      srv.cliEnv(),
    );
    expect(viaEdge.code).not.toBe(0);
    expect(viaEdge.stderr).toContain("with an explicit deny in a resource-based policy");
  }, 60_000);

  it("fails without the endpoint: the proxy has no route to the service", async () => {
    await srv.ec2().send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [endpointId] }));
    const r = await asApp([
      "get-secret-value",
      "--secret-id",
      "prod/db",
      "--cli-connect-timeout",
      "5",
      "--cli-read-timeout",
      "5",
    ]);
    expect(r.code).not.toBe(0);
    // The proxy answers the refused call in TLS, as an AWS error the CLI prints with its reason.
    expect(r.stderr.trim()).toBe(
      "An error occurred (PrivlinkNoRoute) when calling the GetSecretValue operation: no route to secretsmanager.us-east-1.amazonaws.com: subnet has no internet or NAT route",
    );
  }, 60_000);
});
