import type { Runtime } from "./runtime.js";

/** What this privlink host may use: its share of the 127.S.0.0/16 address slots. */
export interface HostConfig {
  readonly slots: { readonly min: number; readonly max: number };
}

/**
 * The trusted context of a request that arrived through an interface endpoint: set by the
 * service front, never by the client. Absent for requests through the public edge.
 */
export interface Via {
  readonly vpceId: string;
  readonly vpcId: string;
  /** The client's private IP (aws:VpcSourceIp). */
  readonly sourceIp: string;
  /** The endpoint's policy document (absent: the default full-access policy). */
  readonly policyDocument?: string;
  /** The account that owns the endpoint (CloudTrail's vpcEndpointAccountId). */
  readonly endpointAccountId?: string;
}

/** Who is asking, where, and with which clock: the second argument of every cloud/ function. */
export interface Ctx {
  readonly accountId: string;
  readonly region: string;
  /** The IAM principal that signed the request (the account root for plain keys). */
  readonly principalArn: string;
  readonly orgId?: string;
  readonly rt: Runtime;
  readonly host: HostConfig;
  readonly via?: Via;
  /** The SigV4 service and the action being served, for policy evaluation. */
  readonly service?: string;
  readonly action?: string;
  /**
   * Set by the API edge on a read it may answer again from prepared bytes until the next commit
   * (api/prepared.ts): a read whose answer changes with the clock alone (a deleted endpoint listed
   * until its retention runs out) lowers `until` to the time (ms) it changes.
   */
  readonly answerHolds?: { until: number };
}

export const DEFAULT_HOST: HostConfig = { slots: { min: 1, max: 254 } };

export function isoNow(ctx: Ctx): string {
  return ctx.rt.now().toISOString();
}
