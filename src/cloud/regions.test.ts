import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_ACCOUNT } from "./ids.js";
import {
  availabilityZones,
  azById,
  azByName,
  azIdPrefix,
  DEFAULT_REGION,
  regionInfo,
  regions,
} from "./regions.js";

const OTHER = "111122223333";
const INDEPENDENT = [
  "us-east-1",
  "us-west-1",
  "us-west-2",
  "eu-west-1",
  "ap-northeast-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "sa-east-1",
];

describe("regions", () => {
  it("lists the 34 commercial regions, sorted, us-east-1 the default", () => {
    const names = regions().map((r) => r.name);
    expect(names).toHaveLength(34);
    expect(names).toEqual([...names].sort());
    expect(DEFAULT_REGION).toBe("us-east-1");
    expect(names).toEqual(
      expect.arrayContaining(["mx-central-1", "ap-southeast-7", "ca-west-1", "il-central-1"]),
    );
  });

  const statuses: [string, string][] = [
    ["us-east-1", "opt-in-not-required"],
    ["eu-west-3", "opt-in-not-required"],
    ["af-south-1", "opted-in"],
    ["ap-east-1", "opted-in"],
    ["me-south-1", "opted-in"],
    ["il-central-1", "opted-in"],
    ["mx-central-1", "opted-in"],
    ["ap-southeast-5", "opted-in"],
    ["ca-west-1", "opted-in"],
  ];
  it.each(statuses)("%s is %s", (name, status) => {
    expect(regionInfo(name)).toMatchObject({ optInStatus: status, endpoint: `ec2.${name}.amazonaws.com` });
  });

  it("knows no other partition and no unknown name", () => {
    for (const name of ["cn-north-1", "us-gov-west-1", "me-west-1", "nowhere-1"])
      expect(regionInfo(name)).toBeUndefined();
    expect(availabilityZones(DEFAULT_ACCOUNT, "nowhere-1")).toEqual([]);
  });

  it("gives every region at least two zones with unique, well-formed names and IDs", () => {
    for (const r of regions()) {
      const azs = availabilityZones(DEFAULT_ACCOUNT, r.name);
      expect(azs.length, r.name).toBeGreaterThanOrEqual(2);
      expect(new Set(azs.map((a) => a.id)).size).toBe(azs.length);
      expect(new Set(azs.map((a) => a.name)).size).toBe(azs.length);
      for (const a of azs) {
        expect(a.name).toMatch(new RegExp(`^${r.name}[a-f]$`));
        expect(a.id).toMatch(new RegExp(`^${azIdPrefix(r.name)}-az\\d$`));
      }
      expect([...r.azIds].sort()).toEqual(azs.map((a) => a.id).sort());
    }
  });
});

describe("AZ IDs as AWS publishes them", () => {
  const prefixes: [string, string][] = [
    ["us-east-1", "use1"],
    ["us-west-2", "usw2"],
    ["ap-northeast-1", "apne1"],
    ["ap-southeast-7", "apse7"],
    ["ap-south-2", "aps2"],
    ["ca-central-1", "cac1"],
    ["eu-north-1", "eun1"],
    ["il-central-1", "ilc1"],
    ["mx-central-1", "mxc1"],
    ["me-south-1", "mes1"],
    ["sa-east-1", "sae1"],
  ];
  it.each(prefixes)("%s zone IDs start with %s", (region, prefix) => {
    expect(azIdPrefix(region)).toBe(prefix);
  });

  const defaultZones: [string, string[]][] = [
    [
      "us-east-1",
      [
        "us-east-1a=use1-az1",
        "us-east-1b=use1-az2",
        "us-east-1c=use1-az3",
        "us-east-1d=use1-az4",
        "us-east-1e=use1-az5",
        "us-east-1f=use1-az6",
      ],
    ],
    ["us-west-1", ["us-west-1a=usw1-az1", "us-west-1c=usw1-az3"]],
    [
      "ap-northeast-1",
      ["ap-northeast-1a=apne1-az4", "ap-northeast-1c=apne1-az1", "ap-northeast-1d=apne1-az2"],
    ],
    ["eu-central-1", ["eu-central-1a=euc1-az2", "eu-central-1b=euc1-az3", "eu-central-1c=euc1-az1"]],
    ["ca-central-1", ["ca-central-1a=cac1-az1", "ca-central-1b=cac1-az2", "ca-central-1d=cac1-az4"]],
    [
      "eu-west-2",
      ["eu-west-2a=euw2-az2", "eu-west-2b=euw2-az3", "eu-west-2c=euw2-az1", "eu-west-2d=euw2-az4"],
    ],
    ["ap-south-1", ["ap-south-1a=aps1-az1", "ap-south-1b=aps1-az3", "ap-south-1c=aps1-az2"]],
    ["us-east-2", ["us-east-2a=use2-az1", "us-east-2b=use2-az2", "us-east-2c=use2-az3"]],
  ];
  it.each(defaultZones)("the default account sees %s as AWS lists it", (region, expected) => {
    expect(availabilityZones(DEFAULT_ACCOUNT, region).map((a) => `${a.name}=${a.id}`)).toEqual(expected);
  });
});

describe("per-account zone mapping", () => {
  const mapping = (account: string, region: string) =>
    Object.fromEntries(availabilityZones(account, region).map((a) => [a.name, a.id]));

  it("rotates another account's us-east-1 zones: a different bijection of the same zones", () => {
    const mine = availabilityZones(DEFAULT_ACCOUNT, "us-east-1");
    const theirs = availabilityZones(OTHER, "us-east-1");
    expect(theirs.map((a) => a.name)).toEqual(mine.map((a) => a.name));
    expect([...theirs.map((a) => a.id)].sort()).toEqual([...mine.map((a) => a.id)].sort());
    expect(mapping(OTHER, "us-east-1")).not.toEqual(mapping(DEFAULT_ACCOUNT, "us-east-1"));
  });

  it("is stable for an account", () => {
    expect(mapping(OTHER, "us-west-2")).toEqual(mapping(OTHER, "us-west-2"));
  });

  it("swaps the two us-west-1 zones for every other account", () => {
    expect(availabilityZones(OTHER, "us-west-1").map((a) => `${a.name}=${a.id}`)).toEqual([
      "us-west-1a=usw1-az3",
      "us-west-1c=usw1-az1",
    ]);
  });

  it("keeps the uniform mapping of post-2012 regions for every account", () => {
    for (const region of ["eu-central-1", "us-east-2", "ap-south-1", "mx-central-1"])
      expect(mapping(OTHER, region), region).toEqual(mapping(DEFAULT_ACCOUNT, region));
  });

  it("gives any other account a bijection unlike the default in independently mapped regions", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{12}$/).filter((a) => a !== DEFAULT_ACCOUNT),
        fc.constantFrom(...INDEPENDENT),
        (account, region) => {
          const theirs = availabilityZones(account, region);
          const mine = availabilityZones(DEFAULT_ACCOUNT, region);
          expect([...theirs.map((a) => a.id)].sort()).toEqual([...mine.map((a) => a.id)].sort());
          expect(theirs.some((a, i) => a.id !== mine[i].id)).toBe(true);
          for (const a of theirs) {
            expect(azById(account, region, a.id)).toEqual(a);
            expect(azByName(account, region, a.name)).toEqual(a);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("finds zones by ID across accounts even when the names differ", () => {
    const mine = azById(DEFAULT_ACCOUNT, "us-east-1", "use1-az4");
    const theirs = azById(OTHER, "us-east-1", "use1-az4");
    expect(mine?.name).toBe("us-east-1d");
    expect(theirs?.id).toBe("use1-az4");
    expect(theirs?.name).not.toBe(mine?.name);
    expect(azById(OTHER, "us-east-1", "use1-az9")).toBeUndefined();
    expect(azByName(OTHER, "us-east-1", "us-east-1z")).toBeUndefined();
  });
});
