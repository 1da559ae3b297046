import { AwsError } from "../cloud/errors.js";

/** The error code EC2 uses for a rejected endpoint policy; callers may re-code it per service. */
export const INVALID_POLICY = "InvalidPolicyDocument";

export function invalidPolicy(message: string): AwsError {
  return new AwsError(INVALID_POLICY, message);
}
