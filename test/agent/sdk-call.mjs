/**
 * A workload on an agent "host" (run under `ip netns exec`): one AWS SDK call, printed as one
 * line — the answer, or `ERROR <name>: <message>`. Credentials and region come from the
 * environment, as for any SDK program.
 *
 *   node sdk-call.mjs get-secret URL SOURCE_IP CA_FILE SECRET_ID   (through an endpoint, TLS)
 *   node sdk-call.mjs whoami URL                                  (an API node, plain HTTP)
 *   node sdk-call.mjs logs URL SOURCE_IP CA_FILE MESSAGE          (PutLogEvents into /agents/s,
 *                                                                 then its last event, through an endpoint)
 */
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";

const [mode, endpoint, source, caFile, secretId] = process.argv.slice(2);
try {
  if (mode === "whoami") {
    const sts = new STSClient({ endpoint, maxAttempts: 1 });
    console.log((await sts.send(new GetCallerIdentityCommand({}))).Account);
  } else if (mode === "get-secret") {
    // The workload's own address as source: the flow decision knows the client by it.
    const httpsAgent = new Agent({ ca: readFileSync(caFile, "utf8"), localAddress: source });
    const sm = new SecretsManagerClient({
      endpoint,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent, connectionTimeout: 5000, requestTimeout: 10000 }),
    });
    console.log((await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString);
  } else if (mode === "logs") {
    const httpsAgent = new Agent({ ca: readFileSync(caFile, "utf8"), localAddress: source });
    const logs = new CloudWatchLogsClient({
      endpoint,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpsAgent, connectionTimeout: 5000, requestTimeout: 10000 }),
    });
    const at = { logGroupName: "/agents", logStreamName: "s" };
    await logs.send(
      new PutLogEventsCommand({ ...at, logEvents: [{ timestamp: Date.now(), message: secretId }] }),
    );
    const got = await logs.send(new GetLogEventsCommand({ ...at, limit: 1 }));
    console.log(got.events?.[0]?.message);
  } else throw new Error(`unknown mode '${mode}'`);
} catch (err) {
  console.log(`ERROR ${err.name}: ${err.message}`);
}
