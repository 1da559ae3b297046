import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeAws, jsonOf, workloadAws } from "../helpers/cli-tags.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * A workload in a private subnet (no internet gateway, no NAT) calls AWS with the unmodified AWS
 * CLI through `privlink exec`: privlink's own APIs (EC2, CloudWatch Logs, SSM) answer only
 * through an interface endpoint for each, with private DNS, exactly as on AWS.
 */
const ACCOUNT = "123412341234";
let srv: TestServer;
let shell: NodeJS.ProcessEnv;
let net: { vpcId: string; subnetId: string; groupId: string };

const aws = edgeAws(
  () => srv.url,
  () => shell,
);
const asApp = workloadAws("app", () => shell);
const json = jsonOf;

async function endpointFor(service: string, policy?: string): Promise<string> {
  const extra = policy ? ["--policy-document", policy] : [];
  const ep = await aws`ec2 create-vpc-endpoint --vpc-id ${net.vpcId} --vpc-endpoint-type Interface
    --service-name ${`com.amazonaws.us-east-1.${service}`} --subnet-ids ${net.subnetId}
    --security-group-ids ${net.groupId} --private-dns-enabled ${extra}`;
  return ep.VpcEndpoint.VpcEndpointId;
}

beforeAll(async () => {
  srv = await startTestServer();
  shell = srv.cliEnv(await srv.admin("POST", "/_privlink/accounts", { id: ACCOUNT }));
  const vpc = (await aws`ec2 create-vpc --cidr-block 10.8.0.0/16`).Vpc.VpcId;
  const [, , subnet, sg] = await Promise.all([
    aws`ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-support ${'{"Value":true}'}`,
    aws`ec2 modify-vpc-attribute --vpc-id ${vpc} --enable-dns-hostnames ${'{"Value":true}'}`,
    aws`ec2 create-subnet --vpc-id ${vpc} --cidr-block 10.8.1.0/24 --availability-zone us-east-1a`,
    aws`ec2 create-security-group --vpc-id ${vpc} --group-name endpoints --description ${"HTTPS from the VPC"}`,
  ]);
  net = { vpcId: vpc, subnetId: subnet.Subnet.SubnetId, groupId: sg.GroupId };
  await Promise.all([
    aws`ec2 authorize-security-group-ingress --group-id ${net.groupId} --protocol tcp --port 443 --cidr 10.8.0.0/16`,
    aws`ec2 run-instances --image-id ami-12345678 --count 1 --subnet-id ${net.subnetId}
        --tag-specifications ResourceType=instance,Tags=[{Key=Name,Value=app}]`,
    aws`logs create-log-group --log-group-name /app/web`,
    aws`ssm put-parameter --name /app/db/password --value s3cret --type SecureString`,
  ]);
  await aws`logs create-log-stream --log-group-name /app/web --log-stream-name i-app`;
}, 90_000);

afterAll(() => srv?.stop());

describe("privlink's own APIs from a private subnet", () => {
  it("aws ec2 describe-vpcs works only once the VPC has an EC2 endpoint", async () => {
    const before = await asApp`ec2 describe-vpcs --vpc-ids ${net.vpcId}`;
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain("PrivlinkNoRoute");
    expect(before.stderr).toContain("no route to ec2.us-east-1.amazonaws.com");
    await endpointFor("ec2");
    const after = json(await asApp`ec2 describe-vpcs --vpc-ids ${net.vpcId}`);
    expect(after.Vpcs.map((v: { VpcId: string }) => v.VpcId)).toEqual([net.vpcId]);
  });

  it("aws logs put-log-events, get-log-events and filter-log-events go through a Logs endpoint", async () => {
    const now = Date.now();
    const events = JSON.stringify([
      { timestamp: now - 2000, message: "INFO ready" },
      { timestamp: now - 1000, message: '{"level":"ERROR","path":"/pay"}' },
      { timestamp: now, message: "ERROR timeout talking to db" },
    ]);
    const refused =
      await asApp`logs put-log-events --log-group-name /app/web --log-stream-name i-app --log-events ${events}`;
    expect(refused.stderr).toContain("PrivlinkNoRoute");
    await endpointFor("logs");
    const put = json(
      await asApp`logs put-log-events --log-group-name /app/web --log-stream-name i-app --log-events ${events}`,
    );
    expect(put.rejectedLogEventsInfo).toBeUndefined();
    const got = json(
      await asApp`logs get-log-events --log-group-name /app/web --log-stream-name i-app --start-from-head`,
    );
    expect(got.events.map((e: { message: string }) => e.message)).toEqual([
      "INFO ready",
      '{"level":"ERROR","path":"/pay"}',
      "ERROR timeout talking to db",
    ]);
    const errors = json(
      await asApp`logs filter-log-events --log-group-name /app/web --filter-pattern ${'{ $.level = "ERROR" }'}`,
    );
    expect(errors.events.map((e: { message: string }) => e.message)).toEqual([
      '{"level":"ERROR","path":"/pay"}',
    ]);
    const phrase = json(
      await asApp`logs filter-log-events --log-group-name /app/web --filter-pattern ${'"talking to db"'}`,
    );
    expect(phrase.events.map((e: { logStreamName: string }) => e.logStreamName)).toEqual(["i-app"]);
  });

  it("aws ssm get-parameter --with-decryption goes through an SSM endpoint", async () => {
    await endpointFor("ssm");
    const got = json(await asApp`ssm get-parameter --name /app/db/password --with-decryption`);
    expect(got.Parameter).toMatchObject({ Name: "/app/db/password", Type: "SecureString", Value: "s3cret" });
    const sealed = json(await asApp`ssm get-parameter --name /app/db/password`);
    expect(sealed.Parameter.Value).not.toBe("s3cret");
  });
});
