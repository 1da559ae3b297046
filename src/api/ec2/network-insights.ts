import "../../analyze/insights.js"; // registers the step that answers running analyses
import { AwsError } from "../../cloud/errors.js";
import * as ni from "../../cloud/network-insights.js";
import type { NetworkInsightsAnalysis, NetworkInsightsPath } from "../../cloud/types.js";
import { describe, type HandlerTable, specTags, tagList } from "../handler.js";

function pathShape(p: NetworkInsightsPath) {
  return {
    NetworkInsightsPathId: p.id,
    NetworkInsightsPathArn: p.arn,
    CreatedDate: new Date(p.createdAt),
    Source: p.source,
    Destination: p.destination,
    SourceArn: p.sourceArn,
    DestinationArn: p.destinationArn,
    SourceIp: p.sourceIp,
    DestinationIp: p.destinationIp,
    Protocol: p.protocol,
    DestinationPort: p.destinationPort,
    Tags: tagList(p.tags),
  };
}

function analysisShape(a: NetworkInsightsAnalysis) {
  return {
    NetworkInsightsAnalysisId: a.id,
    NetworkInsightsAnalysisArn: a.arn,
    NetworkInsightsPathId: a.pathId,
    AdditionalAccounts: a.additionalAccounts,
    FilterInArns: a.filterInArns,
    StartDate: new Date(a.startedAt),
    Status: a.status,
    StatusMessage: a.statusMessage,
    NetworkPathFound: a.networkPathFound,
    ForwardPathComponents: a.forwardPathComponents,
    ReturnPathComponents: a.returnPathComponents,
    Explanations: a.explanations,
    Tags: tagList(a.tags),
  };
}

export const networkInsightsHandlers: HandlerTable = {
  CreateNetworkInsightsPath: ({ tx, ctx, input }) => {
    if (input.FilterAtSource || input.FilterAtDestination)
      throw new AwsError(
        "InvalidParameterCombination",
        "privlink analyses one flow: give SourceIp, DestinationIp and DestinationPort instead of FilterAtSource/FilterAtDestination",
      );
    const p = ni.createPath(tx, ctx, {
      source: input.Source,
      destination: input.Destination,
      sourceIp: input.SourceIp,
      destinationIp: input.DestinationIp,
      protocol: input.Protocol,
      destinationPort: input.DestinationPort,
      clientToken: input.ClientToken,
      tags: specTags(input.TagSpecifications, "network-insights-path"),
    });
    return { NetworkInsightsPath: pathShape(p), ClientToken: input.ClientToken };
  },
  DescribeNetworkInsightsPaths: ({ tx, ctx, input }) => {
    const mine = [...tx.all("networkInsightsPath")].filter(
      (p) => p.accountId === ctx.accountId && p.region === ctx.region,
    );
    const page = describe(mine, input, {
      ids: input.NetworkInsightsPathIds,
      notFound: ni.pathNotFound,
      fields: {
        source: (p) => p.source,
        destination: (p) => p.destination ?? "",
        "source-ip": (p) => p.sourceIp ?? "",
        "destination-ip": (p) => p.destinationIp ?? "",
        protocol: (p) => p.protocol,
        "destination-port": (p) => String(p.destinationPort ?? ""),
      },
    });
    return { NetworkInsightsPaths: page.items.map(pathShape), NextToken: page.nextToken };
  },
  DeleteNetworkInsightsPath: ({ tx, ctx, input }) => ({
    NetworkInsightsPathId: ni.deletePath(tx, ctx, input.NetworkInsightsPathId).id,
  }),
  StartNetworkInsightsAnalysis: ({ tx, ctx, input }) => {
    const a = ni.startAnalysis(tx, ctx, {
      pathId: input.NetworkInsightsPathId,
      filterInArns: input.FilterInArns,
      additionalAccounts: input.AdditionalAccounts,
      tags: specTags(input.TagSpecifications, "network-insights-analysis"),
    });
    return { NetworkInsightsAnalysis: analysisShape(a) };
  },
  DescribeNetworkInsightsAnalyses: ({ tx, ctx, input }) => {
    const from = input.AnalysisStartTime ? new Date(input.AnalysisStartTime).getTime() : -Infinity;
    const to = input.AnalysisEndTime ? new Date(input.AnalysisEndTime).getTime() : Infinity;
    const mine = [...tx.all("networkInsightsAnalysis")].filter((a) => {
      const t = Date.parse(a.startedAt);
      return (
        a.accountId === ctx.accountId &&
        a.region === ctx.region &&
        (!input.NetworkInsightsPathId || a.pathId === input.NetworkInsightsPathId) &&
        t >= from &&
        t <= to
      );
    });
    if (input.NetworkInsightsPathId && !tx.get("networkInsightsPath", input.NetworkInsightsPathId))
      throw ni.pathNotFound(input.NetworkInsightsPathId);
    const page = describe(mine, input, {
      ids: input.NetworkInsightsAnalysisIds,
      notFound: ni.analysisNotFound,
      fields: {
        "path-found": (a) => (a.networkPathFound === undefined ? "" : String(a.networkPathFound)),
        status: (a) => a.status,
      },
    });
    return { NetworkInsightsAnalyses: page.items.map(analysisShape), NextToken: page.nextToken };
  },
  DeleteNetworkInsightsAnalysis: ({ tx, ctx, input }) => ({
    NetworkInsightsAnalysisId: ni.deleteAnalysis(tx, ctx, input.NetworkInsightsAnalysisId).id,
  }),
};
