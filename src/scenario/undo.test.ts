import { describe, expect, it } from "vitest";
import { undoOf } from "./undo.js";

describe("undoOf: the call that removes what a call made", () => {
  it("by the id in the output, as a list where the delete action takes a list", () => {
    expect(undoOf("ec2", "CreateVpc", {}, { Vpc: { VpcId: "vpc-1" } }, "a")).toEqual([
      { service: "ec2", as: "a", action: "DeleteVpc", input: { VpcId: "vpc-1" }, what: "vpc-1" },
    ]);
    expect(undoOf("ec2", "CreateVpcEndpoint", {}, { VpcEndpoint: { VpcEndpointId: "vpce-1" } }, "a")).toEqual(
      [
        {
          service: "ec2",
          as: "a",
          action: "DeleteVpcEndpoints",
          input: { VpcEndpointIds: ["vpce-1"] },
          what: "vpce-1",
        },
      ],
    );
  });

  it("by the create call's own parameter", () => {
    expect(undoOf("s3", "CreateBucket", { Bucket: "b1", ACL: "private" }, {}, "a")).toEqual([
      { service: "s3", as: "a", action: "DeleteBucket", input: { Bucket: "b1" }, what: "bucket b1" },
    ]);
    expect(undoOf("logs", "CreateLogGroup", { logGroupName: "g" }, {}, "a")[0]).toMatchObject({
      action: "DeleteLogGroup",
      input: { logGroupName: "g" },
      what: "g",
    });
  });

  it("detaches with the attach call's parameters", () => {
    const p = { InternetGatewayId: "igw-1", VpcId: "vpc-1" };
    expect(undoOf("ec2", "AttachInternetGateway", p, {}, "a")[0]).toMatchObject({
      action: "DetachInternetGateway",
      input: p,
      what: "igw-1 from vpc-1",
    });
  });

  it("nothing for reads and updates", () => {
    expect(undoOf("ec2", "DescribeVpcs", {}, {}, "a")).toEqual([]);
    expect(undoOf("ec2", "ModifyVpcAttribute", { VpcId: "v" }, {}, "a")).toEqual([]);
  });
});
