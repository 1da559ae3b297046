import { AwsError } from "../../cloud/errors.js";
import * as fl from "../../cloud/flow-log.js";
import type { FlowLog } from "../../cloud/types.js";
import { ensureRegion } from "../../cloud/vpc.js";
import { describe, type HandlerTable, specTags, tagList } from "../handler.js";

function flowLogShape(f: FlowLog) {
  return {
    CreationTime: new Date(f.createdAt),
    DeliverLogsErrorMessage: f.deliverLogsErrorMessage,
    DeliverLogsPermissionArn: f.deliverLogsPermissionArn,
    DeliverLogsStatus: f.deliverLogsStatus,
    FlowLogId: f.id,
    FlowLogStatus: "ACTIVE",
    LogGroupName: f.logGroupName,
    ResourceId: f.resourceId,
    TrafficType: f.trafficType,
    LogDestinationType: f.logDestinationType,
    LogDestination: f.logDestination,
    LogFormat: f.logFormat,
    Tags: tagList(f.tags),
    MaxAggregationInterval: f.maxAggregationInterval,
  };
}

const unsuccessfulShape = (u: fl.Unsuccessful) => ({
  ResourceId: u.resourceId,
  Error: { Code: u.code, Message: u.message },
});

export const flowLogHandlers: HandlerTable = {
  CreateFlowLogs: ({ tx, ctx, input }) => {
    ensureRegion(tx, ctx);
    const out = fl.createFlowLogs(tx, ctx, {
      resourceIds: input.ResourceIds,
      resourceType: input.ResourceType,
      trafficType: input.TrafficType,
      logDestinationType: input.LogDestinationType,
      logDestination: input.LogDestination,
      logGroupName: input.LogGroupName,
      deliverLogsPermissionArn: input.DeliverLogsPermissionArn,
      logFormat: input.LogFormat,
      maxAggregationInterval: input.MaxAggregationInterval,
      clientToken: input.ClientToken,
      tags: specTags(input.TagSpecifications, "vpc-flow-log"),
    });
    return {
      ClientToken: input.ClientToken,
      FlowLogIds: out.flowLogs.map((f) => f.id),
      Unsuccessful: out.unsuccessful.map(unsuccessfulShape),
    };
  },
  DescribeFlowLogs: ({ tx, ctx, input }) => {
    const mine = [...tx.all("flowLog")].filter(
      (f) => f.accountId === ctx.accountId && f.region === ctx.region,
    );
    const page = describe(
      mine,
      { ...input, Filters: input.Filter ?? input.Filters },
      {
        ids: input.FlowLogIds,
        notFound: (id) => new AwsError("InvalidFlowLogId.NotFound", `Flow Log '${id}' does not exist`),
        fields: {
          "deliver-log-status": (f) => f.deliverLogsStatus,
          "log-destination-type": (f) => f.logDestinationType,
          "flow-log-id": (f) => f.id,
          "log-group-name": (f) => f.logGroupName,
          "resource-id": (f) => f.resourceId,
          "traffic-type": (f) => f.trafficType,
        },
      },
    );
    return { FlowLogs: page.items.map(flowLogShape), NextToken: page.nextToken };
  },
  DeleteFlowLogs: ({ tx, ctx, input }) => ({
    Unsuccessful: fl.deleteFlowLogs(tx, ctx, input.FlowLogIds).map(unsuccessfulShape),
  }),
};
