/**
 * The AWS-owned endpoint services that DescribeVpcEndpointServices lists, for every region, plus
 * the other static AWS facts endpoints need (public vpce hosted zones, managed prefix lists).
 *
 * Sources, newest first:
 * - The service table is a real `aws ec2 describe-vpc-endpoint-services` dump of us-east-1
 *   (aws-samples/aws-vpc-builder-cdk, discovery/endpoints-us-east-1.json, ~2023): service names,
 *   private DNS names, base endpoint names, policy support, IP types and the us-east-1 zones of
 *   the services that lack some. Services AWS has since retired (Evidently, Lookout for
 *   Metrics/Vision, Nimble Studio, RoboMaker, Elastic Inference, Fleet Hub, QLDB, Private 5G,
 *   RoboRunner) are left out; newer ones (apigateway, dynamodb interface, iam, route53,
 *   eks-auth, bedrock-*, guardduty, acm, cognito-*, kinesisanalytics, dynamodb-streams,
 *   organizations) follow the AWS PrivateLink guide and the CDK's InterfaceVpcEndpointAwsService.
 * - Signing names and protocols come from the botocore 1.43 service models; the regions a
 *   service is offered in come from botocore's endpoints.json for that service (a proxy: AWS does
 *   not publish PrivateLink availability per region). FIPS services are limited to the US and
 *   Canada regions. Where botocore has no region list the row says which set it assumes.
 * - Zonal gaps are only known for us-east-1 (the dump); elsewhere a service is in every zone.
 *   The gap letters are the dump account's names, read through privlink's default mapping.
 * - Cross-region support (§9): s3, iam, ecr.api, ecr.dkr, kms, kms-fips, ecs, lambda,
 *   kinesis-firehose, kinesisanalytics(-fips), route53 (AWS "Cross-region enabled services").
 * - `protocol` is the wire a client most likely uses: "unknown" for non-API endpoints (docker,
 *   git, SMTP, gRPC, websockets, user APIs behind execute-api) and CloudWatch is listed as
 *   "json" although it also accepts awsQuery and Smithy RPCv2 CBOR. SQS is "json"; old SDKs
 *   still send awsQuery.
 * Uncertain and documented rather than verified: the dynamodb interface private DNS names
 * (`dynamodb.<r>` plus the account-based `*.ddb.<r>` that current SDKs call), the base names of
 * iam and route53, and IPv6 support of services added after the dump (ipv4 only unless a doc
 * said otherwise). ServiceIds are privlink-made (a stable hash of the service name).
 */
import { DEFAULT_ACCOUNT } from "./ids.js";
import { azByName, DEFAULT_REGION, regions } from "./regions.js";

export type ServiceType = "Interface" | "Gateway";
export type ServiceProtocol = "json" | "query" | "ec2" | "restXml" | "restJson" | "unknown";

export interface AwsService {
  shortName: string;
  serviceName: string;
  /** `vpce-svc-` + 17 hex; privlink-made, stable per service name and type. */
  serviceId: string;
  type: ServiceType;
  region: string;
  privateDnsNames: string[];
  baseEndpointDnsNames: string[];
  vpcEndpointPolicySupported: boolean;
  supportedIpAddressTypes: ("ipv4" | "ipv6")[];
  azIds: string[];
  crossRegion: boolean;
  signingName: string;
  protocol: ServiceProtocol;
}

/**
 * One service, compactly. Defaults: Interface; name `com.amazonaws.<region>.<n>`; private DNS
 * `<n reversed by dots>.<region>.amazonaws.com` ("ecr.api" → "api.ecr.…"); base name the same
 * under `vpce.amazonaws.com`; policy supported; ipv4 only; every zone; every region.
 * In names `{r}` is the region and `{svcid}` the service ID. `in`/`not` are space-separated
 * region lists; `use1` lists the us-east-1 zone letters when the service lacks some.
 */
interface Row {
  n: string;
  sig: string;
  p: ServiceProtocol;
  t?: "Gateway";
  prefix?: string;
  global?: true;
  dns?: string[];
  base?: string[];
  noPolicy?: true;
  v6?: true;
  x?: true;
  use1?: string;
  in?: string;
  not?: string;
}

const FIPS = "us-east-1 us-east-2 us-west-1 us-west-2 ca-central-1 ca-west-1";
/** The regions enabled by default; assumed for services botocore gives no region list for. */
const DEFAULT_ON = regions()
  .filter((r) => r.optInStatus === "opt-in-not-required")
  .map((r) => r.name)
  .join(" ");

// biome-ignore format: one service per line keeps the table reviewable
const ROWS: readonly Row[] = [
  { n: "kendra-ranking", sig: "kendra-ranking", p: "json", prefix: "aws.api", dns: ["kendra-ranking.{r}.api.aws"], v6: true, not: "eu-central-1 eu-west-2" },
  { n: "notebook", sig: "sagemaker", p: "unknown", prefix: "aws.sagemaker", dns: ["*.notebook.{r}.sagemaker.aws"], base: ["{svcid}.{r}.vpce.amazonaws.com", "notebook.{r}.vpce.sagemaker.aws"] },
  { n: "studio", sig: "sagemaker", p: "unknown", prefix: "aws.sagemaker", dns: ["*.studio.{r}.sagemaker.aws"], base: ["{svcid}.{r}.vpce.amazonaws.com", "studio.{r}.vpce.sagemaker.aws"] },
  { n: "s3-global.accesspoint", sig: "s3", p: "restXml", global: true, dns: ["*.accesspoint.s3-global.amazonaws.com"], base: ["accesspoint.s3-global.{r}.vpce.amazonaws.com"] },
  { n: "access-analyzer", sig: "access-analyzer", p: "restJson" },
  { n: "account", sig: "account", p: "restJson", in: "us-east-1" },
  { n: "acm", sig: "acm", p: "json" },
  { n: "acm-pca", sig: "acm-pca", p: "json" },
  { n: "airflow.api", sig: "airflow", p: "restJson", not: "ap-east-2 ap-southeast-6 mx-central-1" },
  { n: "airflow.env", sig: "airflow", p: "unknown", not: "ap-east-2 ap-southeast-6 mx-central-1" },
  { n: "airflow.ops", sig: "airflow", p: "unknown", not: "ap-east-2 ap-southeast-6 mx-central-1" },
  { n: "analytics-omics", sig: "omics", p: "restJson", in: "ap-northeast-2 ap-southeast-1 eu-central-1 eu-west-1 eu-west-2 il-central-1 us-east-1 us-west-2" },
  { n: "apigateway", sig: "apigateway", p: "restJson" },
  { n: "app-integrations", sig: "app-integrations", p: "restJson", in: "af-south-1 ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-2 us-east-1 us-west-2" },
  { n: "application-autoscaling", sig: "application-autoscaling", p: "json" },
  { n: "appmesh", sig: "appmesh", p: "restJson", dns: ["appmesh.{r}.amazonaws.com", "appmesh.{r}.api.aws"], use1: "abd", not: "ap-east-2 ap-south-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 me-central-1 mx-central-1" },
  { n: "appmesh-envoy-management", sig: "appmesh", p: "unknown", dns: ["appmesh-envoy-management.{r}.amazonaws.com", "appmesh-envoy-management.{r}.api.aws"], noPolicy: true, not: "ap-east-2 ap-south-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 me-central-1 mx-central-1" },
  { n: "apprunner", sig: "apprunner", p: "json", in: "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 eu-west-2 eu-west-3 us-east-1 us-east-2 us-west-2" },
  { n: "apprunner.requests", sig: "apprunner", p: "unknown", dns: [], noPolicy: true, in: "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 eu-west-2 eu-west-3 us-east-1 us-east-2 us-west-2" },
  { n: "appstream.api", sig: "appstream", p: "json", dns: ["appstream2.{r}.amazonaws.com"], noPolicy: true, not: "af-south-1 ap-east-1 ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-north-1 me-central-1 me-south-1 mx-central-1 us-west-1" },
  { n: "appstream.streaming", sig: "appstream", p: "unknown", noPolicy: true, not: "af-south-1 ap-east-1 ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-north-1 me-central-1 me-south-1 mx-central-1 us-west-1" },
  { n: "appsync-api", sig: "appsync", p: "unknown", dns: ["*.appsync-api.{r}.amazonaws.com", "*.appsync-realtime-api.{r}.amazonaws.com"], not: "ap-east-2 ap-southeast-6 mx-central-1" },
  { n: "aps", sig: "aps", p: "restJson", not: "ap-southeast-6" },
  { n: "aps-workspaces", sig: "aps", p: "unknown", base: ["{svcid}.{r}.vpce.amazonaws.com"], not: "ap-southeast-6" },
  { n: "athena", sig: "athena", p: "json", dns: ["athena.{r}.amazonaws.com", "athena.{r}.api.aws"], v6: true },
  { n: "auditmanager", sig: "auditmanager", p: "restJson", in: "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "autoscaling", sig: "autoscaling", p: "query" },
  { n: "autoscaling-plans", sig: "autoscaling-plans", p: "json", not: "ap-east-2 ap-south-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 il-central-1 me-central-1 mx-central-1" },
  { n: "awsconnector", sig: "awsconnector", p: "unknown", noPolicy: true },
  { n: "backup", sig: "backup", p: "restJson" },
  { n: "backup-gateway", sig: "backup-gateway", p: "json", not: "ap-east-2 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 il-central-1 me-central-1 mx-central-1" },
  { n: "batch", sig: "batch", p: "restJson" },
  { n: "bedrock", sig: "bedrock", p: "restJson", dns: ["bedrock.{r}.amazonaws.com", "invoke-bedrock.{r}.amazonaws.com"], not: "ap-east-1" },
  { n: "bedrock-runtime", sig: "bedrock", p: "restJson", not: "ap-east-1" },
  { n: "bedrock-agent", sig: "bedrock", p: "restJson", not: "ap-east-1" },
  { n: "bedrock-agent-runtime", sig: "bedrock", p: "restJson", not: "ap-east-1" },
  { n: "billingconductor", sig: "billingconductor", p: "restJson", in: "us-east-1" },
  { n: "braket", sig: "braket", p: "restJson", in: "eu-north-1 eu-west-2 us-east-1 us-west-1 us-west-2" },
  { n: "cases", sig: "cases", p: "restJson", in: "af-south-1 ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-2 us-east-1 us-west-2" },
  { n: "cassandra", sig: "cassandra", p: "unknown", use1: "abcdf", not: "ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-1 eu-south-2 il-central-1 mx-central-1" },
  { n: "cassandra-fips", sig: "cassandra", p: "unknown", use1: "abcdf", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "cleanrooms", sig: "cleanrooms", p: "restJson", noPolicy: true, in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 eu-central-1 eu-north-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "cloudcontrolapi", sig: "cloudcontrolapi", p: "json", use1: "abd" },
  { n: "cloudcontrolapi-fips", sig: "cloudcontrolapi", p: "json", use1: "abd", in: FIPS },
  { n: "clouddirectory", sig: "clouddirectory", p: "restJson", in: "ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "cloudformation", sig: "cloudformation", p: "query" },
  { n: "cloudhsmv2", sig: "cloudhsm", p: "json", use1: "abcf", not: "ap-east-2 ap-southeast-4" },
  { n: "cloudtrail", sig: "cloudtrail", p: "json", noPolicy: true },
  { n: "codeartifact.api", sig: "codeartifact", p: "restJson", dns: ["codeartifact.{r}.amazonaws.com"], in: "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-north-1 eu-south-1 eu-west-1 eu-west-2 eu-west-3 us-east-1 us-east-2 us-west-2" },
  { n: "codeartifact.repositories", sig: "codeartifact", p: "unknown", dns: ["*.d.codeartifact.{r}.amazonaws.com"], base: ["d.codeartifact.{r}.vpce.amazonaws.com"], in: "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-north-1 eu-south-1 eu-west-1 eu-west-2 eu-west-3 us-east-1 us-east-2 us-west-2" },
  { n: "codebuild", sig: "codebuild", p: "json", not: "ap-east-2 ca-west-1 mx-central-1" },
  { n: "codebuild-fips", sig: "codebuild", p: "json", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "codecommit", sig: "codecommit", p: "json", not: "ap-east-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 mx-central-1" },
  { n: "codecommit-fips", sig: "codecommit", p: "json", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "codedeploy", sig: "codedeploy", p: "json" },
  { n: "codedeploy-commands-secure", sig: "codedeploy-commands-secure", p: "unknown" },
  { n: "codeguru-profiler", sig: "codeguru-profiler", p: "restJson", noPolicy: true, in: "ap-northeast-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-north-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "codeguru-reviewer", sig: "codeguru-reviewer", p: "restJson", noPolicy: true, in: "ap-northeast-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-north-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "codepipeline", sig: "codepipeline", p: "json", noPolicy: true, not: "ap-east-2 ap-southeast-6 ap-southeast-7 ca-west-1 mx-central-1" },
  { n: "codestar-connections.api", sig: "codestar-connections", p: "json", dns: ["codestar-connections.{r}.amazonaws.com"], not: "af-south-1 ap-east-1 ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 il-central-1 me-central-1 me-south-1 mx-central-1" },
  { n: "codewhisperer", sig: "codewhisperer", p: "json", noPolicy: true, in: "us-east-1 eu-central-1" },
  { n: "cognito-identity", sig: "cognito-identity", p: "json" },
  { n: "cognito-idp", sig: "cognito-idp", p: "json" },
  { n: "comprehend", sig: "comprehend", p: "json", use1: "abc", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "comprehendmedical", sig: "comprehendmedical", p: "json", base: ["prod.comprehendmedical.{r}.vpce.amazonaws.com"], in: "ap-southeast-2 ca-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "config", sig: "config", p: "json" },
  { n: "connect-campaigns", sig: "connect-campaigns", p: "restJson", in: "af-south-1 ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-2 us-east-1 us-west-2" },
  { n: "console", sig: "console", p: "unknown" },
  { n: "control-storage-omics", sig: "omics", p: "restJson", in: "ap-northeast-2 ap-southeast-1 eu-central-1 eu-west-1 eu-west-2 il-central-1 us-east-1 us-west-2" },
  { n: "data-servicediscovery", sig: "servicediscovery", p: "json", dns: ["data-servicediscovery.{r}.amazonaws.com", "data-servicediscovery.{r}.api.aws"], v6: true },
  { n: "data-servicediscovery-fips", sig: "servicediscovery", p: "json", dns: ["data-servicediscovery-fips.{r}.amazonaws.com", "data-servicediscovery-fips.{r}.api.aws"], v6: true, in: FIPS },
  { n: "databrew", sig: "databrew", p: "restJson", not: "ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 il-central-1 me-central-1 me-south-1 mx-central-1" },
  { n: "dataexchange", sig: "dataexchange", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "datasync", sig: "datasync", p: "json", noPolicy: true },
  { n: "deviceadvisor.iot", sig: "iotdeviceadvisor", p: "restJson", dns: ["*.deviceadvisor.iot.{r}.amazonaws.com"], base: ["deviceadvisor.iot.{r}.vpce.amazonaws.com"], noPolicy: true, use1: "acd", in: "ap-northeast-1 eu-west-1 us-east-1 us-west-2" },
  { n: "devops-guru", sig: "devops-guru", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-north-1 eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "dms", sig: "dms", p: "json", use1: "abc" },
  { n: "dms-fips", sig: "dms", p: "json", use1: "abc", in: FIPS },
  { n: "drs", sig: "drs", p: "restJson", not: "ap-east-2 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 mx-central-1" },
  { n: "ds", sig: "ds", p: "json", not: "ap-east-2 ap-southeast-6" },
  { n: "dynamodb", sig: "dynamodb", p: "json", dns: ["dynamodb.{r}.amazonaws.com", "*.ddb.{r}.amazonaws.com"] },
  { n: "dynamodb", sig: "dynamodb", p: "json", t: "Gateway", v6: true },
  { n: "dynamodb-streams", sig: "dynamodb", p: "json", dns: ["streams.dynamodb.{r}.amazonaws.com"] },
  { n: "ebs", sig: "ebs", p: "restJson", dns: ["ebs.{r}.amazonaws.com", "ebs.{r}.api.aws"], noPolicy: true },
  { n: "ec2", sig: "ec2", p: "ec2", dns: ["ec2.{r}.amazonaws.com", "ec2.{r}.api.aws"] },
  { n: "ec2messages", sig: "ec2messages", p: "json" },
  { n: "ecr.api", sig: "ecr", p: "json", x: true },
  { n: "ecr.dkr", sig: "ecr", p: "unknown", dns: ["*.dkr.ecr.{r}.amazonaws.com"], x: true },
  { n: "ecs", sig: "ecs", p: "json", x: true },
  { n: "ecs-agent", sig: "ecs", p: "unknown", dns: ["ecs-a.{r}.amazonaws.com"], base: ["ecs-a.{r}.vpce.amazonaws.com"] },
  { n: "ecs-telemetry", sig: "ecs", p: "unknown", dns: ["ecs-t.{r}.amazonaws.com"], base: ["ecs-t.{r}.vpce.amazonaws.com"] },
  { n: "eks", sig: "eks", p: "restJson", noPolicy: true },
  { n: "eks-auth", sig: "eks-auth", p: "restJson", dns: ["eks-auth.{r}.api.aws"] },
  { n: "elasticache", sig: "elasticache", p: "query" },
  { n: "elasticache-fips", sig: "elasticache", p: "query", in: FIPS },
  { n: "elasticbeanstalk", sig: "elasticbeanstalk", p: "query", not: "ap-east-2 mx-central-1" },
  { n: "elasticbeanstalk-health", sig: "elasticbeanstalk", p: "unknown", not: "ap-east-2 mx-central-1" },
  { n: "elasticfilesystem", sig: "elasticfilesystem", p: "restJson" },
  { n: "elasticfilesystem-fips", sig: "elasticfilesystem", p: "restJson", in: FIPS },
  { n: "elasticloadbalancing", sig: "elasticloadbalancing", p: "query" },
  { n: "elasticmapreduce", sig: "elasticmapreduce", p: "json" },
  { n: "email-smtp", sig: "ses", p: "unknown", noPolicy: true, use1: "bcd", not: "ap-east-1 ap-east-2 ap-southeast-4 ap-southeast-6 ap-southeast-7 eu-south-2 mx-central-1" },
  { n: "emr-containers", sig: "emr-containers", p: "restJson", not: "ap-east-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 mx-central-1" },
  { n: "emr-serverless", sig: "emr-serverless", p: "restJson" },
  { n: "events", sig: "events", p: "json" },
  { n: "execute-api", sig: "execute-api", p: "unknown", dns: ["*.execute-api.{r}.amazonaws.com"] },
  { n: "finspace", sig: "finspace", p: "restJson", use1: "abcde", in: "ap-northeast-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "finspace-api", sig: "finspace-api", p: "restJson", use1: "abcde", in: "ca-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "fis", sig: "fis", p: "restJson" },
  { n: "forecast", sig: "forecast", p: "json", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "forecast-fips", sig: "forecast", p: "json", in: "us-east-1 us-east-2 us-west-2" },
  { n: "forecastquery", sig: "forecast", p: "json", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "forecastquery-fips", sig: "forecast", p: "json", in: "us-east-1 us-east-2 us-west-2" },
  { n: "frauddetector", sig: "frauddetector", p: "json", use1: "bcd", in: "ap-southeast-1 ap-southeast-2 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "fsx", sig: "fsx", p: "json", use1: "abcdf" },
  { n: "fsx-fips", sig: "fsx", p: "json", use1: "abcdf", in: FIPS },
  { n: "git-codecommit", sig: "codecommit", p: "unknown", not: "ap-east-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 mx-central-1" },
  { n: "git-codecommit-fips", sig: "codecommit", p: "unknown", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "glue", sig: "glue", p: "json" },
  { n: "grafana", sig: "grafana", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "grafana-workspace", sig: "grafana", p: "unknown", dns: ["*.grafana-workspace.{r}.amazonaws.com"], noPolicy: true, in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "greengrass", sig: "greengrass", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ap-southeast-5 ca-central-1 eu-central-1 eu-south-2 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "groundstation", sig: "groundstation", p: "restJson", in: "af-south-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 eu-central-1 eu-north-1 eu-west-1 me-south-1 sa-east-1 us-east-1 us-east-2 us-west-2" },
  { n: "guardduty", sig: "guardduty", p: "restJson" },
  { n: "guardduty-data", sig: "guardduty", p: "unknown" },
  { n: "guardduty-data-fips", sig: "guardduty", p: "unknown", in: FIPS },
  { n: "healthlake", sig: "healthlake", p: "json", use1: "acd", in: "ap-south-1 ap-southeast-2 ca-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "iam", sig: "iam", p: "query", global: true, dns: ["iam.amazonaws.com"], v6: true, x: true, in: "us-east-1" },
  { n: "identitystore", sig: "identitystore", p: "json" },
  { n: "imagebuilder", sig: "imagebuilder", p: "restJson" },
  { n: "inspector2", sig: "inspector2", p: "restJson", not: "ap-southeast-6" },
  { n: "iot.data", sig: "iotdata", p: "restJson", dns: [], noPolicy: true, use1: "abc", not: "af-south-1 ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 mx-central-1" },
  { n: "iotfleetwise", sig: "iotfleetwise", p: "json", use1: "abc", in: "ap-south-1 eu-central-1 us-east-1" },
  { n: "iotsitewise.api", sig: "iotsitewise", p: "restJson", use1: "abcde", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "iotsitewise.data", sig: "iotsitewise", p: "restJson", use1: "abcde", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "iottwinmaker.api", sig: "iottwinmaker", p: "restJson", use1: "acd", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 us-east-1 us-west-2" },
  { n: "iottwinmaker.data", sig: "iottwinmaker", p: "restJson", use1: "abd", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 eu-central-1 eu-west-1 us-east-1 us-west-2" },
  { n: "iotwireless.api", sig: "iotwireless", p: "restJson", noPolicy: true, use1: "acd", in: "ap-northeast-1 ap-southeast-2 eu-central-1 eu-west-1 sa-east-1 us-east-1 us-west-2" },
  { n: "kendra", sig: "kendra", p: "json", in: "ap-northeast-1 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "kinesis-firehose", sig: "firehose", p: "json", x: true },
  { n: "kinesis-streams", sig: "kinesis", p: "json", dns: ["kinesis.{r}.amazonaws.com", "*.data-kinesis.{r}.amazonaws.com", "*.control-kinesis.{r}.amazonaws.com"], base: ["kinesis.{r}.vpce.amazonaws.com"] },
  { n: "kinesisanalytics", sig: "kinesisanalytics", p: "json", x: true },
  { n: "kinesisanalytics-fips", sig: "kinesisanalytics", p: "json", x: true, in: FIPS },
  { n: "kms", sig: "kms", p: "json", x: true },
  { n: "kms-fips", sig: "kms", p: "json", x: true, in: FIPS },
  { n: "lakeformation", sig: "lakeformation", p: "restJson" },
  { n: "lambda", sig: "lambda", p: "restJson", dns: ["lambda.{r}.amazonaws.com", "lambda.{r}.api.aws"], x: true },
  { n: "license-manager", sig: "license-manager", p: "json" },
  { n: "license-manager-fips", sig: "license-manager", p: "json", in: FIPS },
  { n: "logs", sig: "logs", p: "json" },
  { n: "lookoutequipment", sig: "lookoutequipment", p: "json", in: "ap-northeast-2 eu-west-1 us-east-1" },
  { n: "lorawan.cups", sig: "iotwireless", p: "unknown", dns: ["*.cups.lorawan.{r}.amazonaws.com"], noPolicy: true, use1: "acd", in: "ap-northeast-1 ap-southeast-2 eu-central-1 eu-west-1 sa-east-1 us-east-1 us-west-2" },
  { n: "lorawan.lns", sig: "iotwireless", p: "unknown", dns: ["*.lns.lorawan.{r}.amazonaws.com"], noPolicy: true, use1: "acd", in: "ap-northeast-1 ap-southeast-2 eu-central-1 eu-west-1 sa-east-1 us-east-1 us-west-2" },
  { n: "m2", sig: "m2", p: "restJson", use1: "acd", not: "ap-east-1 ap-east-2 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 me-central-1 me-south-1 mx-central-1" },
  { n: "macie2", sig: "macie2", p: "restJson", noPolicy: true, not: "ap-east-2 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 me-central-1 mx-central-1" },
  { n: "managedblockchain-query", sig: "managedblockchain-query", p: "restJson", in: "us-east-1" },
  { n: "managedblockchain.bitcoin.mainnet", sig: "managedblockchain", p: "unknown", in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 eu-west-1 eu-west-2 us-east-1" },
  { n: "managedblockchain.bitcoin.testnet", sig: "managedblockchain", p: "unknown", in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 eu-west-1 eu-west-2 us-east-1" },
  { n: "mediaconnect", sig: "mediaconnect", p: "restJson", not: "ap-east-2 ap-southeast-3 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-1 eu-south-2 il-central-1 me-south-1 mx-central-1" },
  { n: "medical-imaging", sig: "medical-imaging", p: "restJson", in: "us-east-1 us-west-2 eu-west-1 ap-southeast-2" },
  { n: "memory-db", sig: "memorydb", p: "json", not: "af-south-1 ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 il-central-1 me-central-1 me-south-1 mx-central-1" },
  { n: "memorydb-fips", sig: "memorydb", p: "json", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "mgn", sig: "mgn", p: "restJson" },
  { n: "migrationhub-orchestrator", sig: "migrationhub-orchestrator", p: "restJson", use1: "bcd", in: "ap-northeast-1 ap-southeast-2 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-west-2" },
  { n: "migrationhub-strategy", sig: "migrationhub-strategy", p: "restJson", in: "ap-northeast-1 ap-southeast-2 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-west-2" },
  { n: "models-v2-lex", sig: "lex", p: "restJson", in: "af-south-1 ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-west-2" },
  { n: "monitoring", sig: "monitoring", p: "json" },
  { n: "organizations", sig: "organizations", p: "json", in: "us-east-1" },
  { n: "panorama", sig: "panorama", p: "restJson", in: "us-east-1 us-west-2 ca-central-1 eu-west-1 ap-southeast-1 ap-southeast-2" },
  { n: "payment-cryptography.controlplane", sig: "payment-cryptography", p: "json", use1: "adf", in: DEFAULT_ON },
  { n: "payment-cryptography.dataplane", sig: "payment-cryptography", p: "restJson", use1: "adf", in: DEFAULT_ON },
  { n: "pca-connector-ad", sig: "pca-connector-ad", p: "restJson", in: DEFAULT_ON },
  { n: "personalize", sig: "personalize", p: "json", use1: "acd", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "personalize-events", sig: "personalize", p: "restJson", use1: "acd", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "personalize-runtime", sig: "personalize", p: "restJson", use1: "acd", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "pinpoint", sig: "mobiletargeting", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "pinpoint-sms-voice-v2", sig: "sms-voice", p: "json", dns: ["sms-voice.{r}.amazonaws.com"], base: ["sms-voice.{r}.vpce.amazonaws.com"], not: "ap-east-1 ap-southeast-5 ap-southeast-7" },
  { n: "polly", sig: "polly", p: "restJson", use1: "abcdf", not: "ap-east-2 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-6 ap-southeast-7 ca-west-1 eu-south-1 il-central-1 me-central-1 mx-central-1" },
  { n: "profile", sig: "profile", p: "restJson", in: "af-south-1 ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-2 us-east-1 us-west-2" },
  { n: "proton", sig: "proton", p: "json", in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-east-2 us-west-2" },
  { n: "rds", sig: "rds", p: "query", dns: ["rds.{r}.amazonaws.com", "rds.{r}.api.aws"] },
  { n: "rds-data", sig: "rds-data", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 eu-west-3 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "redshift", sig: "redshift", p: "query" },
  { n: "redshift-data", sig: "redshift-data", p: "json", noPolicy: true },
  { n: "redshift-fips", sig: "redshift", p: "query", in: FIPS },
  { n: "refactor-spaces", sig: "refactor-spaces", p: "restJson", noPolicy: true, in: DEFAULT_ON },
  { n: "rekognition", sig: "rekognition", p: "json", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-south-2 eu-west-1 eu-west-2 il-central-1 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "rekognition-fips", sig: "rekognition", p: "json", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "rolesanywhere", sig: "rolesanywhere", p: "restJson" },
  { n: "route53", sig: "route53", p: "restXml", global: true, dns: ["route53.amazonaws.com"], x: true, in: "us-east-1" },
  { n: "rum", sig: "rum", p: "restJson", use1: "abc", not: "ap-east-2 ap-southeast-6" },
  { n: "rum-dataplane", sig: "rum", p: "restJson", dns: ["dataplane.rum.{r}.amazonaws.com"], base: ["rum-dataplane.{r}.vpce.amazonaws.com"], use1: "abc", not: "ap-east-2 ap-southeast-6" },
  { n: "runtime-medical-imaging", sig: "medical-imaging", p: "restJson", in: "us-east-1 us-west-2 eu-west-1 ap-southeast-2" },
  { n: "runtime-v2-lex", sig: "lex", p: "restJson", in: "af-south-1 ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-1 eu-west-2 us-east-1 us-west-2" },
  { n: "s3", sig: "s3", p: "restXml", dns: ["*.s3.{r}.amazonaws.com", "*.s3-accesspoint.{r}.amazonaws.com", "*.s3-control.{r}.amazonaws.com"], x: true },
  { n: "s3", sig: "s3", p: "restXml", t: "Gateway", v6: true },
  { n: "s3-outposts", sig: "s3-outposts", p: "restJson", not: "ap-east-2 ap-south-2 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-south-2 me-central-1 mx-central-1" },
  { n: "sagemaker.api", sig: "sagemaker", p: "json" },
  { n: "sagemaker.featurestore-runtime", sig: "sagemaker", p: "restJson" },
  { n: "sagemaker.metrics", sig: "sagemaker", p: "restJson" },
  { n: "sagemaker.runtime", sig: "sagemaker", p: "restJson" },
  { n: "sagemaker.runtime-fips", sig: "sagemaker", p: "restJson", noPolicy: true, in: FIPS },
  { n: "secretsmanager", sig: "secretsmanager", p: "json" },
  { n: "securityhub", sig: "securityhub", p: "restJson" },
  { n: "servicecatalog", sig: "servicecatalog", p: "json", not: "ap-east-2 ap-southeast-5 ap-southeast-7 mx-central-1" },
  { n: "servicecatalog-appregistry", sig: "servicecatalog", p: "restJson", not: "ap-east-2 ap-southeast-5 ap-southeast-6 ap-southeast-7 mx-central-1" },
  { n: "servicediscovery", sig: "servicediscovery", p: "json", dns: ["servicediscovery.{r}.amazonaws.com", "servicediscovery.{r}.api.aws"], v6: true },
  { n: "servicediscovery-fips", sig: "servicediscovery", p: "json", dns: ["servicediscovery-fips.{r}.amazonaws.com", "servicediscovery-fips.{r}.api.aws"], v6: true, in: FIPS },
  { n: "signin", sig: "signin", p: "unknown" },
  { n: "simspaceweaver", sig: "simspaceweaver", p: "restJson", in: "ap-southeast-1 ap-southeast-2 eu-central-1 eu-north-1 eu-west-1 us-east-1 us-east-2 us-west-2" },
  { n: "snow-device-management", sig: "snow-device-management", p: "restJson", in: DEFAULT_ON },
  { n: "sns", sig: "sns", p: "query" },
  { n: "sqs", sig: "sqs", p: "json" },
  { n: "ssm", sig: "ssm", p: "json" },
  { n: "ssm-contacts", sig: "ssm-contacts", p: "json", use1: "acd", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-north-1 eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "ssm-incidents", sig: "ssm-incidents", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-north-1 eu-west-1 eu-west-2 eu-west-3 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "ssmmessages", sig: "ssmmessages", p: "unknown" },
  { n: "states", sig: "states", p: "json" },
  { n: "storage-omics", sig: "omics", p: "restJson", in: "ap-northeast-2 ap-southeast-1 eu-central-1 eu-west-1 eu-west-2 il-central-1 us-east-1 us-west-2" },
  { n: "storagegateway", sig: "storagegateway", p: "json", noPolicy: true },
  { n: "streaming-rekognition", sig: "rekognition", p: "unknown", in: "ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-south-2 eu-west-1 eu-west-2 il-central-1 sa-east-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "streaming-rekognition-fips", sig: "rekognition", p: "unknown", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "sts", sig: "sts", p: "query", v6: true },
  { n: "swf", sig: "swf", p: "json", use1: "abc" },
  { n: "swf-fips", sig: "swf", p: "json", use1: "abc", in: FIPS },
  { n: "sync-states", sig: "states", p: "json", use1: "abcdf" },
  { n: "synthetics", sig: "synthetics", p: "restJson" },
  { n: "tags-omics", sig: "omics", p: "restJson", in: "ap-northeast-2 ap-southeast-1 eu-central-1 eu-west-1 eu-west-2 il-central-1 us-east-1 us-west-2" },
  { n: "textract", sig: "textract", p: "json", in: "ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-south-2 eu-west-1 eu-west-2 eu-west-3 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "textract-fips", sig: "textract", p: "json", in: "ca-central-1 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "tnb", sig: "tnb", p: "restJson", in: "ap-northeast-2 ap-southeast-2 ca-central-1 eu-central-1 eu-north-1 eu-south-2 eu-west-3 sa-east-1 us-east-1 us-west-2" },
  { n: "transcribe", sig: "transcribe", p: "json", not: "ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-south-1 eu-south-2 il-central-1 me-central-1 mx-central-1" },
  { n: "transcribestreaming", sig: "transcribe", p: "unknown", not: "ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 ca-west-1 eu-south-1 eu-south-2 il-central-1 me-central-1 mx-central-1" },
  { n: "transfer", sig: "transfer", p: "json", noPolicy: true, use1: "acd" },
  { n: "transfer.server", sig: "transfer", p: "unknown", dns: ["*.server.transfer.{r}.amazonaws.com"], noPolicy: true, use1: "acd" },
  { n: "translate", sig: "translate", p: "json", in: "ap-east-1 ap-northeast-1 ap-northeast-2 ap-south-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-north-1 eu-west-1 eu-west-2 eu-west-3 us-east-1 us-east-2 us-west-1 us-west-2" },
  { n: "verifiedpermissions", sig: "verifiedpermissions", p: "json", noPolicy: true, use1: "ade" },
  { n: "voiceid", sig: "voiceid", p: "json", use1: "abc", in: "ap-northeast-1 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-2 us-east-1 us-west-2" },
  { n: "vpc-lattice", sig: "vpc-lattice", p: "restJson", not: "ap-east-2 ap-southeast-5 ap-southeast-6 ap-southeast-7 il-central-1" },
  { n: "wisdom", sig: "wisdom", p: "restJson", in: "ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 eu-central-1 eu-west-2 us-east-1 us-west-2" },
  { n: "workflows-omics", sig: "omics", p: "restJson", in: "ap-northeast-2 ap-southeast-1 eu-central-1 eu-west-1 eu-west-2 il-central-1 us-east-1 us-west-2" },
  { n: "workspaces", sig: "workspaces", p: "json", not: "ap-east-1 ap-east-2 ap-northeast-3 ap-south-2 ap-southeast-3 ap-southeast-4 ap-southeast-6 ap-southeast-7 ca-west-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 me-central-1 me-south-1 mx-central-1 us-west-1" },
  { n: "xray", sig: "xray", p: "restJson" },
];

const KNOWN_VPCE_ZONES: Readonly<Record<string, string>> = {
  "af-south-1": "Z09302161J80N9A7UTP7U",
  "ap-east-1": "Z2LIHJ7PKBEMWN",
  "ap-northeast-1": "Z2E726K9Y6RL4W",
  "ap-northeast-2": "Z27UANNT0PRK1T",
  "ap-northeast-3": "Z376B5OMM2JZL2",
  "ap-south-1": "Z2KVTB3ZLFM7JR",
  "ap-south-2": "Z0952991RWSF5AHIQDIY",
  "ap-southeast-1": "Z18LLCSTV4NVNL",
  "ap-southeast-2": "ZDK2GCRPAFKGO",
  "ap-southeast-3": "Z03881013RZ9BYYZO8N5W",
  "ap-southeast-4": "Z07508191CO1RNBX3X3AU",
  "ca-central-1": "ZRCXCF510Y6P9",
  "eu-central-1": "Z273ZU8SZ5RJPC",
  "eu-central-2": "Z045369019J4FUQ4S272E",
  "eu-north-1": "Z3OWWK6JFDEDGC",
  "eu-south-1": "Z2A5FDNRLY7KZG",
  "eu-south-2": "Z014396544HENR57XQCJ",
  "eu-west-1": "Z38GZ743OKFT7T",
  "eu-west-2": "Z7K1066E3PUKB",
  "eu-west-3": "Z1DWHTMFP0WECP",
  "me-central-1": "Z07122992YCEUCB9A9570",
  "me-south-1": "Z3B95P3VBGEQGY",
  "sa-east-1": "Z2LXUWEVLCVZIB",
  "us-east-1": "Z7HUB22UULQXV",
  "us-east-2": "ZC8PG0KIFKBRI",
  "us-west-1": "Z12I86A8N7VCZO",
  "us-west-2": "Z1YSA3EXCYUU9Z",
};

interface KnownList {
  id: string;
  cidrs: readonly string[];
}

const KNOWN_PREFIX_LISTS: Readonly<Record<string, { s3: KnownList; dynamodb: KnownList }>> = {
  "ap-northeast-1": {
    s3: {
      id: "pl-61a54008",
      cidrs: ["52.219.0.0/20", "54.231.224.0/21", "52.219.16.0/22", "52.219.68.0/22"],
    },
    dynamodb: { id: "pl-78a54011", cidrs: ["52.94.8.0/24"] },
  },
  "ap-northeast-2": {
    s3: { id: "pl-78a54011", cidrs: ["52.92.0.0/20", "52.219.60.0/23", "52.219.56.0/22"] },
    dynamodb: { id: "pl-48a54021", cidrs: ["52.94.6.0/24"] },
  },
  "ap-south-1": {
    s3: { id: "pl-78a54011", cidrs: ["52.92.248.0/22", "52.219.62.0/23", "52.219.64.0/22"] },
    dynamodb: { id: "pl-66a7420f", cidrs: ["52.94.20.0/24"] },
  },
  "ap-southeast-1": {
    s3: {
      id: "pl-6fa54006",
      cidrs: ["52.219.32.0/21", "52.219.40.0/22", "54.231.240.0/22", "52.219.76.0/22"],
    },
    dynamodb: { id: "pl-67a5400e", cidrs: ["52.94.11.0/24"] },
  },
  "ap-southeast-2": {
    s3: { id: "pl-6ca54005", cidrs: ["54.231.248.0/22", "54.231.252.0/24", "52.95.128.0/21"] },
    dynamodb: { id: "pl-62a5400b", cidrs: ["52.94.13.0/24"] },
  },
  "ca-central-1": {
    s3: { id: "pl-7da54014", cidrs: ["52.95.146.0/23", "52.95.145.0/24", "52.92.84.0/22"] },
    dynamodb: { id: "pl-4ea54027", cidrs: ["52.94.14.0/24"] },
  },
  "eu-central-1": {
    s3: { id: "pl-6ea54007", cidrs: ["52.219.44.0/22", "54.231.192.0/20", "52.219.72.0/22"] },
    dynamodb: { id: "pl-66a5400f", cidrs: ["52.94.17.0/24"] },
  },
  "eu-west-1": {
    s3: { id: "pl-6da54004", cidrs: ["52.218.0.0/17", "54.231.128.0/19"] },
    dynamodb: { id: "pl-6fa54006", cidrs: ["52.94.5.0/24", "52.119.240.0/21", "52.94.24.0/23"] },
  },
  "eu-west-2": {
    s3: { id: "pl-7ca54015", cidrs: ["52.95.150.0/24", "52.92.88.0/22", "52.95.148.0/23"] },
    dynamodb: { id: "pl-b3a742da", cidrs: ["52.94.15.0/24"] },
  },
  "eu-west-3": {
    s3: { id: "pl-23ad484a", cidrs: ["52.95.154.0/23", "52.95.156.0/24"] },
    dynamodb: { id: "pl-abb451c2", cidrs: ["52.94.16.0/24"] },
  },
  "sa-east-1": {
    s3: {
      id: "pl-6aa54003",
      cidrs: [
        "52.95.138.0/24",
        "52.92.64.0/22",
        "52.95.163.0/24",
        "52.95.136.0/23",
        "52.92.72.0/22",
        "52.95.164.0/23",
      ],
    },
    dynamodb: { id: "pl-60a54009", cidrs: ["52.94.7.0/24"] },
  },
  "us-east-1": {
    s3: { id: "pl-63a5400a", cidrs: ["54.231.0.0/17", "52.216.0.0/15"] },
    dynamodb: { id: "pl-02cd2c6b", cidrs: ["52.94.0.0/22", "52.119.224.0/20"] },
  },
  "us-east-2": {
    s3: { id: "pl-7ba54012", cidrs: ["52.219.80.0/20", "52.219.96.0/20", "52.92.76.0/22"] },
    dynamodb: { id: "pl-4ca54025", cidrs: ["52.94.4.0/24"] },
  },
  "us-west-1": {
    s3: {
      id: "pl-6ba54002",
      cidrs: ["52.219.20.0/22", "54.231.232.0/21", "52.219.24.0/21", "52.92.48.0/22"],
    },
    dynamodb: { id: "pl-6ea54007", cidrs: ["52.94.12.0/24"] },
  },
  "us-west-2": {
    s3: { id: "pl-68a54001", cidrs: ["54.231.160.0/19", "52.218.128.0/17", "52.92.32.0/22"] },
    dynamodb: { id: "pl-00a54069", cidrs: ["52.94.28.0/23"] },
  },
};

const reversed = (n: string) => n.split(".").reverse().join(".");

/** FNV-1a 32-bit, seeded; two seeds give the 64 bits a 17-hex ID needs. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** `n` stable hex digits derived from `text` (privlink-made IDs that never change). */
function stableHex(text: string, n: number): string {
  let out = "";
  for (let i = 0; out.length < n; i++) out += fnv1a(`${i}:${text}`).toString(16).padStart(8, "0");
  return out.slice(0, n);
}

function offeredIn(row: Row, region: string): boolean {
  if (row.in !== undefined) return row.in.split(" ").includes(region);
  return !(row.not ?? "").split(" ").includes(region);
}

function serviceNameOf(row: Row, region: string): string {
  const prefix = row.prefix ?? "com.amazonaws";
  return row.global ? `${prefix}.${row.n}` : `${prefix}.${region}.${row.n}`;
}

/** The zones of a service in a region, as AZ IDs. */
function azIdsOf(row: Row, region: string): string[] {
  const all = regions().find((r) => r.name === region)?.azIds ?? [];
  if (region !== "us-east-1" || row.use1 === undefined) return [...all];
  return [...row.use1]
    .map((letter) => azByName(DEFAULT_ACCOUNT, region, `${region}${letter}`)?.id)
    .filter((id): id is string => id !== undefined);
}

/** Catalog entries are shared by every caller, so their lists are frozen too. */
const frozen = <T>(list: T[]): T[] => Object.freeze(list) as T[];

function expand(row: Row, region: string): AwsService {
  const gateway = row.t === "Gateway";
  const serviceName = serviceNameOf(row, region);
  const serviceId = `vpce-svc-${stableHex(`${serviceName}/${row.t ?? "Interface"}`, 17)}`;
  const fill = (name: string) => name.replaceAll("{r}", region).replaceAll("{svcid}", serviceId);
  const dns = gateway ? [] : (row.dns ?? [`${reversed(row.n)}.{r}.amazonaws.com`]);
  const base = gateway
    ? [`${row.n}.{r}.amazonaws.com`]
    : (row.base ?? [`${reversed(row.n)}.{r}.vpce.amazonaws.com`]);
  return {
    shortName: row.n,
    serviceName,
    serviceId,
    type: gateway ? "Gateway" : "Interface",
    region,
    privateDnsNames: frozen(dns.map(fill)),
    baseEndpointDnsNames: frozen(base.map(fill)),
    vpcEndpointPolicySupported: !row.noPolicy,
    supportedIpAddressTypes: frozen(row.v6 ? ["ipv4", "ipv6"] : ["ipv4"]),
    azIds: frozen(azIdsOf(row, region)),
    crossRegion: row.x === true,
    signingName: row.sig,
    protocol: row.p,
  };
}

/** AWS lists services by name; for the two names with both types privlink puts Gateway first. */
function byListingOrder(a: AwsService, b: AwsService): number {
  if (a.serviceName !== b.serviceName) return a.serviceName < b.serviceName ? -1 : 1;
  return a.type === b.type ? 0 : a.type === "Gateway" ? -1 : 1;
}

const BY_REGION = new Map<string, readonly AwsService[]>();

/** The AWS services offered in a region, in DescribeVpcEndpointServices order; empty if unknown. */
export function awsServices(region: string): readonly AwsService[] {
  const hit = BY_REGION.get(region);
  if (hit) return hit;
  if (!regions().some((r) => r.name === region)) return [];
  const list = Object.freeze(
    ROWS.filter((row) => offeredIn(row, region))
      .map((row) => Object.freeze(expand(row, region)))
      .sort(byListingOrder),
  );
  BY_REGION.set(region, list);
  return list;
}

const REGIONAL_NAME = /^[a-z]+(?:\.[a-z]+)?\.([a-z]{2}-[a-z]+-\d+)\./;

/**
 * Finds a service by its full name. Regional names carry their region; global names
 * (com.amazonaws.iam, com.amazonaws.s3-global.accesspoint) are looked up in `region`, by
 * default us-east-1. s3 and dynamodb have a Gateway and an Interface service of the same name:
 * give `type` to pick one, otherwise the Gateway (AWS's default endpoint type) is returned.
 */
export function awsServiceByName(
  serviceName: string,
  opts: { type?: ServiceType; region?: string } = {},
): AwsService | undefined {
  const region = REGIONAL_NAME.exec(serviceName)?.[1] ?? opts.region ?? DEFAULT_REGION;
  const same = nameIndex(region).get(serviceName);
  return same?.find((s) => opts.type === undefined || s.type === opts.type);
}

/** The services of `region`'s list named `serviceName` (one per type), in listing order. */
export function awsServicesNamed(region: string, serviceName: string): readonly AwsService[] {
  return nameIndex(region).get(serviceName) ?? [];
}

// Every described endpoint looks its service up by name: index each region's list once.
const NAME_INDEX = new Map<string, Map<string, AwsService[]>>();

function nameIndex(region: string): Map<string, AwsService[]> {
  let index = NAME_INDEX.get(region);
  if (!index) {
    index = new Map();
    // Listing order puts Gateway first, so an untyped lookup still returns AWS's default type.
    for (const s of awsServices(region)) index.set(s.serviceName, [...(index.get(s.serviceName) ?? []), s]);
    NAME_INDEX.set(region, index);
  }
  return index;
}

interface DnsIndex {
  exact: Map<string, AwsService>;
  /** `.suffix` of each wildcard name, longest first so the most specific wins. */
  wildcards: { suffix: string; service: AwsService }[];
}

const DNS_INDEX = new Map<string, DnsIndex>();

function dnsIndex(region: string): DnsIndex {
  const hit = DNS_INDEX.get(region);
  if (hit) return hit;
  const index: DnsIndex = { exact: new Map(), wildcards: [] };
  for (const service of awsServices(region))
    for (const name of service.privateDnsNames)
      if (name.startsWith("*.")) index.wildcards.push({ suffix: name.slice(1), service });
      else index.exact.set(name, service);
  index.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  DNS_INDEX.set(region, index);
  return index;
}

/**
 * The interface service whose private DNS names cover `host` in `region` (case and a trailing dot
 * ignored). An exact name wins over a wildcard, and a longer wildcard over a shorter one. DNS
 * wildcard rules apply: `*.s3.us-east-1.amazonaws.com` covers `bucket.s3…` but not the apex.
 */
export function awsServiceByPrivateDnsName(host: string, region: string): AwsService | undefined {
  const name = host.toLowerCase().replace(/\.$/, "");
  const index = dnsIndex(region);
  return (
    index.exact.get(name) ??
    index.wildcards.find((w) => name.endsWith(w.suffix) && name.length > w.suffix.length)?.service
  );
}

/**
 * The public hosted zone of `<region>.vpce.amazonaws.com`, the zone ID that endpoint DNS entries
 * carry. Real IDs (from external-dns' canonical hosted zone table) for 27 regions; the rest
 * (ap-east-2, ap-southeast-5/6/7, ca-west-1, il-central-1, mx-central-1) are privlink-made in
 * the style of AWS's newer zone IDs.
 */
export const VPCE_HOSTED_ZONE_IDS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    regions().map((r) => [r.name, KNOWN_VPCE_ZONES[r.name] ?? madeUpZoneId(`vpce/${r.name}`)]),
  ),
);

function madeUpZoneId(seed: string): string {
  return `Z0${stableHex(seed, 19).toUpperCase()}`;
}

export interface ManagedPrefixList {
  id: string;
  name: string;
  region: string;
  cidrs: string[];
}

/**
 * The AWS-managed prefix lists of the gateway services (com.amazonaws.<region>.s3 and .dynamodb).
 * IDs and CIDRs for the 15 regions below are real (describe-prefix-lists output, ~2018: AWS has
 * added CIDRs since). Note that prefix list IDs are only unique within a region (pl-78a54011 is
 * ap-south-1's s3 list and ap-northeast-1's dynamodb list). Other regions get privlink-made IDs
 * and CIDRs from 3.5.0.0/16 (s3) and 35.71.0.0/16 (dynamodb).
 */
export function awsPrefixLists(region: string): readonly ManagedPrefixList[] {
  const index = regions().findIndex((r) => r.name === region);
  if (index < 0) return [];
  const known = KNOWN_PREFIX_LISTS[region];
  return (["dynamodb", "s3"] as const).map((service) => {
    const name = `com.amazonaws.${region}.${service}`;
    const real = known?.[service];
    if (real) return { id: real.id, name, region, cidrs: [...real.cidrs] };
    const cidr = service === "s3" ? `3.5.${index * 4}.0/22` : `35.71.${index * 2}.0/23`;
    return { id: `pl-${stableHex(`pl/${name}`, 8)}`, name, region, cidrs: [cidr] };
  });
}
