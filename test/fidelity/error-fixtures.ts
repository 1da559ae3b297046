/**
 * One refused call per registered service, in that service's own protocol; the error-shape
 * test fails, naming the service, for a registered service that has none here. To add one:
 * an action the SDK and the CLI can send with an input privlink refuses, the AWS code, the SDK's
 * `err.name` when the model renames it (awsQuery's awsQueryError trait), the status, the exact
 * message, and the AWS CLI arguments of the same call.
 */
export interface ErrorFixture {
  action: string;
  input: Record<string, unknown>;
  code: string;
  /** What the SDK v3 names the error, when not the code. */
  sdkName?: string;
  status: number;
  message: string;
  cli: string[];
  /** Sign with a key privlink does not know (for a service that refuses nothing else). */
  unknownKey?: true;
}

export const ERROR_FIXTURES: Record<string, ErrorFixture> = {
  ec2: {
    action: "DescribeVpcEndpoints",
    input: { VpcEndpointIds: ["vpce-0123456789abcdef0"] },
    code: "InvalidVpcEndpointId.NotFound",
    status: 400,
    message: "The Vpc Endpoint Id 'vpce-0123456789abcdef0' does not exist",
    cli: ["ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", "vpce-0123456789abcdef0"],
  },
  sts: {
    action: "GetCallerIdentity",
    input: {},
    unknownKey: true,
    code: "InvalidClientTokenId",
    status: 403,
    message: "The security token included in the request is invalid.",
    cli: ["sts", "get-caller-identity"],
  },
  elasticloadbalancing: {
    action: "DescribeLoadBalancers",
    input: { Names: ["nope"] },
    code: "LoadBalancerNotFound",
    sdkName: "LoadBalancerNotFoundException",
    status: 400,
    message: "Load balancers '[nope]' not found",
    cli: ["elbv2", "describe-load-balancers", "--names", "nope"],
  },
  route53: {
    action: "GetHostedZone",
    input: { Id: "Z0123456789ABCDEFGHIJ" },
    code: "NoSuchHostedZone",
    status: 404,
    message: "No hosted zone found with ID: Z0123456789ABCDEFGHIJ",
    cli: ["route53", "get-hosted-zone", "--id", "Z0123456789ABCDEFGHIJ"],
  },
  secretsmanager: {
    action: "GetSecretValue",
    input: { SecretId: "nope" },
    code: "ResourceNotFoundException",
    status: 400,
    message: "Secrets Manager can't find the specified secret.",
    cli: ["secretsmanager", "get-secret-value", "--secret-id", "nope"],
  },
  logs: {
    action: "DescribeLogStreams",
    input: { logGroupName: "nope" },
    code: "ResourceNotFoundException",
    status: 400,
    message: "The specified log group does not exist.",
    cli: ["logs", "describe-log-streams", "--log-group-name", "nope"],
  },
  ssm: {
    // GetParameter's ParameterNotFound has an empty message, which the CLI line cannot show.
    action: "PutParameter",
    input: { Name: "/shape/err", Value: "abc", Type: "String", AllowedPattern: "^[0-9]+$" },
    code: "ParameterPatternMismatchException",
    status: 400,
    message: "Parameter value, cannot be validated against allowedPattern: ^[0-9]+$",
    cli: [
      "ssm",
      "put-parameter",
      "--name",
      "/shape/err",
      "--value",
      "abc",
      "--type",
      "String",
      "--allowed-pattern",
      "^[0-9]+$",
    ],
  },
  sns: {
    action: "GetTopicAttributes",
    input: { TopicArn: "arn:aws:sns:us-east-1:000000000000:nope" },
    code: "NotFound",
    sdkName: "NotFoundException",
    status: 404,
    message: "Topic does not exist",
    cli: ["sns", "get-topic-attributes", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:nope"],
  },
  monitoring: {
    action: "DeleteAlarms",
    input: { AlarmNames: ["nope"] },
    code: "ResourceNotFound",
    status: 404,
    message: "nope does not exist.",
    cli: ["cloudwatch", "delete-alarms", "--alarm-names", "nope"],
  },
  // Route 53 Resolver and Direct Connect have no pinned SDK v3 client: sdk-call.ts drives them
  // from botocore's model as a JSON 1.1 client would.
  route53resolver: {
    action: "GetResolverEndpoint",
    input: { ResolverEndpointId: "rslvr-in-0123456789abcdef0" },
    code: "ResourceNotFoundException",
    status: 400,
    message: "Resolver endpoint [rslvr-in-0123456789abcdef0] does not exist.",
    cli: ["route53resolver", "get-resolver-endpoint", "--resolver-endpoint-id", "rslvr-in-0123456789abcdef0"],
  },
  directconnect: {
    action: "DeleteConnection",
    input: { connectionId: "dxcon-fgnope00" },
    code: "DirectConnectClientException",
    status: 400,
    message: "Connection dxcon-fgnope00 does not exist",
    cli: ["directconnect", "delete-connection", "--connection-id", "dxcon-fgnope00"],
  },
};

/**
 * Services nobody here implements, one per protocol family, answered by the one generic
 * "not implemented" mechanism. Pick services no branch will register.
 */
export const UNIMPLEMENTED: { service: string; protocol: string; op: string; cli: string[] }[] = [
  { service: "dynamodb", protocol: "JSON 1.0", op: "ListTables", cli: ["dynamodb", "list-tables"] },
  { service: "kms", protocol: "JSON 1.1", op: "ListKeys", cli: ["kms", "list-keys"] },
  { service: "iam", protocol: "awsQuery", op: "ListUsers", cli: ["iam", "list-users"] },
  {
    service: "cloudfront",
    protocol: "REST-XML",
    op: "ListDistributions",
    cli: ["cloudfront", "list-distributions"],
  },
  { service: "lambda", protocol: "REST-JSON", op: "ListFunctions", cli: ["lambda", "list-functions"] },
];
