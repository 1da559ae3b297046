import { request as httpsRequest } from "node:https";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { ModifyVpcEndpointCommand } from "@aws-sdk/client-ec2";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sha256 } from "../../src/api/sigv4.js";
import { fails } from "../helpers/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  CLIENT_IP,
  frontClient,
  makeEndpoint,
  makeNetwork,
  type RunningFront,
  runFront,
  SM_HOST,
  waitFor,
} from "./fixture.js";

let srv: TestServer;
let fr: RunningFront;
let endpointId: string;
let sm: SecretsManagerClient;
let edge: SecretsManagerClient;
const arns: Record<string, string> = {};

const ROOT = "arn:aws:iam::000000000000:root";
const opened: SecretsManagerClient[] = [];

/** Every client is remembered, so that the leak check can close their keep-alive sockets. */
function client(...args: Parameters<typeof frontClient>): SecretsManagerClient {
  const c = frontClient(...args);
  opened.push(c);
  return c;
}

async function setPolicy(policy: object | undefined): Promise<void> {
  await srv
    .ec2()
    .send(
      new ModifyVpcEndpointCommand(
        policy === undefined
          ? { VpcEndpointId: endpointId, ResetPolicy: true }
          : { VpcEndpointId: endpointId, PolicyDocument: JSON.stringify(policy) },
      ),
    );
}

beforeAll(async () => {
  srv = await startTestServer();
  const net = await makeNetwork(srv);
  const ep = await makeEndpoint(srv, net, "secretsmanager");
  endpointId = ep.endpointId;
  fr = await runFront(srv, ep, {
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    checkIntervalMs: 100,
    handshakeTimeoutMs: 500,
    maxBodyBytes: 64 * 1024,
  });
  sm = client(srv, fr.port);
  edge = new SecretsManagerClient({
    endpoint: srv.url,
    region: "us-east-1",
    credentials: srv.credentials,
    maxAttempts: 1,
  });
  for (const [name, value] of [
    ["prod/db", "prod-password"],
    ["dev/db", "dev-password"],
  ])
    arns[name] = (await edge.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN!;
});
afterAll(async () => {
  await fr?.close();
  await srv?.stop();
});

describe("the service front", () => {
  it("serves Secrets Manager over TLS with a leaf from the local CA, keep-alive", async () => {
    for (let i = 0; i < 3; i++) {
      const got = await sm.send(new GetSecretValueCommand({ SecretId: "prod/db" }));
      expect(got.SecretString).toBe("prod-password");
    }
  });

  it("answers to every name of the endpoint (SNI), the certificate naming them", async () => {
    const ep = srv.state.get("vpcEndpoint", endpointId)!;
    const regional = `${ep.id}-${ep.dnsSuffix}.secretsmanager.us-east-1.vpce.amazonaws.com`;
    const zonal = `${ep.id}-${ep.dnsSuffix}-us-east-1a.secretsmanager.us-east-1.vpce.amazonaws.com`;
    for (const host of [SM_HOST, regional, zonal]) {
      const got = await client(srv, fr.port, srv.credentials, host).send(
        new GetSecretValueCommand({ SecretId: "prod/db" }),
      );
      expect(got.SecretString, host).toBe("prod-password");
    }
  });

  it("enforces the endpoint policy with AWS's texts", async () => {
    await setPolicy({
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: "secretsmanager:*",
          Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/*",
        },
      ],
    });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "prod/db" }))).SecretString).toBe(
      "prod-password",
    );
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "dev/db" })))).toEqual({
      name: "AccessDeniedException",
      status: 400,
      message: `User: ${ROOT} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${arns["dev/db"]} because no VPC endpoint policy allows the secretsmanager:GetSecretValue action`,
    });
    // The edge has no endpoint: its policy does not apply there.
    expect((await edge.send(new GetSecretValueCommand({ SecretId: "dev/db" }))).SecretString).toBe(
      "dev-password",
    );

    await setPolicy({
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "*", Resource: "*" },
        { Effect: "Deny", Principal: { AWS: ROOT }, Action: "secretsmanager:GetSecretValue", Resource: "*" },
      ],
    });
    expect(await fails(sm.send(new GetSecretValueCommand({ SecretId: "prod/db" })))).toEqual({
      name: "AccessDeniedException",
      status: 400,
      message: `User: ${ROOT} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${arns["prod/db"]} with an explicit deny in a VPC endpoint policy`,
    });

    // aws:VpcSourceIp carries the client's private IP.
    await setPolicy({
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: "*",
          Resource: "*",
          Condition: { IpAddress: { "aws:VpcSourceIp": "10.0.1.0/24" } },
        },
      ],
    });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "prod/db" }))).SecretString).toBe(
      "prod-password",
    );
    await setPolicy({
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: "*",
          Resource: "*",
          Condition: { NotIpAddress: { "aws:VpcSourceIp": `${CLIENT_IP}/32` } },
        },
      ],
    });
    expect((await fails(sm.send(new GetSecretValueCommand({ SecretId: "prod/db" })))).name).toBe(
      "AccessDeniedException",
    );
    await setPolicy(undefined);
  });

  it("lets a resource policy demand the endpoint: allowed through it, denied at the edge", async () => {
    const created = await edge.send(
      new CreateSecretCommand({ Name: "vpce-only/db", SecretString: "private" }),
    );
    const policy = {
      Version: "2012-10-17",
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
      new PutResourcePolicyCommand({ SecretId: "vpce-only/db", ResourcePolicy: JSON.stringify(policy) }),
    );
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "vpce-only/db" }))).SecretString).toBe(
      "private",
    );
    expect(await fails(edge.send(new GetSecretValueCommand({ SecretId: "vpce-only/db" })))).toEqual({
      name: "AccessDeniedException",
      status: 400,
      message: `User: ${ROOT} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${created.ARN} with an explicit deny in a resource-based policy`,
    });
  });

  it("answers unsigned, badly signed, unknown-key and mis-scoped requests with the service's errors", async () => {
    const cases = [
      { creds: { accessKeyId: "test", secretAccessKey: "wrong" }, name: "InvalidSignatureException" },
      {
        creds: { accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: "x" },
        name: "UnrecognizedClientException",
      },
    ];
    for (const c of cases) {
      const err = await fails(
        client(srv, fr.port, c.creds).send(new GetSecretValueCommand({ SecretId: "prod/db" })),
      );
      expect(err.name).toBe(c.name);
      expect(err.status).toBe(400);
    }
    const unsigned = await rawHttps(fr.port, {
      headers: {
        "x-amz-target": "secretsmanager.GetSecretValue",
        "content-type": "application/x-amz-json-1.1",
      },
      body: '{"SecretId":"prod/db"}',
    });
    expect(unsigned.status).toBe(400);
    expect(JSON.parse(unsigned.body)).toEqual({
      __type: "MissingAuthenticationTokenException",
      message: "Request is missing Authentication Token",
    });
    const stsSigned = await signedHttps(fr.port, {
      service: "sts",
      target: "secretsmanager.GetSecretValue",
      body: "{}",
    });
    expect(stsSigned.status).toBe(400);
    expect(JSON.parse(stsSigned.body).__type).toBe("InvalidSignatureException");
    const unknownAction = await signedHttps(fr.port, {
      service: "secretsmanager",
      target: "secretsmanager.Frobnicate",
      body: "{}",
    });
    expect(unknownAction.status).toBe(400);
    expect(JSON.parse(unknownAction.body)).toMatchObject({ __type: "InvalidAction", message: /Frobnicate/ });
  });

  it("refuses oversized bodies and closes the connection", async () => {
    const big = JSON.stringify({ SecretId: "prod/db", pad: "x".repeat(100 * 1024) });
    const res = await signedHttps(fr.port, {
      service: "secretsmanager",
      target: "secretsmanager.GetSecretValue",
      body: big,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).__type).toBe("RequestEntityTooLarge");
    expect(res.headers.connection).toBe("close");
  });

  it("drops garbage, plain HTTP, bad TLS hellos and slow clients without crashing or leaking sockets", async () => {
    const garbage = [
      Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00]),
      Buffer.alloc(4096, 0xff),
    ];
    for (const bytes of garbage) expect(await closedAfterSending(fr.port, bytes)).toBe(true);
    // A client that never finishes its handshake.
    expect(await closedAfterSending(fr.port, Buffer.alloc(0))).toBe(true);
    // A client that completes TLS, then sends half a request head and stalls.
    const slow = await new Promise<boolean>((resolve) => {
      const s = tlsConnect(
        { host: "127.0.0.1", port: fr.port, servername: SM_HOST, ca: srv.ca.certPem },
        () => {
          s.write("POST / HTTP/1.1\r\nHost: secretsmanager.us-east-1.amazonaws.com\r\nX-Slow: ");
        },
      );
      s.on("error", () => undefined);
      s.on("close", () => resolve(true));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    expect(slow).toBe(true);
    // The front still serves afterwards, and holds no socket once clients are gone.
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "prod/db" }))).SecretString).toBe(
      "prod-password",
    );
    for (const c of opened) c.destroy();
    await waitFor(() => fr.front.openSockets === 0);
    expect(fr.front.openSockets).toBe(0);
  });
});

/** Sends bytes on a raw TCP connection; true when the front closes it. */
function closedAfterSending(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port }, () => {
      if (bytes.length > 0) s.write(bytes);
    });
    s.on("data", () => undefined);
    s.on("error", () => undefined);
    s.on("close", () => resolve(true));
    setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 10_000).unref();
  });
}

function rawHttps(
  port: number,
  opts: { headers: Record<string, string>; body: string; method?: string; path?: string },
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        servername: SM_HOST,
        port,
        method: opts.method ?? "POST",
        path: opts.path ?? "/",
        headers: { host: SM_HOST, ...opts.headers },
        ca: fr ? frontCa() : undefined,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            headers: res.headers,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

function frontCa(): string {
  return srv.ca.certPem;
}

async function signedHttps(port: number, opts: { service: string; target: string; body: string }) {
  const req = new HttpRequest({
    method: "POST",
    protocol: "https:",
    hostname: SM_HOST,
    path: "/",
    headers: {
      host: SM_HOST,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": opts.target,
    },
    body: opts.body,
  });
  const signer = new SignatureV4({
    service: opts.service,
    region: "us-east-1",
    credentials: srv.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(req);
  return rawHttps(port, { headers: signed.headers as Record<string, string>, body: opts.body });
}
