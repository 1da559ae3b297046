import { describe, expect, it } from "vitest";
import { protocolOf, renderError, type WireService } from "../../src/api/protocols/index.js";
import { AwsError } from "../../src/cloud/errors.js";
import { sdkHarness } from "./sdk.js";

/**
 * Error envelopes as the real SDK reads them. `name` is what `err.name` becomes: the code itself,
 * except where the service models the error under another name (awsQuery's awsQueryError trait:
 * ELBv2's `LoadBalancerNotFound` is `LoadBalancerNotFoundException` to the SDK, with the wire code
 * kept in `err.Code`).
 */
const CASES: {
  service: WireService;
  action: string;
  input: Record<string, unknown>;
  error: AwsError;
  name: string;
}[] = [
  {
    service: "ec2",
    action: "DescribeVpcEndpoints",
    input: { VpcEndpointIds: ["vpce-0123"] },
    error: new AwsError("InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id 'vpce-0123' does not exist"),
    name: "InvalidVpcEndpointId.NotFound",
  },
  {
    service: "ec2",
    action: "CreateVpcEndpoint",
    input: { VpcId: "vpc-1", ServiceName: "x", DryRun: true },
    error: new AwsError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412),
    name: "DryRunOperation",
  },
  {
    service: "ec2",
    action: "DescribeVpcs",
    input: {},
    error: new AwsError("InternalError", "An internal error has occurred <&>", 500),
    name: "InternalError",
  },
  {
    service: "sts",
    action: "GetCallerIdentity",
    input: {},
    error: new AwsError(
      "InvalidClientTokenId",
      "The security token included in the request is invalid.",
      403,
    ),
    name: "InvalidClientTokenId",
  },
  {
    service: "elasticloadbalancing",
    action: "DescribeLoadBalancers",
    input: { Names: ["nope"] },
    error: new AwsError("LoadBalancerNotFound", "One or more load balancers not found"),
    name: "LoadBalancerNotFoundException",
  },
  {
    service: "route53",
    action: "GetHostedZone",
    input: { Id: "Z123" },
    error: new AwsError("NoSuchHostedZone", "No hosted zone found with ID: Z123", 404),
    name: "NoSuchHostedZone",
  },
  {
    service: "secretsmanager",
    action: "GetSecretValue",
    input: { SecretId: "s1" },
    error: new AwsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret."),
    name: "ResourceNotFoundException",
  },
  {
    service: "logs",
    action: "CreateLogGroup",
    input: { logGroupName: "g" },
    error: new AwsError("ResourceAlreadyExistsException", "The specified log group already exists"),
    name: "ResourceAlreadyExistsException",
  },
];

describe("error envelopes, as the SDK reads them", () => {
  it.each(CASES)("$service $error.code", async ({ service, action, input, error, name }) => {
    const harness = sdkHarness(service);
    const rendered = renderError(error, protocolOf(service), "req-err-1", service);
    let caught: any;
    try {
      await harness.send(action, input, () => rendered);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught.name).toBe(name);
    expect(caught.message).toBe(error.message);
    expect(caught.$metadata.httpStatusCode).toBe(error.status);
    expect(caught.$fault).toBe(error.status >= 500 ? "server" : "client");
    if (protocolOf(service) === "awsQuery") expect(caught.Code).toBe(error.code);
  });

  it("JSON errors carry the code in the header too", () => {
    const r = renderError(new AwsError("ResourceNotFoundException", "gone"), "awsJson1_1", "rid", "logs");
    expect(r.headers).toMatchObject({
      "x-amzn-errortype": "ResourceNotFoundException",
      "content-type": "application/x-amz-json-1.1",
    });
    expect(JSON.parse(String(r.body))).toEqual({ __type: "ResourceNotFoundException", message: "gone" });
  });

  it("EC2 uses its own envelope with RequestID in capitals", () => {
    const r = renderError(
      new AwsError("UnknownParameter", "The parameter Foo is not recognized"),
      "ec2",
      "rid",
      "ec2",
    );
    expect(r.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>UnknownParameter</Code>' +
        "<Message>The parameter Foo is not recognized</Message></Error></Errors><RequestID>rid</RequestID></Response>",
    );
  });

  it("awsQuery and Route 53 name the fault type", () => {
    const r = renderError(new AwsError("Throttling", "Rate exceeded", 400), "awsQuery", "rid", "sts");
    expect(r.body).toBe(
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>Throttling</Code>' +
        "<Message>Rate exceeded</Message></Error><RequestId>rid</RequestId></ErrorResponse>",
    );
    const z = renderError(new AwsError("InternalFailure", "oops", 500), "restXml", "rid", "route53");
    expect(z.body).toContain(
      '<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Receiver</Type>',
    );
  });
});
