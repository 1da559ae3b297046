import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeSecurityGroupsCommand,
  DescribeVpcEndpointsCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNamespaces } from "../../src/net/netns/ip.js";
import { homeTag, namespaceName } from "../../src/net/netns/topology.js";
import { makeEndpoint, makeNetwork, SM_HOST } from "../front/fixture.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { BIN, runCli } from "../helpers/spawn.js";
import { namespaceSkipReason } from "./namespace-skip.js";

const reason = namespaceSkipReason(["python3"]);
if (reason) console.log(`namespace-mode tests skipped: ${reason}`);

const ipIn = (ns: string, ...args: string[]) => execFileSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
/** Asynchronous: the server answering the command runs in this very process. */
const inNs = (ns: string, ...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(
      "ip",
      ["netns", "exec", ns, ...args],
      { encoding: "utf8", timeout: 20_000 },
      (err, out, errOut) => (err ? reject(new Error(`${err.message}${errOut}`)) : resolve(out)),
    ),
  );

describe("namespace mode without the capabilities", () => {
  it("refuses to start, naming CAP_NET_ADMIN, and makes nothing", async () => {
    const home = join(tmpdir(), `privlink-netns-refused-${process.pid}`);
    // Root drops to nobody (and with it every capability); anyone else is refused as they are.
    const asNobody =
      process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] : [];
    const cmd = [
      ...asNobody,
      process.execPath,
      BIN,
      "up",
      "--network",
      "netns",
      "--port",
      "0",
      "--home",
      home,
    ];
    const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(cmd[0]!, cmd.slice(1), { encoding: "utf8", timeout: 30_000 }, (err, _out, stderr) =>
        resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
      ),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--network netns needs root or the capabilities CAP_NET_ADMIN/);
    expect(existsSync(home)).toBe(false);
  });
});

describe.skipIf(reason !== undefined)("namespace mode (privlink up --network netns)", () => {
  const home = mkdtempSync(join(tmpdir(), "privlink-netns-"));
  const tag = homeTag(home);
  let srv: TestServer;
  let net: { vpcId: string; subnetId: string; instanceId: string };
  let endpointIp: string;
  let instanceIp: string;
  let appNs: string;

  beforeAll(async () => {
    // A namespace a crashed run on this home left behind: the next start removes it.
    execFileSync("ip", ["netns", "add", namespaceName(tag, "vpc-0stale")]);
    srv = await startTestServer({ home, network: "netns" });
    net = await makeNetwork(srv);
    const ep = await makeEndpoint(srv, net, "secretsmanager");
    endpointIp = srv.state.get("eni", ep.eniId)!.privateIp;
    instanceIp = srv.state.get("eni", srv.state.get("instance", net.instanceId)!.eniId)!.privateIp;
    const sm = new SecretsManagerClient({
      endpoint: srv.url,
      region: "us-east-1",
      credentials: srv.credentials,
      maxAttempts: 1,
    });
    await sm.send(new CreateSecretCommand({ Name: "db", SecretString: "hunter2" }));
    for (let i = 0; i < 100; i++) {
      const d = await srv.ec2().send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [ep.endpointId] }));
      if (d.VpcEndpoints?.[0]?.State?.toLowerCase() === "available") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const reply = await srv.admin<{ namespace: string }>("POST", "/_privlink/workloads/namespace", {
      workload: "app",
    });
    appNs = reply.namespace;
  });

  afterAll(async () => {
    await srv?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("removes what an earlier run on the same home left", async () => {
    expect(await listNamespaces()).not.toContain(namespaceName(tag, "vpc-0stale"));
  });

  it("gives the instance its real private IP in its own namespace", () => {
    expect(appNs).toBe(namespaceName(tag, net.instanceId));
    const addr = ipIn(appNs, "-4", "addr", "show", "dev", "eth0");
    expect(addr).toContain(`inet ${instanceIp}/24`);
    expect(ipIn(appNs, "-4", "route")).toContain("default via 10.0.1.1 dev eth0");
  });

  it("holds the endpoint's interface and the resolver (base + 2) in the VPC's namespace", () => {
    const addr = ipIn(namespaceName(tag, net.vpcId), "-4", "addr", "show", "dev", "lo");
    expect(addr).toContain(`inet ${endpointIp}/32`);
    expect(addr).toContain("inet 10.0.0.2/32");
  });

  it("resolves the service's name to the endpoint's private IP through 10.0.0.2 (private DNS)", async () => {
    const viaResolvConf = (await inNs(appNs, "dig", "+short", "+time=3", "+tries=1", SM_HOST)).trim();
    expect(viaResolvConf).toBe(endpointIp);
    const overTcp = (await inNs(appNs, "dig", "+short", "+tcp", "@10.0.0.2", SM_HOST)).trim();
    expect(overTcp).toBe(endpointIp);
    expect(await inNs(appNs, "cat", "/etc/resolv.conf")).toContain("nameserver 10.0.0.2");
  });

  it("privlink exec runs unmodified curl and the AWS CLI in the namespace, with no proxy variables", async () => {
    const env = { ...srv.cliEnv(), HTTPS_PROXY: "http://127.0.0.1:9", https_proxy: "http://127.0.0.1:9" };
    const r = await runCli(
      [
        "exec",
        "--from",
        "app",
        "--",
        "sh",
        "-c",
        `env | grep -ciE '^(https?|all|no)_proxy='; ip -4 -o addr show dev eth0; curl -sS -o /dev/null -w '%{http_code} %{remote_ip}\\n' https://${SM_HOST}/; aws secretsmanager get-secret-value --secret-id db --query SecretString --output text`,
      ],
      env,
    );
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("0");
    expect(lines[1]).toContain(`inet ${instanceIp}/24`);
    // TLS verified against privlink's CA; the front answers the unsigned request as AWS would (4xx).
    expect(lines[2]).toMatch(new RegExp(`^4\\d\\d ${endpointIp.replace(/\./g, "\\.")}$`));
    expect(lines[3]).toBe("hunter2");
    expect(r.code).toBe(0);
  });

  it("refuses the next connection after a security-group change, with the reason in flow events", async () => {
    const ec2 = srv.ec2();
    const sg = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: "vpc-id", Values: [net.vpcId] },
            { Name: "group-name", Values: ["default"] },
          ],
        }),
      )
    ).SecurityGroups![0]!.GroupId!;
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: sg,
        IpPermissions: [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: sg }] }],
      }),
    );
    let failed = false;
    try {
      await inNs(appNs, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", `https://${SM_HOST}/`);
    } catch {
      failed = true;
    }
    expect(failed).toBe(true);
    const { flows } = await srv.admin<{ flows: { reason: string; destination: string }[] }>(
      "GET",
      "/_privlink/flows",
    );
    expect(flows.at(-1)?.reason).toMatch(new RegExp(`no inbound rule allowing tcp/443 from ${instanceIp}`));
  });

  it("removes every namespace it made when it stops", async () => {
    const made = srv.namespaces!.namespaces();
    expect(made.length).toBe(2);
    await srv.stop();
    const left = (await listNamespaces()).filter((n) => n.startsWith(`privlink-${tag}-`));
    expect(left).toEqual([]);
  });
});
