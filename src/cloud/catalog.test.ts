import { describe, expect, it } from "vitest";
import {
  type AwsService,
  awsPrefixLists,
  awsServiceByName,
  awsServiceByPrivateDnsName,
  awsServices,
  VPCE_HOSTED_ZONE_IDS,
} from "./catalog.js";
import { regionInfo, regions } from "./regions.js";

const USE1_ZONES = ["use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"];

type Expected = [name: string, type: "Interface" | "Gateway", fields: Partial<AwsService>];

// Each row is a real entry of `aws ec2 describe-vpc-endpoint-services` in us-east-1.
const REAL: Expected[] = [
  [
    "com.amazonaws.us-east-1.secretsmanager",
    "Interface",
    {
      shortName: "secretsmanager",
      privateDnsNames: ["secretsmanager.us-east-1.amazonaws.com"],
      baseEndpointDnsNames: ["secretsmanager.us-east-1.vpce.amazonaws.com"],
      vpcEndpointPolicySupported: true,
      supportedIpAddressTypes: ["ipv4"],
      azIds: USE1_ZONES,
      crossRegion: false,
      signingName: "secretsmanager",
      protocol: "json",
    },
  ],
  [
    "com.amazonaws.us-east-1.ecr.dkr",
    "Interface",
    {
      privateDnsNames: ["*.dkr.ecr.us-east-1.amazonaws.com"],
      baseEndpointDnsNames: ["dkr.ecr.us-east-1.vpce.amazonaws.com"],
      signingName: "ecr",
      crossRegion: true,
    },
  ],
  [
    "com.amazonaws.us-east-1.ecr.api",
    "Interface",
    {
      privateDnsNames: ["api.ecr.us-east-1.amazonaws.com"],
      baseEndpointDnsNames: ["api.ecr.us-east-1.vpce.amazonaws.com"],
      signingName: "ecr",
      protocol: "json",
    },
  ],
  [
    "com.amazonaws.us-east-1.s3",
    "Interface",
    {
      privateDnsNames: [
        "*.s3.us-east-1.amazonaws.com",
        "*.s3-accesspoint.us-east-1.amazonaws.com",
        "*.s3-control.us-east-1.amazonaws.com",
      ],
      baseEndpointDnsNames: ["s3.us-east-1.vpce.amazonaws.com"],
      signingName: "s3",
      protocol: "restXml",
      crossRegion: true,
    },
  ],
  [
    "com.amazonaws.us-east-1.s3",
    "Gateway",
    {
      privateDnsNames: [],
      baseEndpointDnsNames: ["s3.us-east-1.amazonaws.com"],
      vpcEndpointPolicySupported: true,
      azIds: USE1_ZONES,
    },
  ],
  [
    "com.amazonaws.us-east-1.dynamodb",
    "Gateway",
    {
      privateDnsNames: [],
      baseEndpointDnsNames: ["dynamodb.us-east-1.amazonaws.com"],
      signingName: "dynamodb",
    },
  ],
  [
    "com.amazonaws.us-east-1.execute-api",
    "Interface",
    { privateDnsNames: ["*.execute-api.us-east-1.amazonaws.com"], signingName: "execute-api" },
  ],
  [
    "com.amazonaws.us-east-1.kinesis-streams",
    "Interface",
    {
      privateDnsNames: [
        "kinesis.us-east-1.amazonaws.com",
        "*.data-kinesis.us-east-1.amazonaws.com",
        "*.control-kinesis.us-east-1.amazonaws.com",
      ],
      baseEndpointDnsNames: ["kinesis.us-east-1.vpce.amazonaws.com"],
      signingName: "kinesis",
    },
  ],
  [
    "com.amazonaws.us-east-1.ecs-agent",
    "Interface",
    {
      privateDnsNames: ["ecs-a.us-east-1.amazonaws.com"],
      baseEndpointDnsNames: ["ecs-a.us-east-1.vpce.amazonaws.com"],
    },
  ],
  [
    "com.amazonaws.us-east-1.codeartifact.repositories",
    "Interface",
    {
      privateDnsNames: ["*.d.codeartifact.us-east-1.amazonaws.com"],
      baseEndpointDnsNames: ["d.codeartifact.us-east-1.vpce.amazonaws.com"],
    },
  ],
  [
    "com.amazonaws.us-east-1.sagemaker.runtime",
    "Interface",
    {
      privateDnsNames: ["runtime.sagemaker.us-east-1.amazonaws.com"],
      signingName: "sagemaker",
      protocol: "restJson",
    },
  ],
  [
    "com.amazonaws.us-east-1.email-smtp",
    "Interface",
    { vpcEndpointPolicySupported: false, azIds: ["use1-az2", "use1-az3", "use1-az4"] },
  ],
  [
    "com.amazonaws.us-east-1.athena",
    "Interface",
    {
      privateDnsNames: ["athena.us-east-1.amazonaws.com", "athena.us-east-1.api.aws"],
      supportedIpAddressTypes: ["ipv4", "ipv6"],
    },
  ],
  ["com.amazonaws.us-east-1.ec2", "Interface", { signingName: "ec2", protocol: "ec2" }],
  ["com.amazonaws.us-east-1.sts", "Interface", { signingName: "sts", protocol: "query" }],
  ["com.amazonaws.us-east-1.monitoring", "Interface", { signingName: "monitoring" }],
  ["com.amazonaws.us-east-1.logs", "Interface", { signingName: "logs", protocol: "json" }],
  ["com.amazonaws.us-east-1.cloudtrail", "Interface", { vpcEndpointPolicySupported: false }],
  ["com.amazonaws.us-east-1.states", "Interface", { signingName: "states" }],
  [
    "com.amazonaws.us-east-1.comprehendmedical",
    "Interface",
    { baseEndpointDnsNames: ["prod.comprehendmedical.us-east-1.vpce.amazonaws.com"] },
  ],
  [
    "aws.sagemaker.us-east-1.notebook",
    "Interface",
    { privateDnsNames: ["*.notebook.us-east-1.sagemaker.aws"] },
  ],
  [
    "com.amazonaws.iam",
    "Interface",
    { privateDnsNames: ["iam.amazonaws.com"], region: "us-east-1", signingName: "iam", crossRegion: true },
  ],
];

describe("AWS service catalog: real us-east-1 entries", () => {
  it.each(REAL)("%s (%s)", (name, type, fields) => {
    const service = awsServiceByName(name, { type });
    expect(service).toBeDefined();
    expect(service).toMatchObject({ serviceName: name, type, ...fields });
  });

  it("lists the Gateway and the Interface s3 and dynamodb services, Gateway first", () => {
    const list = awsServices("us-east-1");
    for (const short of ["s3", "dynamodb"]) {
      const same = list.filter((s) => s.serviceName === `com.amazonaws.us-east-1.${short}`);
      expect(same.map((s) => s.type)).toEqual(["Gateway", "Interface"]);
    }
    expect(awsServiceByName("com.amazonaws.us-east-1.s3")?.type).toBe("Gateway");
  });

  it("marks exactly the §9 services cross-region", () => {
    const cross = awsServices("us-east-1")
      .filter((s) => s.crossRegion)
      .map((s) => s.shortName);
    expect(new Set(cross)).toEqual(
      new Set([
        "ecr.api",
        "ecr.dkr",
        "ecs",
        "iam",
        "kinesis-firehose",
        "kinesisanalytics",
        "kinesisanalytics-fips",
        "kms",
        "kms-fips",
        "lambda",
        "route53",
        "s3",
      ]),
    );
  });

  it("uses the service ID in the base names of services AWS names that way", () => {
    const aps = awsServiceByName("com.amazonaws.us-east-1.aps-workspaces")!;
    expect(aps.baseEndpointDnsNames).toEqual([`${aps.serviceId}.us-east-1.vpce.amazonaws.com`]);
  });
});

describe("AWS service catalog: every region", () => {
  const CORE = [
    "ec2",
    "ssm",
    "ssmmessages",
    "secretsmanager",
    "logs",
    "sts",
    "kms",
    "ecr.api",
    "ecr.dkr",
    "sqs",
    "lambda",
  ];

  it.each(regions().map((r) => [r.name]))("%s lists the core services, sorted and well-formed", (region) => {
    const list = awsServices(region);
    const names = list.map((s) => s.serviceName);
    expect(names).toEqual([...names].sort());
    for (const short of CORE)
      expect(
        awsServiceByName(`com.amazonaws.${region}.${short}`, { type: "Interface" }),
        short,
      ).toBeDefined();
    expect(list.filter((s) => s.type === "Gateway").map((s) => s.shortName)).toEqual(["dynamodb", "s3"]);
    const zones = new Set(regionInfo(region)!.azIds);
    for (const s of list) {
      expect(s.region).toBe(region);
      expect(s.serviceId).toMatch(/^vpce-svc-[0-9a-f]{17}$/);
      expect(s.azIds.length, s.serviceName).toBeGreaterThan(0);
      for (const id of s.azIds) expect(zones.has(id), `${s.serviceName} ${id}`).toBe(true);
      for (const n of [...s.privateDnsNames, ...s.baseEndpointDnsNames]) expect(n).not.toMatch(/[{}]/);
      if (
        !s.serviceName.startsWith("com.amazonaws.s3-global") &&
        s.shortName !== "iam" &&
        s.shortName !== "route53"
      )
        expect(s.serviceName).toContain(`.${region}.`);
    }
    expect(new Set(list.map((s) => s.serviceId)).size).toBe(list.length);
  });

  it("offers IAM and Route 53 only in us-east-1, and FIPS services only in the US and Canada", () => {
    expect(awsServices("eu-west-1").some((s) => s.shortName === "iam" || s.shortName === "route53")).toBe(
      false,
    );
    expect(awsServices("eu-west-1").some((s) => s.shortName.endsWith("-fips"))).toBe(false);
    expect(awsServiceByName("com.amazonaws.us-west-2.kms-fips")).toBeDefined();
    expect(awsServiceByName("com.amazonaws.iam", { region: "eu-west-1" })).toBeUndefined();
  });

  it("has at least 120 interface services in us-east-1 and fewer in a young region", () => {
    const count = (r: string) => awsServices(r).filter((s) => s.type === "Interface").length;
    expect(count("us-east-1")).toBeGreaterThanOrEqual(120);
    expect(count("mx-central-1")).toBeLessThan(count("us-east-1"));
  });

  it("returns nothing for an unknown region or name", () => {
    expect(awsServices("nowhere-1")).toEqual([]);
    expect(awsServiceByName("com.amazonaws.us-east-1.nonesuch")).toBeUndefined();
    expect(awsServiceByName("com.amazonaws.eu-central-1.organizations")).toBeUndefined();
  });
});

describe("awsServiceByPrivateDnsName", () => {
  const cases: [host: string, region: string, expected: string | undefined][] = [
    ["secretsmanager.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.secretsmanager"],
    ["SecretsManager.US-EAST-1.amazonaws.com.", "us-east-1", "com.amazonaws.us-east-1.secretsmanager"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.ecr.dkr"],
    ["api.ecr.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.ecr.api"],
    ["dkr.ecr.us-east-1.amazonaws.com", "us-east-1", undefined],
    ["abc123.execute-api.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.execute-api"],
    ["my-bucket.s3.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.s3"],
    ["a.b.s3.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.s3"],
    ["s3.us-east-1.amazonaws.com", "us-east-1", undefined],
    ["stream.data-kinesis.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.kinesis-streams"],
    ["123456789012.ddb.us-east-1.amazonaws.com", "us-east-1", "com.amazonaws.us-east-1.dynamodb"],
    ["iam.amazonaws.com", "us-east-1", "com.amazonaws.iam"],
    ["secretsmanager.eu-west-1.amazonaws.com", "us-east-1", undefined],
    ["secretsmanager.eu-west-1.amazonaws.com", "eu-west-1", "com.amazonaws.eu-west-1.secretsmanager"],
    ["logs.us-east-1.amazonaws.com.evil.example", "us-east-1", undefined],
    ["xsecretsmanager.us-east-1.amazonaws.com", "us-east-1", undefined],
  ];
  it.each(cases)("%s in %s → %s", (host, region, expected) => {
    const found = awsServiceByPrivateDnsName(host, region);
    expect(found?.serviceName).toBe(expected);
    if (found) expect(found.type).toBe("Interface");
  });
});

describe("public vpce hosted zones", () => {
  it.each([
    ["us-east-1", "Z7HUB22UULQXV"],
    ["us-east-2", "ZC8PG0KIFKBRI"],
    ["eu-west-1", "Z38GZ743OKFT7T"],
    ["ap-southeast-4", "Z07508191CO1RNBX3X3AU"],
  ])("%s is %s", (region, zone) => {
    expect(VPCE_HOSTED_ZONE_IDS[region]).toBe(zone);
  });

  it("has a distinct, well-formed zone for every region", () => {
    const zones = regions().map((r) => VPCE_HOSTED_ZONE_IDS[r.name]);
    for (const z of zones) expect(z).toMatch(/^Z[0-9A-Z]{8,31}$/);
    expect(new Set(zones).size).toBe(zones.length);
  });
});

describe("AWS-managed prefix lists", () => {
  it.each([
    ["us-east-1", "s3", "pl-63a5400a"],
    ["us-east-1", "dynamodb", "pl-02cd2c6b"],
    ["us-west-2", "s3", "pl-68a54001"],
    ["us-west-2", "dynamodb", "pl-00a54069"],
    ["eu-west-1", "s3", "pl-6da54004"],
  ])("%s %s is %s", (region, service, id) => {
    const list = awsPrefixLists(region).find((p) => p.name === `com.amazonaws.${region}.${service}`);
    expect(list?.id).toBe(id);
  });

  it("gives every region an s3 and a dynamodb list with valid IDs and CIDRs", () => {
    for (const r of regions()) {
      const lists = awsPrefixLists(r.name);
      expect(lists.map((p) => p.name).sort()).toEqual([
        `com.amazonaws.${r.name}.dynamodb`,
        `com.amazonaws.${r.name}.s3`,
      ]);
      for (const p of lists) {
        expect(p.region).toBe(r.name);
        expect(p.id).toMatch(/^pl-[0-9a-f]{8}$/);
        expect(p.cidrs.length).toBeGreaterThan(0);
        for (const c of p.cidrs) expect(c).toMatch(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/);
      }
      expect(lists[0].id).not.toBe(lists[1].id);
    }
    expect(awsPrefixLists("mx-central-1")).toEqual(awsPrefixLists("mx-central-1"));
    expect(awsPrefixLists("nowhere-1")).toEqual([]);
  });
});
