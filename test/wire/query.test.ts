import { describe, expect, it } from "vitest";
import {
  decodeQuery,
  encodeQuery,
  encodeQuerySplit,
  findOperation,
  type OperationSchema,
} from "../../src/api/protocols/index.js";
import { keepingXml } from "../../src/api/protocols/xml.js";
import { AwsError } from "../../src/cloud/errors.js";
import { sdkHarness } from "./sdk.js";

function op(service: "ec2" | "sts" | "elasticloadbalancing", name: string): OperationSchema {
  const o = findOperation(service, name);
  if (!o) throw new Error(`no ${service} ${name}`);
  return o;
}

/** Wire names as AWS documents them, both ways: the SDK must write them, we must read them. */
const EC2_NAMES: { op: string; wire: [string, string][]; input: Record<string, unknown> }[] = [
  {
    op: "CreateVpcEndpoint",
    wire: [
      ["VpcId", "vpc-1"],
      ["ServiceName", "com.amazonaws.us-east-1.s3"],
      ["SubnetId.1", "subnet-a"],
      ["SubnetId.2", "subnet-b"],
      ["SecurityGroupId.1", "sg-1"],
      ["DnsOptions.DnsRecordIpType", "ipv4"],
      ["PrivateDnsEnabled", "true"],
      ["ClientToken", "tok-1"],
    ],
    input: {
      VpcId: "vpc-1",
      ServiceName: "com.amazonaws.us-east-1.s3",
      SubnetIds: ["subnet-a", "subnet-b"],
      SecurityGroupIds: ["sg-1"],
      DnsOptions: { DnsRecordIpType: "ipv4" },
      PrivateDnsEnabled: true,
      ClientToken: "tok-1",
    },
  },
  {
    op: "DescribeVpcs",
    wire: [
      ["VpcId.1", "vpc-1"],
      ["Filter.1.Name", "cidr"],
      ["Filter.1.Value.1", "10.0.0.0/16"],
      ["Filter.1.Value.2", "10.1.0.0/16"],
      ["Filter.2.Name", "tag:Name"],
      ["Filter.2.Value.1", "a b&c=d"],
      ["MaxResults", "5"],
      ["DryRun", "true"],
    ],
    input: {
      VpcIds: ["vpc-1"],
      Filters: [
        { Name: "cidr", Values: ["10.0.0.0/16", "10.1.0.0/16"] },
        { Name: "tag:Name", Values: ["a b&c=d"] },
      ],
      MaxResults: 5,
      DryRun: true,
    },
  },
  {
    op: "CreateVpc",
    wire: [
      ["CidrBlock", "10.0.0.0/16"],
      ["TagSpecification.1.ResourceType", "vpc"],
      ["TagSpecification.1.Tag.1.Key", "Name"],
      ["TagSpecification.1.Tag.1.Value", "main"],
      ["TagSpecification.1.Tag.2.Key", "env"],
      ["TagSpecification.1.Tag.2.Value", ""],
    ],
    input: {
      CidrBlock: "10.0.0.0/16",
      TagSpecifications: [
        {
          ResourceType: "vpc",
          Tags: [
            { Key: "Name", Value: "main" },
            { Key: "env", Value: "" },
          ],
        },
      ],
    },
  },
  {
    op: "ModifyVpcEndpointServicePermissions",
    wire: [
      ["ServiceId", "vpce-svc-1"],
      ["AddAllowedPrincipals.1", "arn:aws:iam::123456789012:root"],
      ["AddAllowedPrincipals.2", "*"],
      ["RemoveAllowedPrincipals.1", "arn:aws:iam::210987654321:root"],
    ],
    input: {
      ServiceId: "vpce-svc-1",
      AddAllowedPrincipals: ["arn:aws:iam::123456789012:root", "*"],
      RemoveAllowedPrincipals: ["arn:aws:iam::210987654321:root"],
    },
  },
];

describe("EC2 wire names", () => {
  const harness = sdkHarness("ec2");
  for (const row of EC2_NAMES) {
    it(`${row.op}: the SDK writes them and we read them back`, async () => {
      const { exchange } = await harness.send(row.op, row.input, () => ({
        status: 200,
        body: encodeQuery(op("ec2", row.op), {}, "ec2", "r-1"),
      }));
      const sent = [...new URLSearchParams(String(exchange.request!.body))].filter(
        ([k]) => k !== "Action" && k !== "Version",
      );
      expect(new Set(sent.map(([k, v]) => `${k}=${v}`))).toEqual(
        new Set(row.wire.map(([k, v]) => `${k}=${v}`)),
      );
      expect(decodeQuery(op("ec2", row.op), new URLSearchParams(row.wire), "ec2")).toEqual(row.input);
    });
  }

  it("orders list items by index, not by arrival, and closes gaps", () => {
    const params = new URLSearchParams(
      "Filter.2.Name=b&Filter.1.Value.3=z&Filter.1.Name=a&Filter.1.Value.1=x&Filter.2.Value.1=y",
    );
    expect(decodeQuery(op("ec2", "DescribeVpcs"), params, "ec2")).toEqual({
      Filters: [
        { Name: "a", Values: ["x", "z"] },
        { Name: "b", Values: ["y"] },
      ],
    });
  });

  it("ignores Action, Version and SigV4 query-auth parameters", () => {
    const params = new URLSearchParams(
      "Action=DescribeVpcs&Version=2016-11-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abc&VpcId.1=vpc-1",
    );
    expect(decodeQuery(op("ec2", "DescribeVpcs"), params, "ec2")).toEqual({ VpcIds: ["vpc-1"] });
  });
});

const REJECTED: { name: string; op: string; query: string; code: string; message: string }[] = [
  {
    name: "an unknown top-level parameter",
    op: "DescribeVpcs",
    query: "VpcId.1=vpc-1&Bogus=1",
    code: "UnknownParameter",
    message: "The parameter Bogus is not recognized",
  },
  {
    name: "an unknown nested parameter (named by the segment AWS cannot place)",
    op: "DescribeVpcs",
    query: "Filter.1.Nme=cidr",
    code: "UnknownParameter",
    message: "The parameter Nme is not recognized",
  },
  {
    name: "a list without an index",
    op: "DescribeVpcs",
    query: "VpcId=vpc-1",
    code: "InvalidParameterValue",
    message: "Value (vpc-1) for parameter VpcId is invalid. Expected a list (VpcId.1, VpcId.2, …).",
  },
  {
    name: "index zero",
    op: "DescribeVpcs",
    query: "VpcId.0=vpc-1",
    code: "UnknownParameter",
    message: "The parameter 0 is not recognized",
  },
  {
    name: "a non-numeric integer",
    op: "DescribeVpcs",
    query: "MaxResults=five",
    code: "InvalidParameterValue",
    message: "Value (five) for parameter MaxResults is invalid. Expected a number.",
  },
  {
    name: "an empty integer",
    op: "DescribeVpcs",
    query: "MaxResults=",
    code: "InvalidParameterValue",
    message: "Value () for parameter MaxResults is invalid. Expected a number.",
  },
  {
    name: "a non-boolean flag",
    op: "DescribeVpcs",
    query: "DryRun=yes",
    code: "InvalidParameterValue",
    message: "Value (yes) for parameter DryRun is invalid. Expected a boolean (true or false).",
  },
  {
    name: "a member below a string",
    op: "CreateVpc",
    query: "CidrBlock.1=10.0.0.0/16",
    code: "UnknownParameter",
    message: "The parameter 1 is not recognized",
  },
];

describe("EC2 rejects what it cannot place, with AWS's codes", () => {
  it.each(REJECTED)("$name", ({ op: name, query, code, message }) => {
    let caught: unknown;
    try {
      decodeQuery(op("ec2", name), new URLSearchParams(query), "ec2");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AwsError);
    expect((caught as AwsError).code).toBe(code);
    expect((caught as AwsError).message).toBe(message);
    expect((caught as AwsError).status).toBe(400);
  });
});

describe("awsQuery decoding", () => {
  it("reads member lists, entry maps and empty lists; ignores unknown parameters", () => {
    const params = new URLSearchParams(
      "Names.member.1=a&Names.member.2=b&LoadBalancerArns=&Marker=m&PageSize=20&SomethingNew=1",
    );
    expect(decodeQuery(op("elasticloadbalancing", "DescribeLoadBalancers"), params, "awsQuery")).toEqual({
      Names: ["a", "b"],
      LoadBalancerArns: [],
      Marker: "m",
      PageSize: 20,
    });
  });

  it("still rejects a bad value for a known parameter", () => {
    const params = new URLSearchParams(
      "DurationSeconds=soon&RoleArn=arn:aws:iam::1:role/r&RoleSessionName=s",
    );
    expect(() => decodeQuery(op("sts", "AssumeRole"), params, "awsQuery")).toThrow(
      /DurationSeconds is invalid/,
    );
  });
});

describe("EC2 responses", () => {
  const vpc = {
    // Keys deliberately out of schema order: the XML must not follow them.
    Tags: [{ Value: "main", Key: "Name" }],
    VpcId: "vpc-1",
    OwnerId: "123456789012",
    CidrBlock: "10.0.0.0/16",
    Ipv6CidrBlockAssociationSet: [],
    IsDefault: false,
    State: "available",
    DhcpOptionsId: undefined,
  };

  it("wraps lists in <item>, writes lowerCamel names in schema order and empty sets as empty elements", () => {
    const xml = encodeQuery(op("ec2", "DescribeVpcs"), { Vpcs: [vpc], NextToken: "n<1>" }, "ec2", "req-1");
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>' +
        "<nextToken>n&lt;1&gt;</nextToken><vpcSet><item><ownerId>123456789012</ownerId><ipv6CidrBlockAssociationSet/><isDefault>false</isDefault>" +
        "<tagSet><item><key>Name</key><value>main</value></item></tagSet><vpcId>vpc-1</vpcId><state>available</state>" +
        "<cidrBlock>10.0.0.0/16</cidrBlock></item></vpcSet></DescribeVpcsResponse>",
    );
  });

  it("is what the SDK reads back, empty sets included", async () => {
    const harness = sdkHarness("ec2");
    const { output } = await harness.send("DescribeVpcs", {}, () => ({
      status: 200,
      body: encodeQuery(op("ec2", "DescribeVpcs"), { Vpcs: [vpc] }, "ec2", "req-1"),
    }));
    const { DhcpOptionsId: _, ...expected } = vpc;
    expect(output.Vpcs).toEqual([expected]);
  });

  it("answers <return>true</return> for actions without output", () => {
    expect(encodeQuery(op("ec2", "DeleteVpc"), undefined, "ec2", "r")).toContain(
      "<requestId>r</requestId><return>true</return>",
    );
  });

  it("writes booleans, numbers and timestamps as EC2 does", () => {
    const xml = encodeQuery(
      op("ec2", "CreateVpcEndpoint"),
      {
        VpcEndpoint: {
          VpcEndpointId: "vpce-1",
          PrivateDnsEnabled: true,
          CreationTimestamp: new Date("2017-09-05T20:14:41.240Z"),
        },
      },
      "ec2",
      "r",
    );
    expect(xml).toContain("<privateDnsEnabled>true</privateDnsEnabled>");
    expect(xml).toContain("<creationTimestamp>2017-09-05T20:14:41.240Z</creationTimestamp>");
  });
});

describe("awsQuery responses", () => {
  it("nest the result and the request id as STS and ELBv2 do", () => {
    const xml = encodeQuery(
      op("sts", "GetCallerIdentity"),
      { Account: "123456789012", Arn: "arn:aws:iam::123456789012:root", UserId: "123456789012" },
      "awsQuery",
      "rid",
    );
    expect(xml).toBe(
      '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
        "<UserId>123456789012</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:root</Arn>" +
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
    );
    const elb = encodeQuery(
      op("elasticloadbalancing", "DescribeLoadBalancers"),
      { LoadBalancers: [] },
      "awsQuery",
      "rid",
    );
    expect(elb).toContain('xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"');
    expect(elb).toContain("<DescribeLoadBalancersResult><LoadBalancers/></DescribeLoadBalancersResult>");
  });
});

/** A value frozen all the way down and marked to keep its XML, as api/shape-memo.ts hands out shapes. */
const frozen = <T extends object>(value: T): T => keepingXml(value);

describe("query answers as bytes around the request ID", () => {
  const ID = "6f1c2a4e-0000-4000-8000-00000000abcd";
  const vpcOf = (i: number, name: string) => ({
    VpcId: `vpc-${i}`,
    OwnerId: "123456789012",
    CidrBlock: "10.0.0.0/16",
    IsDefault: false,
    State: "available",
    Tags: [{ Key: "Name", Value: name }],
  });
  const bytesOf = (o: OperationSchema, output: unknown, flavor: "ec2" | "awsQuery") => {
    const { before, after } = encodeQuerySplit(o, output, flavor);
    return Buffer.concat([...before, Buffer.from(ID, "latin1"), ...after]);
  };
  const textOf = (o: OperationSchema, output: unknown, flavor: "ec2" | "awsQuery") =>
    Buffer.from(encodeQuery(o, output, flavor, ID), "utf8");

  it("are the text answer byte for byte: frozen items from their kept bytes, the rest encoded", () => {
    const describeVpcs = op("ec2", "DescribeVpcs");
    // Frozen items (kept bytes), a plain one between them, escapes and characters beyond ASCII.
    const items = [frozen(vpcOf(1, "café <α>")), vpcOf(2, "plain & simple"), frozen(vpcOf(3, "β\r\n"))];
    const output = { Vpcs: items, NextToken: "n<1>" };
    expect(bytesOf(describeVpcs, output, "ec2").equals(textOf(describeVpcs, output, "ec2"))).toBe(true);
    // Asked again, the frozen items come from their kept bytes: still the same answer.
    expect(bytesOf(describeVpcs, output, "ec2").equals(textOf(describeVpcs, output, "ec2"))).toBe(true);
    const sts = op("sts", "GetCallerIdentity");
    const who = frozen({ Account: "123456789012", Arn: "arn:aws:iam::123456789012:root", UserId: "é" });
    expect(bytesOf(sts, who, "awsQuery").equals(textOf(sts, who, "awsQuery"))).toBe(true);
    expect(bytesOf(op("ec2", "DeleteVpc"), undefined, "ec2").toString("utf8")).toContain(
      `<requestId>${ID}</requestId><return>true</return>`,
    );
  });

  it("write a kept value under another element afresh: its text is kept for the first writer only", () => {
    const one = frozen(vpcOf(7, "shared"));
    const listed = bytesOf(op("ec2", "DescribeVpcs"), { Vpcs: [one] }, "ec2").toString("utf8");
    const created = bytesOf(op("ec2", "CreateVpc"), { Vpc: one }, "ec2").toString("utf8");
    expect(listed).toContain("<vpcSet><item><ownerId>123456789012</ownerId>");
    expect(created).toContain("<vpc><ownerId>123456789012</ownerId>");
    expect(created).toBe(textOf(op("ec2", "CreateVpc"), { Vpc: one }, "ec2").toString("utf8"));
    expect(Object.isFrozen(one) && Object.isFrozen(one.Tags[0])).toBe(true);
  });

  it("show a changed item: the next version's shape is a new object with bytes of its own", () => {
    const describeVpcs = op("ec2", "DescribeVpcs");
    const before = frozen(vpcOf(1, "old"));
    const first = bytesOf(describeVpcs, { Vpcs: [before] }, "ec2").toString("utf8");
    const after = frozen(vpcOf(1, "new"));
    const second = bytesOf(describeVpcs, { Vpcs: [after] }, "ec2").toString("utf8");
    expect(first).toContain("<value>old</value>");
    expect(second).toContain("<value>new</value>");
    expect(second).not.toContain("<value>old</value>");
  });

  it("join long lists in chunks without mixing text and kept bytes out of order", () => {
    const describeVpcs = op("ec2", "DescribeVpcs");
    // Enough items for the list writer to compact its parts several times over.
    const items = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0 ? frozen(vpcOf(i, `é${i}`)) : vpcOf(i, `n${i}`),
    );
    const output = { Vpcs: items };
    expect(bytesOf(describeVpcs, output, "ec2").equals(textOf(describeVpcs, output, "ec2"))).toBe(true);
  });
});
