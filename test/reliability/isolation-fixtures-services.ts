import type { AResources, Fixture } from "./isolation-fixtures.js";

/**
 * Isolation rows for CloudWatch Logs, SSM Parameter Store, SNS and CloudWatch metrics. Logs
 * groups, parameters and alarms are named per account: B naming A's name names its own, absent,
 * object (AWS's not-found); SNS names topics by ARN, and a foreign topic without a policy grant
 * is AuthorizationError.
 */

const list: Fixture = { input: () => ({}), list: true };
const LOGS_NF = "ResourceNotFoundException";
const SSM_NF = "ParameterNotFound";
// The wire code is AuthorizationError; SDK v3 names its exception class AuthorizationErrorException.
const SNS_DENY = "AuthorizationErrorException";
// A foreign log group's ARN is refused by IAM before it is looked up.
const LOGS_DENY = "AccessDeniedException";
const group = "a-group";
const stream = "a-stream";
const param = "/a/param";
/** The log group's ARN as TagResource takes it (without DescribeLogGroups' trailing `:*`). */
const groupArn = (a: AResources) => a.logGroupArn.replace(/:\*$/, "");
const metric = (a: AResources) => ({
  Namespace: "A/App",
  MetricName: "Hits",
  Dimensions: [{ Name: "Vpc", Value: a.vpcId }],
});

export const SERVICE_FIXTURES: Record<string, Fixture> = {
  // ---- logs ----
  "logs:CreateLogGroup": { input: () => ({ logGroupName: "b-group" }), list: true },
  "logs:DeleteLogGroup": { input: () => ({ logGroupName: group }), error: LOGS_NF },
  "logs:CreateLogStream": {
    input: () => ({ logGroupName: group, logStreamName: "b-stream" }),
    error: LOGS_NF,
  },
  "logs:DeleteLogStream": { input: () => ({ logGroupName: group, logStreamName: stream }), error: LOGS_NF },
  "logs:PutRetentionPolicy": { input: () => ({ logGroupName: group, retentionInDays: 1 }), error: LOGS_NF },
  "logs:DeleteRetentionPolicy": { input: () => ({ logGroupName: group }), error: LOGS_NF },
  "logs:AssociateKmsKey": {
    input: () => ({
      logGroupName: group,
      kmsKeyId: "arn:aws:kms:us-east-1:222233334444:key/11111111-2222-3333-4444-555555555555",
    }),
    error: LOGS_NF,
  },
  "logs:DisassociateKmsKey": { input: () => ({ logGroupName: group }), error: LOGS_NF },
  "logs:PutLogEvents": {
    input: () => ({
      logGroupName: group,
      logStreamName: stream,
      logEvents: [{ timestamp: Date.now(), message: "b" }],
    }),
    error: LOGS_NF,
  },
  "logs:GetLogEvents": { input: () => ({ logGroupName: group, logStreamName: stream }), error: LOGS_NF },
  "logs:FilterLogEvents": { input: () => ({ logGroupName: group }), error: LOGS_NF },
  "logs:DescribeLogGroups": list,
  "logs:DescribeLogStreams": { input: () => ({ logGroupName: group }), error: LOGS_NF },
  "logs:TagLogGroup": { input: () => ({ logGroupName: group, tags: { x: "y" } }), error: LOGS_NF },
  "logs:UntagLogGroup": { input: () => ({ logGroupName: group, tags: ["Name"] }), error: LOGS_NF },
  "logs:ListTagsLogGroup": { input: () => ({ logGroupName: group }), error: LOGS_NF },
  "logs:TagResource": { input: (a) => ({ resourceArn: groupArn(a), tags: { x: "y" } }), error: LOGS_DENY },
  "logs:UntagResource": { input: (a) => ({ resourceArn: groupArn(a), tagKeys: ["Name"] }), error: LOGS_DENY },
  "logs:ListTagsForResource": { input: (a) => ({ resourceArn: groupArn(a) }), error: LOGS_DENY },
  "logs:PutResourcePolicy": {
    input: () => ({
      policyName: "b-logs-policy",
      policyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "delivery.logs.amazonaws.com" },
            Action: "logs:PutLogEvents",
            Resource: "arn:aws:logs:us-east-1:222233334444:log-group:b-group:*",
          },
        ],
      }),
    }),
    list: true,
  },
  "logs:DescribeResourcePolicies": list,
  "logs:DeleteResourcePolicy": { input: () => ({ policyName: "a-logs-policy" }), error: LOGS_NF },
  // ---- ssm ----
  "ssm:PutParameter": { input: () => ({ Name: "/b/param", Value: "b", Type: "String" }), list: true },
  "ssm:GetParameter": { input: () => ({ Name: param }), error: SSM_NF },
  // Batch reads answer 200 and list the names they do not hold as InvalidParameters.
  "ssm:GetParameters": { input: () => ({ Names: [param] }), list: true },
  "ssm:GetParametersByPath": { input: () => ({ Path: "/a" }), list: true },
  "ssm:DeleteParameter": { input: () => ({ Name: param }), error: SSM_NF },
  "ssm:DeleteParameters": { input: () => ({ Names: [param] }), list: true },
  "ssm:DescribeParameters": list,
  "ssm:GetParameterHistory": { input: () => ({ Name: param }), error: SSM_NF },
  "ssm:LabelParameterVersion": { input: () => ({ Name: param, Labels: ["b-label"] }), error: SSM_NF },
  "ssm:UnlabelParameterVersion": {
    input: () => ({ Name: param, ParameterVersion: 1, Labels: ["a-label"] }),
    error: SSM_NF,
  },
  "ssm:AddTagsToResource": {
    input: () => ({ ResourceType: "Parameter", ResourceId: param, Tags: [{ Key: "x", Value: "y" }] }),
    error: "InvalidResourceId",
  },
  "ssm:RemoveTagsFromResource": {
    input: () => ({ ResourceType: "Parameter", ResourceId: param, TagKeys: ["Name"] }),
    error: "InvalidResourceId",
  },
  "ssm:ListTagsForResource": {
    input: () => ({ ResourceType: "Parameter", ResourceId: param }),
    error: "InvalidResourceId",
  },
  // ---- sns ----
  "sns:CreateTopic": { input: () => ({ Name: "b-topic" }), list: true },
  "sns:DeleteTopic": { input: (a) => ({ TopicArn: a.topicArn }), error: SNS_DENY },
  "sns:ListTopics": list,
  "sns:GetTopicAttributes": { input: (a) => ({ TopicArn: a.topicArn }), error: SNS_DENY },
  "sns:SetTopicAttributes": {
    input: (a) => ({ TopicArn: a.topicArn, AttributeName: "DisplayName", AttributeValue: "b" }),
    error: SNS_DENY,
  },
  "sns:Subscribe": {
    input: (a) => ({ TopicArn: a.topicArn, Protocol: "privlink-events" }),
    error: SNS_DENY,
  },
  "sns:ConfirmSubscription": {
    input: (a) => ({ TopicArn: a.topicArn, Token: "0123456789abcdef" }),
    error: SNS_DENY,
  },
  "sns:Unsubscribe": { input: (a) => ({ SubscriptionArn: a.subscriptionArn }), error: SNS_DENY },
  "sns:ListSubscriptions": list,
  "sns:ListSubscriptionsByTopic": { input: (a) => ({ TopicArn: a.topicArn }), error: SNS_DENY },
  "sns:GetSubscriptionAttributes": {
    input: (a) => ({ SubscriptionArn: a.subscriptionArn }),
    error: SNS_DENY,
  },
  "sns:SetSubscriptionAttributes": {
    input: (a) => ({
      SubscriptionArn: a.subscriptionArn,
      AttributeName: "RawMessageDelivery",
      AttributeValue: "true",
    }),
    error: SNS_DENY,
  },
  "sns:Publish": { input: (a) => ({ TopicArn: a.topicArn, Message: "b" }), error: SNS_DENY },
  "sns:TagResource": {
    input: (a) => ({ ResourceArn: a.topicArn, Tags: [{ Key: "x", Value: "y" }] }),
    error: SNS_DENY,
  },
  "sns:UntagResource": { input: (a) => ({ ResourceArn: a.topicArn, TagKeys: ["Name"] }), error: SNS_DENY },
  "sns:ListTagsForResource": { input: (a) => ({ ResourceArn: a.topicArn }), error: SNS_DENY },
  // ---- monitoring (CloudWatch metrics and alarms: B sees only its own) ----
  "monitoring:PutMetricData": {
    input: () => ({ Namespace: "B/App", MetricData: [{ MetricName: "Hits", Value: 1 }] }),
    list: true,
  },
  "monitoring:GetMetricStatistics": {
    input: (a) => ({
      ...metric(a),
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(Date.now() + 60_000),
      Period: 60,
      Statistics: ["Sum"],
    }),
    list: true,
  },
  "monitoring:GetMetricData": {
    input: (a) => ({
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [{ Id: "m1", MetricStat: { Metric: metric(a), Period: 60, Stat: "Sum" } }],
    }),
    list: true,
  },
  "monitoring:ListMetrics": list,
  "monitoring:PutMetricAlarm": {
    input: () => ({
      AlarmName: "b-alarm",
      Namespace: "B/App",
      MetricName: "Hits",
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanThreshold",
    }),
    list: true,
  },
  "monitoring:DescribeAlarms": list,
  "monitoring:DeleteAlarms": { input: () => ({ AlarmNames: ["a-alarm"] }), error: "ResourceNotFound" },
};
