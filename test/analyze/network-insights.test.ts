import {
  CreateNetworkInsightsPathCommand,
  DeleteNetworkInsightsAnalysisCommand,
  DeleteNetworkInsightsPathCommand,
  DescribeNetworkInsightsAnalysesCommand,
  DescribeNetworkInsightsPathsCommand,
  type EC2Client,
  type NetworkInsightsAnalysis,
  RevokeSecurityGroupIngressCommand,
  StartNetworkInsightsAnalysisCommand,
} from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../dataplane/world.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runAws } from "../helpers/spawn.js";
import { type SecretsDesign, secretsDesign } from "./designs.js";

/**
 * The EC2 Network Insights API, answered by flow/: the SDK v3 and the AWS CLI create paths,
 * start analyses (running, then succeeded) and read NetworkPathFound, the path components and
 * the explanation codes AWS uses.
 */
let srv: TestServer;
let d: SecretsDesign;
let ec2: EC2Client;

beforeAll(async () => {
  srv = await startTestServer();
  d = await secretsDesign(srv);
  ec2 = d.ec2;
}, 60_000);

afterAll(async () => {
  await srv?.stop();
});

async function analyse(pathId: string): Promise<NetworkInsightsAnalysis> {
  const started = await ec2.send(new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: pathId }));
  expect(started.NetworkInsightsAnalysis!.Status).toBe("running");
  const id = started.NetworkInsightsAnalysis!.NetworkInsightsAnalysisId!;
  expect(id).toMatch(/^nia-[0-9a-f]{17}$/);
  return until(async () => {
    const out = await ec2.send(
      new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [id] }),
    );
    const a = out.NetworkInsightsAnalyses![0]!;
    return a.Status === "succeeded" ? a : undefined;
  }, `analysis ${id}`);
}

describe("Network Insights through the SDK v3", () => {
  let pathId: string;

  it("creates a path from an instance to an endpoint and finds it reachable", async () => {
    const out = await ec2.send(
      new CreateNetworkInsightsPathCommand({
        Source: d.instanceId,
        Destination: d.endpointId,
        Protocol: "tcp",
        DestinationPort: 443,
      }),
    );
    const p = out.NetworkInsightsPath!;
    pathId = p.NetworkInsightsPathId!;
    expect(pathId).toMatch(/^nip-[0-9a-f]{17}$/);
    expect(p.SourceArn).toBe(`arn:aws:ec2:us-east-1:111122223333:instance/${d.instanceId}`);
    expect(p.DestinationArn).toBe(`arn:aws:ec2:us-east-1:111122223333:vpc-endpoint/${d.endpointId}`);
    expect(p.NetworkInsightsPathArn).toBe(
      `arn:aws:ec2:us-east-1:111122223333:network-insights-path/${pathId}`,
    );
    expect(p.CreatedDate).toBeInstanceOf(Date);
    const a = await analyse(pathId);
    expect(a.NetworkPathFound).toBe(true);
    expect(a.Explanations ?? []).toEqual([]);
    const ids = a.ForwardPathComponents!.map((c) => c.Component?.Id);
    expect(ids[0]).toBe(d.instanceId);
    expect(ids).toContain(d.endpointId);
    expect(a.ForwardPathComponents!.map((c) => c.SequenceNumber)).toEqual(ids.map((_, i) => i + 1));
    const route = a.ForwardPathComponents!.find((c) => c.RouteTableRoute)!;
    expect(route.RouteTableRoute).toMatchObject({ DestinationCidr: "10.0.0.0/16", GatewayId: "local" });
    const ingress = a.ForwardPathComponents!.find((c) => c.SecurityGroupRule?.Direction === "ingress")!;
    expect(ingress.SecurityGroupRule).toMatchObject({
      SecurityGroupId: d.endpointSg,
      Protocol: "tcp",
      PortRange: { From: 443, To: 443 },
      Cidr: "10.0.0.0/16",
    });
    expect(a.ReturnPathComponents!.length).toBe(a.ForwardPathComponents!.length);
  });

  it("explains a refused path with ENI_SG_RULES_MISMATCH on the endpoint's group", async () => {
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: d.endpointSg,
        SecurityGroupRuleIds: [d.endpointRuleId],
      }),
    );
    const a = await analyse(pathId);
    expect(a.NetworkPathFound).toBe(false);
    expect(a.ReturnPathComponents).toEqual([]);
    expect(a.Explanations).toHaveLength(1);
    const e = a.Explanations![0]!;
    expect(e.ExplanationCode).toBe("ENI_SG_RULES_MISMATCH");
    expect(e.Direction).toBe("ingress");
    expect(e.SecurityGroups!.map((g) => g.Id)).toEqual([d.endpointSg]);
    expect(e.Port).toBe(443);
    // The data plane refuses at the same place (one decision).
    const eni = srv.state.get("instance", d.instanceId)!.eniId;
    const flow = srv.dataplane.dataplane.decider.decide({
      source: { kind: "eni", eniId: eni },
      destination: srv.state.get("eni", srv.state.get("vpcEndpoint", d.endpointId!)!.enis[0]!.eniId)!
        .privateIp,
      port: 443,
    });
    expect(flow.hops.find((h) => !h.allowed)?.kind).toBe("destination-sg-ingress");
  });

  it("a port the service does not serve: ELBV2_LISTENER_PORT_RESTRICTION", async () => {
    await ec2.send(
      new (await import("@aws-sdk/client-ec2")).AuthorizeSecurityGroupIngressCommand({
        GroupId: d.endpointSg,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "10.0.0.0/16" }] }],
      }),
    );
    const p = await ec2.send(
      new CreateNetworkInsightsPathCommand({
        Source: d.instanceId,
        Destination: d.endpointId,
        Protocol: "tcp",
        DestinationPort: 8443,
      }),
    );
    const a = await analyse(p.NetworkInsightsPath!.NetworkInsightsPathId!);
    expect(a.NetworkPathFound).toBe(false);
    expect(a.Explanations![0]!.ExplanationCode).toBe("ELBV2_LISTENER_PORT_RESTRICTION");
  });

  it("describes by filter, refuses to delete a path with analyses, deletes both", async () => {
    const found = await ec2.send(
      new DescribeNetworkInsightsAnalysesCommand({
        NetworkInsightsPathId: pathId,
        Filters: [{ Name: "path-found", Values: ["false"] }],
      }),
    );
    expect(found.NetworkInsightsAnalyses).toHaveLength(1);
    const paths = await ec2.send(
      new DescribeNetworkInsightsPathsCommand({ Filters: [{ Name: "destination-port", Values: ["443"] }] }),
    );
    expect(paths.NetworkInsightsPaths!.map((p) => p.NetworkInsightsPathId)).toEqual([pathId]);
    await expect(
      ec2.send(new DeleteNetworkInsightsPathCommand({ NetworkInsightsPathId: pathId })),
    ).rejects.toMatchObject({ name: "DependencyViolation" });
    const all = await ec2.send(new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsPathId: pathId }));
    for (const a of all.NetworkInsightsAnalyses!)
      await ec2.send(
        new DeleteNetworkInsightsAnalysisCommand({ NetworkInsightsAnalysisId: a.NetworkInsightsAnalysisId! }),
      );
    await ec2.send(new DeleteNetworkInsightsPathCommand({ NetworkInsightsPathId: pathId }));
    await expect(
      ec2.send(new DescribeNetworkInsightsPathsCommand({ NetworkInsightsPathIds: [pathId] })),
    ).rejects.toMatchObject({ name: "InvalidNetworkInsightsPathId.NotFound" });
  });

  it("answers bad input as AWS does", async () => {
    await expect(
      ec2.send(
        new CreateNetworkInsightsPathCommand({
          Source: "i-0123456789abcdef0",
          Destination: d.endpointId,
          Protocol: "tcp",
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidInstanceID.NotFound" });
    await expect(
      ec2.send(
        new CreateNetworkInsightsPathCommand({
          Source: d.instanceId,
          Destination: d.endpointId,
          Protocol: "icmp" as "tcp",
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
    await expect(
      ec2.send(new CreateNetworkInsightsPathCommand({ Source: d.instanceId, Protocol: "tcp" })),
    ).rejects.toMatchObject({ name: "InvalidParameterCombination" });
    await expect(
      ec2.send(new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: "nip-0123456789abcdef0" })),
    ).rejects.toMatchObject({ name: "InvalidNetworkInsightsPathId.NotFound" });
    await expect(
      ec2.send(
        new DeleteNetworkInsightsAnalysisCommand({ NetworkInsightsAnalysisId: "nia-0123456789abcdef0" }),
      ),
    ).rejects.toMatchObject({ name: "InvalidNetworkInsightsAnalysisId.NotFound" });
  });
});

describe("Network Insights through the AWS CLI", () => {
  async function aws(...args: string[]): Promise<any> {
    const r = await runAws([...args, "--endpoint-url", srv.url, "--output", "json"], srv.cliEnv(d.creds));
    if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim() ? JSON.parse(r.stdout) : {};
  }

  it("create-network-insights-path, start, describe until succeeded, delete", async () => {
    const path = (
      await aws(
        "ec2",
        "create-network-insights-path",
        "--source",
        d.instanceId,
        "--destination",
        d.endpointId!,
        "--protocol",
        "tcp",
        "--destination-port",
        "443",
      )
    ).NetworkInsightsPath;
    const started = (
      await aws(
        "ec2",
        "start-network-insights-analysis",
        "--network-insights-path-id",
        path.NetworkInsightsPathId,
      )
    ).NetworkInsightsAnalysis;
    expect(started.Status).toBe("running");
    const done = await until(
      async () => {
        const a = (
          await aws(
            "ec2",
            "describe-network-insights-analyses",
            "--network-insights-analysis-ids",
            started.NetworkInsightsAnalysisId,
          )
        ).NetworkInsightsAnalyses[0];
        return a.Status === "succeeded" ? a : undefined;
      },
      "CLI analysis",
      40,
    );
    expect(done.NetworkPathFound).toBe(true);
    expect(done.ForwardPathComponents[0].Component.Id).toBe(d.instanceId);
    await aws(
      "ec2",
      "delete-network-insights-analysis",
      "--network-insights-analysis-id",
      started.NetworkInsightsAnalysisId,
    );
    const gone = await aws(
      "ec2",
      "delete-network-insights-path",
      "--network-insights-path-id",
      path.NetworkInsightsPathId,
    );
    expect(gone.NetworkInsightsPathId).toBe(path.NetworkInsightsPathId);
  });
});
