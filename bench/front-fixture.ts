import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { type Privlink, startPrivlink } from "../src/privlink.js";
import { SdkLoad } from "./measure.js";

export const BENCH_CREDS = { accessKeyId: "test", secretAccessKey: "test" };

export interface FrontBench {
  readonly p: Privlink;
  /** Loopback port whose connections the front serves as the endpoint's ENI. */
  readonly port: number;
  readonly load: SdkLoad;
  close(): Promise<void>;
}

/**
 * A privlink of its own, an interface endpoint to `service` with `policy` in a VPC 10.9.0.0/16,
 * a loopback listener handing its connections to the endpoint's front (client 10.9.1.77), and
 * the SDK load process: what the front benchmarks compare against the plain edge.
 */
export async function startFrontBench(
  service: string,
  policy: unknown,
  publicDns: string,
): Promise<FrontBench> {
  const home = mkdtempSync(join(tmpdir(), `privlink-bench-${service}-`));
  const p = await startPrivlink({ port: 0, home, slots: { min: 200, max: 254 }, publicDns });
  const listener = createServer();
  const load = SdkLoad.start();
  const close = async () => {
    await load.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await p.close();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const ec2 = new EC2Client({
      endpoint: p.url,
      region: "us-east-1",
      credentials: BENCH_CREDS,
      maxAttempts: 1,
    });
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    const subnetId = (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.1.0/24", AvailabilityZone: "us-east-1a" }),
      )
    ).Subnet!.SubnetId!;
    const ep = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: vpcId,
        VpcEndpointType: "Interface",
        ServiceName: `com.amazonaws.us-east-1.${service}`,
        SubnetIds: [subnetId],
        PrivateDnsEnabled: false,
        PolicyDocument: JSON.stringify(policy),
      }),
    );
    ec2.destroy();
    const endpointId = ep.VpcEndpoint!.VpcEndpointId!;
    const eniId = p.state.get("vpcEndpoint", endpointId)!.enis[0]!.eniId;
    listener.on("connection", (socket) =>
      p.front.handle(socket, { endpointId, eniId, clientIp: "10.9.1.77" }),
    );
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    return { p, port: (listener.address() as AddressInfo).port, load, close };
  } catch (err) {
    await close();
    throw err;
  }
}
