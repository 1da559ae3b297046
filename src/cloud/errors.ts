/**
 * The one error type of privlink: an AWS error with the code, message and HTTP status AWS
 * would give. Protocol codecs in api/ render it in each wire's error shape.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** awsQuery/JSON services distinguish Sender and Receiver faults. */
    readonly fault: "Sender" | "Receiver" = status >= 500 ? "Receiver" : "Sender",
  ) {
    super(message);
    this.name = code;
  }
}

export const notFound = (code: string, message: string) => new AwsError(code, message);
export const invalidParameterValue = (message: string) => new AwsError("InvalidParameterValue", message);
export const invalidParameter = (message: string) => new AwsError("InvalidParameter", message);
export const missingParameter = (name: string) =>
  new AwsError("MissingParameter", `The request must contain the parameter ${name}`);
export const invalidParameterCombination = (message: string) =>
  new AwsError("InvalidParameterCombination", message);
export const dependencyViolation = (message: string) => new AwsError("DependencyViolation", message);
