import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeAws, jsonOf, workloadAws } from "../helpers/cli-tags.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * The seed's cross-account centralized logging (SCENARIOS.md §6): the logging account L owns
 * the log group; the applications of accounts A1 and A2 write into it with the unmodified AWS
 * CLI from their private subnets, through Logs interface endpoints whose policy allows only
 * logs:PutLogEvents; L's resource policy lets A1 and A2 in. A third account without a grant is
 * refused by the resource policy; DeleteLogGroup is refused by the endpoint policy, with AWS's text.
 */
const L = "100000000001";
const APPS = { app1: "200000000001", app2: "200000000002", app3: "200000000003" } as const;
const GROUP = `arn:aws:logs:us-east-1:${L}:log-group:central`;
const ONLY_PUT = JSON.stringify({
  Statement: [{ Effect: "Allow", Principal: "*", Action: "logs:PutLogEvents", Resource: "*" }],
});

let srv: TestServer;
const shells: Record<string, NodeJS.ProcessEnv> = {};

async function account(id: string): Promise<NodeJS.ProcessEnv> {
  return srv.cliEnv(await srv.admin("POST", "/_privlink/accounts", { id }));
}

/** An application account's VPC: a private subnet, instance `name`, a Logs endpoint allowing only PutLogEvents. */
async function appVpc(name: keyof typeof APPS, octet: number): Promise<void> {
  const aws = edgeAws(
    () => srv.url,
    () => shells[name]!,
  );
  const vpc = (await aws`ec2 create-vpc --cidr-block ${`10.${octet}.0.0/16`}`).Vpc.VpcId;
  await aws`ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-hostnames ${'{"Value":true}'}`;
  const subnet = (
    await aws`ec2 create-subnet --vpc-id ${vpc} --cidr-block ${`10.${octet}.1.0/24`} --availability-zone us-east-1a`
  ).Subnet.SubnetId;
  const sg = (
    await aws`ec2 create-security-group --vpc-id ${vpc} --group-name logs --description ${"HTTPS from the VPC"}`
  ).GroupId;
  await Promise.all([
    aws`ec2 authorize-security-group-ingress --group-id ${sg} --protocol tcp --port 443 --cidr ${`10.${octet}.0.0/16`}`,
    aws`ec2 run-instances --image-id ami-12345678 --count 1 --subnet-id ${subnet}
        --tag-specifications ${`ResourceType=instance,Tags=[{Key=Name,Value=${name}}]`}`,
    aws`ec2 create-vpc-endpoint --vpc-id ${vpc} --vpc-endpoint-type Interface
        --service-name com.amazonaws.us-east-1.logs --subnet-ids ${subnet} --security-group-ids ${sg}
        --private-dns-enabled --policy-document ${ONLY_PUT}`,
  ]);
}

function putFrom(name: keyof typeof APPS, stream: string, message: string) {
  const events = JSON.stringify([{ timestamp: Date.now(), message }]);
  return workloadAws(name, () => shells[name]!)`logs put-log-events --log-group-name ${GROUP}
    --log-stream-name ${stream} --log-events ${events}`;
}

beforeAll(async () => {
  srv = await startTestServer();
  shells.L = await account(L);
  for (const [name, id] of Object.entries(APPS)) shells[name] = await account(id);
  const central = edgeAws(
    () => srv.url,
    () => shells.L!,
  );
  await central`logs create-log-group --log-group-name central`;
  await Promise.all([
    central`logs create-log-stream --log-group-name central --log-stream-name app1`,
    central`logs create-log-stream --log-group-name central --log-stream-name app2`,
    central`logs create-log-stream --log-group-name central --log-stream-name app3`,
    central`logs put-resource-policy --policy-name applications --policy-document ${JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: [`arn:aws:iam::${APPS.app1}:root`, APPS.app2] },
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DeleteLogGroup"],
          Resource: `${GROUP}:*`,
        },
      ],
    })}`,
  ]);
  await Promise.all([appVpc("app1", 11), appVpc("app2", 12), appVpc("app3", 13)]);
}, 120_000);

afterAll(() => srv?.stop());

describe("cross-account centralized logging", () => {
  it("lands both applications' PutLogEvents in the logging account's group", async () => {
    const [one, two] = await Promise.all([
      putFrom("app1", "app1", "hello from A1"),
      putFrom("app2", "app2", "hello from A2"),
    ]);
    expect(jsonOf(one).rejectedLogEventsInfo).toBeUndefined();
    jsonOf(two);
    const central = edgeAws(
      () => srv.url,
      () => shells.L!,
    );
    const all = await central`logs filter-log-events --log-group-name central --filter-pattern hello`;
    expect(
      all.events.map((e: { logStreamName: string; message: string }) => `${e.logStreamName}: ${e.message}`),
    ).toEqual(["app1: hello from A1", "app2: hello from A2"]);
  });

  it("refuses an account the resource policy does not name", async () => {
    const r = await putFrom("app3", "app3", "hello from A3");
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      `An error occurred (AccessDeniedException) when calling the PutLogEvents operation: User: arn:aws:iam::${APPS.app3}:root is not authorized to perform: logs:PutLogEvents on resource: ${GROUP}:log-stream:app3 because no resource-based policy allows the logs:PutLogEvents action`,
    );
  });

  it("denies DeleteLogGroup through the endpoint whose policy allows only logs:PutLogEvents", async () => {
    const r = await workloadAws("app1", () => shells.app1!)`logs delete-log-group --log-group-name ${GROUP}`;
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      `An error occurred (AccessDeniedException) when calling the DeleteLogGroup operation: User: arn:aws:iam::${APPS.app1}:root is not authorized to perform: logs:DeleteLogGroup on resource: ${GROUP}:log-stream: because no VPC endpoint policy allows the logs:DeleteLogGroup action`,
    );
    const central = edgeAws(
      () => srv.url,
      () => shells.L!,
    );
    const groups = await central`logs describe-log-groups --log-group-name-prefix central`;
    expect(groups.logGroups.map((g: { logGroupName: string }) => g.logGroupName)).toEqual(["central"]);
  });
});
