import { AwsError } from "../../cloud/errors.js";
import { compileFilters, paginate } from "../../cloud/query.js";
import { type AzInfo, availabilityZones, type RegionInfo, regionInfo, regions } from "../../cloud/regions.js";
import * as tags from "../../cloud/tags.js";
import { ensureRegion } from "../../cloud/vpc.js";
import { filtersOf, type HandlerTable, need } from "../handler.js";

type TagIn = { Key?: string; Value?: string };
const tagPairs = (list: TagIn[] | undefined) => (list ?? []).map((t) => ({ key: t.Key, value: t.Value }));

export const metaHandlers: HandlerTable = {
  DescribeRegions: ({ input }) => {
    const names: string[] | undefined = input.RegionNames;
    for (const n of names ?? [])
      if (!regionInfo(n)) throw new AwsError("InvalidParameterValue", `Invalid region: ${n}`);
    const match = compileFilters<RegionInfo>(filtersOf(input), {
      "region-name": (r) => r.name,
      endpoint: (r) => r.endpoint,
      "opt-in-status": (r) => r.optInStatus,
    });
    const list = regions().filter((r) => (!names?.length || names.includes(r.name)) && match(r));
    return {
      Regions: list.map((r) => ({ RegionName: r.name, Endpoint: r.endpoint, OptInStatus: r.optInStatus })),
    };
  },
  DescribeAvailabilityZones: ({ ctx, input }) => {
    const azs = availabilityZones(ctx.accountId, ctx.region);
    const names: string[] = input.ZoneNames ?? [];
    const ids: string[] = input.ZoneIds ?? [];
    for (const n of names)
      if (!azs.some((a) => a.name === n))
        throw new AwsError("InvalidParameterValue", `The zone '${n}' does not exist.`);
    for (const n of ids)
      if (!azs.some((a) => a.id === n))
        throw new AwsError("InvalidParameterValue", `The zone '${n}' does not exist.`);
    const match = compileFilters<AzInfo>(filtersOf(input), {
      "zone-name": (a) => a.name,
      "zone-id": (a) => a.id,
      "region-name": () => ctx.region,
      state: () => "available",
      "zone-type": () => "availability-zone",
      "opt-in-status": () => "opt-in-not-required",
      "group-name": () => ctx.region,
    });
    const list = azs
      .filter((a) => (names.length === 0 && ids.length === 0) || names.includes(a.name) || ids.includes(a.id))
      .filter(match);
    return {
      AvailabilityZones: list.map((a) => ({
        OptInStatus: "opt-in-not-required",
        Messages: [],
        RegionName: ctx.region,
        ZoneName: a.name,
        ZoneId: a.id,
        GroupName: ctx.region,
        NetworkBorderGroup: ctx.region,
        ZoneType: "availability-zone",
        GroupLongName: ctx.region,
        State: "available",
      })),
    };
  },
  DescribeAccountAttributes: ({ ctx }) => ({
    AccountAttributes: [
      { AttributeName: "supported-platforms", AttributeValues: [{ AttributeValue: "VPC" }] },
      { AttributeName: "default-vpc", AttributeValues: [{ AttributeValue: "none" }] },
      { AttributeName: "max-instances", AttributeValues: [{ AttributeValue: "20" }] },
      { AttributeName: "vpc-max-security-groups-per-interface", AttributeValues: [{ AttributeValue: "5" }] },
      { AttributeName: "max-elastic-ips", AttributeValues: [{ AttributeValue: "5" }] },
      { AttributeName: "vpc-max-elastic-ips", AttributeValues: [{ AttributeValue: "5" }] },
      { AttributeName: "account-id", AttributeValues: [{ AttributeValue: ctx.accountId }] },
    ],
  }),
  CreateTags: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    tags.createTags(
      tx,
      ctx.accountId,
      need(input.Resources, "ResourceId"),
      tags.validateTags(tagPairs(need(input.Tags, "Tag"))),
    );
    return {};
  },
  DeleteTags: ({ tx, ctx, input }) => {
    tags.deleteTags(
      tx,
      ctx.accountId,
      need(input.Resources, "ResourceId"),
      input.Tags ? tagPairs(input.Tags) : undefined,
    );
    return {};
  },
  DescribeTags: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const match = compileFilters<tags.TagDescription>(filtersOf(input), {
      key: (t) => t.key,
      value: (t) => t.value,
      "resource-id": (t) => t.resourceId,
      "resource-type": (t) => t.resourceType,
    });
    const page = paginate(
      tags.describeTags(tx, ctx.accountId, ctx.region).filter(match),
      input.MaxResults,
      input.NextToken,
    );
    return {
      Tags: page.items.map((t) => ({
        Key: t.key,
        ResourceId: t.resourceId,
        ResourceType: t.resourceType,
        Value: t.value,
      })),
      NextToken: page.nextToken,
    };
  },
};
