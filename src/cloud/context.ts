import type { Runtime } from "./runtime.js";

/** What this privlink host may use: its share of the 127.S.0.0/16 address slots. */
export interface HostConfig {
  readonly slots: { readonly min: number; readonly max: number };
}

/** Who is asking, where, and with which clock: the second argument of every cloud/ function. */
export interface Ctx {
  readonly accountId: string;
  readonly region: string;
  /** The IAM principal that signed the request (the account root for plain keys). */
  readonly principalArn: string;
  readonly rt: Runtime;
  readonly host: HostConfig;
}

export const DEFAULT_HOST: HostConfig = { slots: { min: 1, max: 254 } };

export function isoNow(ctx: Ctx): string {
  return ctx.rt.now().toISOString();
}
