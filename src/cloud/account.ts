import { type Ctx, isoNow } from "./context.js";
import { AwsError } from "./errors.js";
import { DEFAULT_ACCOUNT } from "./ids.js";
import type { Runtime } from "./runtime.js";
import type { State, Tx } from "./state.js";
import type { AccessKey, Account } from "./types.js";

export const DEFAULT_KEY = { id: "test", secret: "test" } as const;

export type AuthMode = "verify" | "open";

/** The account and the principal a request acts as. */
export interface Caller {
  readonly accountId: string;
  readonly principalArn: string;
  readonly orgId?: string;
}

export function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

/** The default account and its `test`/`test` key exist on every fresh state. */
export function ensureDefaultAccount(tx: Tx, rt: Runtime): void {
  if (!tx.get("account", DEFAULT_ACCOUNT))
    tx.put("account", { id: DEFAULT_ACCOUNT, createdAt: rt.now().toISOString() });
  if (!tx.get("accessKey", DEFAULT_KEY.id))
    tx.put("accessKey", { id: DEFAULT_KEY.id, secret: DEFAULT_KEY.secret, accountId: DEFAULT_ACCOUNT });
}

function accessKeyId(rt: Runtime): string {
  return `AKIA${rt.hex(16).toUpperCase()}`;
}

export function createAccount(
  tx: Tx,
  rt: Runtime,
  input: { id?: string; orgId?: string },
): { account: Account; key: AccessKey } {
  if (input.id !== undefined && !/^\d{12}$/.test(input.id))
    throw new AwsError("InvalidParameterValue", `Account IDs are 12 digits: '${input.id}'`);
  if (input.orgId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(input.orgId))
    throw new AwsError(
      "InvalidParameterValue",
      `Organization IDs look like o-exampleorgid (o- and 10 to 32 lowercase letters or digits): '${input.orgId}'`,
    );
  let id = input.id;
  while (id === undefined || (input.id === undefined && tx.get("account", id)))
    id = String(Number.parseInt(rt.hex(12), 16) % 1e12).padStart(12, "1");
  const existing = tx.get("account", id);
  if (!existing) tx.put("account", { id, orgId: input.orgId, createdAt: rt.now().toISOString() });
  else if (input.orgId !== undefined && existing.orgId !== input.orgId)
    tx.put("account", { ...existing, orgId: input.orgId });
  const key = tx.put("accessKey", { id: accessKeyId(rt), secret: rt.hex(40), accountId: id });
  return { account: tx.get("account", id)!, key };
}

/**
 * Who signed: in `verify` mode only registered keys exist; in `open` mode any key is accepted,
 * a 12-digit key ID naming its own account and any other key the default one.
 */
export function callerFor(state: State, mode: AuthMode, keyId: string): Caller | undefined {
  const key = state.get("accessKey", keyId);
  if (key) {
    const account = state.get("account", key.accountId);
    return {
      accountId: key.accountId,
      principalArn: key.principalArn ?? rootArn(key.accountId),
      orgId: account?.orgId,
    };
  }
  if (mode === "verify") return undefined;
  const accountId = /^\d{12}$/.test(keyId) ? keyId : DEFAULT_ACCOUNT;
  return { accountId, principalArn: rootArn(accountId), orgId: state.get("account", accountId)?.orgId };
}

/** In open mode an account first seen by its key is recorded, so the CLI and console list it. */
export function recordAccount(tx: Tx, ctx: Ctx): void {
  if (!tx.get("account", ctx.accountId)) tx.put("account", { id: ctx.accountId, createdAt: isoNow(ctx) });
}
