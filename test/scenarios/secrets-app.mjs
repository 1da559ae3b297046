// The application of the seed's first scenario, as it would run on the instance: the AWS SDK v3
// with its default endpoint, region and credentials. `node secrets-app.mjs SECRET_ID` prints one
// JSON line: {"ok":true,"name":…,"secretString":…} or {"ok":false,"error":…,"message":…,"status":…}.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ConnectProxyAgent } from "../helpers/connect-proxy-agent.mjs";

const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;
const client = new SecretsManagerClient({
  ...(proxy ? { requestHandler: new NodeHttpHandler({ httpsAgent: new ConnectProxyAgent(proxy) }) } : {}),
});

try {
  const out = await client.send(new GetSecretValueCommand({ SecretId: process.argv[2] }));
  process.stdout.write(`${JSON.stringify({ ok: true, name: out.Name, secretString: out.SecretString })}\n`);
} catch (err) {
  const status = err.$metadata?.httpStatusCode;
  process.stdout.write(`${JSON.stringify({ ok: false, error: err.name, message: err.message, status })}\n`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
