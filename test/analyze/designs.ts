import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  type EC2Client,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Creds, newAccount } from "../dataplane/world.js";
import type { TestServer } from "../helpers/server.js";

/** The seed's first design: app in a private subnet, Secrets Manager endpoint with private DNS. */
export interface SecretsDesign {
  creds: Creds;
  ec2: EC2Client;
  vpcId: string;
  subnetIds: string[];
  appSg: string;
  endpointSg: string;
  /** The rule letting the VPC reach the endpoint on 443. */
  endpointRuleId: string;
  instanceId: string;
  endpointId?: string;
}

export const SECRET_ACCOUNT = "111122223333";

export async function secretsDesign(
  server: TestServer,
  opts: { account?: string; cidr?: string; name?: string; endpoint?: boolean } = {},
): Promise<SecretsDesign> {
  const account = opts.account ?? SECRET_ACCOUNT;
  const creds = await newAccount(server, account);
  const ec2 = server.ec2("us-east-1", creds);
  const cidr = opts.cidr ?? "10.0.0.0/16";
  const p = cidr.split(".").slice(0, 2).join(".");
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsSupport: { Value: true } }));
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
  const subnetIds: string[] = [];
  for (const [i, az] of ["a", "b"].entries())
    subnetIds.push(
      (
        await ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: `${p}.${i + 1}.0/24`,
            AvailabilityZone: `us-east-1${az}`,
          }),
        )
      ).Subnet!.SubnetId!,
    );
  const sg = async (name: string) =>
    (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId })))
      .GroupId!;
  const appSg = await sg("app");
  const endpointSg = await sg("endpoints");
  const rule = await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: endpointSg,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr }] }],
    }),
  );
  const instanceId = (
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12345678",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetIds[0],
        SecurityGroupIds: [appSg],
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: opts.name ?? "app" }] }],
      }),
    )
  ).Instances![0]!.InstanceId!;
  const sm = new SecretsManagerClient({
    endpoint: server.url,
    region: "us-east-1",
    credentials: creds,
    maxAttempts: 1,
  });
  await sm.send(new CreateSecretCommand({ Name: "prod/db", SecretString: '{"password":"hunter2"}' }));
  await sm.send(new CreateSecretCommand({ Name: "dev/db", SecretString: '{"password":"dev"}' }));
  const design: SecretsDesign = {
    creds,
    ec2,
    vpcId,
    subnetIds,
    appSg,
    endpointSg,
    endpointRuleId: rule.SecurityGroupRules![0]!.SecurityGroupRuleId!,
    instanceId,
  };
  if (opts.endpoint !== false) design.endpointId = await secretsEndpoint(design);
  return design;
}

export async function secretsEndpoint(d: SecretsDesign, policy?: string): Promise<string> {
  return (
    await d.ec2.send(
      new CreateVpcEndpointCommand({
        VpcEndpointType: "Interface",
        VpcId: d.vpcId,
        ServiceName: "com.amazonaws.us-east-1.secretsmanager",
        SubnetIds: d.subnetIds,
        SecurityGroupIds: [d.endpointSg],
        PrivateDnsEnabled: true,
        PolicyDocument: policy,
      }),
    )
  ).VpcEndpoint!.VpcEndpointId!;
}

/** Random IDs, host addresses and ARN suffixes become stable placeholders, numbered by first use. */
export function normalize(text: string): string {
  const seen = new Map<string, string>();
  const counters = new Map<string, number>();
  return text
    .replace(
      /\b(vpce-svc|vpce|vpc|subnet|sgr|sg|rtb|acl|eni|i|igw|nat|nip|nia)-[0-9a-f]{8,17}\b/g,
      (id, kind: string) => {
        let v = seen.get(id);
        if (!v) {
          const n = (counters.get(kind) ?? 0) + 1;
          counters.set(kind, n);
          v = `${kind}-<${n}>`;
          seen.set(id, v);
        }
        return v;
      },
    )
    .replace(/\b127\.(?!0\.0\.1\b)\d+\.\d+\.\d+\b/g, "127.<host>")
    .replace(/(secret:[a-z/]+)-[A-Za-z0-9]{6}\b/g, "$1-<sfx>")
    .replace(/\/[0-9a-f]{16}\b/g, "/<lbid>");
}
