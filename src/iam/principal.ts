import { invalidPolicy } from "./errors.js";

/**
 * Who made a request, as the front learned it from SigV4 and STS.
 *
 * - `AWS`: `arn` is what STS GetCallerIdentity returns: `arn:aws:iam::ACCT:root`,
 *   `arn:aws:iam::ACCT:user/path/name`, `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` or
 *   `arn:aws:sts::ACCT:federated-user/NAME`.
 * - `Service`: `arn` is the service principal name, e.g. `vpce.amazonaws.com`.
 * - `Federated`: `arn` is the identity provider (`cognito-identity.amazonaws.com`, a SAML ARN).
 * - `Anonymous`: an unsigned request; `arn` is conventionally `anonymous`.
 */
export interface Principal {
  readonly type: "AWS" | "Service" | "Federated" | "Anonymous";
  readonly arn: string;
  /** Derived from `arn` when absent. */
  readonly accountId?: string;
  /** Unique ID: `AIDA…` for users, `AROA…:session` for assumed roles (fills `aws:userid`). */
  readonly userId?: string;
  /** For an assumed-role session, the role's IAM ARN with its path (fills `aws:PrincipalArn`). */
  readonly roleArn?: string;
  /** S3 canonical user ID, matched by `{"CanonicalUser": …}`. */
  readonly canonicalUserId?: string;
  /** Principal tags (fill `aws:PrincipalTag/<key>`). */
  readonly tags?: Readonly<Record<string, string>>;
}

export type IdentityKind = "root" | "user" | "role" | "assumed-role" | "federated-user";

export interface Identity {
  readonly partition: string;
  readonly accountId: string;
  readonly kind: IdentityKind;
  /** Friendly name: user name, role name, federated user name (undefined for root). */
  readonly name?: string;
  readonly session?: string;
}

const IDENTITY_ARN = /^arn:([a-z-]+):(iam|sts)::(\d{12}):(.+)$/;

/** Reads an IAM or STS identity ARN; undefined for anything else. */
export function parseIdentityArn(arn: string): Identity | undefined {
  const m = IDENTITY_ARN.exec(arn);
  if (m === null) return undefined;
  const [, partition, service, accountId, rest] = m as unknown as [string, string, string, string, string];
  const slash = rest.indexOf("/");
  const type = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  const lastName = path.slice(path.lastIndexOf("/") + 1);
  if (service === "iam") {
    if (rest === "root") return { partition, accountId, kind: "root" };
    if ((type === "user" || type === "role") && lastName !== "")
      return { partition, accountId, kind: type, name: lastName };
    return undefined;
  }
  if (type === "assumed-role") {
    const cut = path.indexOf("/");
    if (cut <= 0 || cut === path.length - 1) return undefined;
    return {
      partition,
      accountId,
      kind: "assumed-role",
      name: path.slice(0, cut),
      session: path.slice(cut + 1),
    };
  }
  if (type === "federated-user" && path !== "")
    return { partition, accountId, kind: "federated-user", name: path };
  return undefined;
}

/** What matching needs about a principal, derived once per principal object. */
export interface PreparedPrincipal {
  readonly principal: Principal;
  readonly identity: Identity | undefined;
  readonly accountId: string | undefined;
  /** `ACCT/ROLE` for assumed-role sessions. */
  readonly roleKey: string | undefined;
  readonly uniqueId: string | undefined;
}

const prepared = new WeakMap<Principal, PreparedPrincipal>();

export function preparePrincipal(principal: Principal): PreparedPrincipal {
  let p = prepared.get(principal);
  if (p !== undefined) return p;
  const identity = principal.type === "AWS" ? parseIdentityArn(principal.arn) : undefined;
  const accountId = principal.accountId ?? identity?.accountId;
  p = {
    principal,
    identity,
    accountId,
    roleKey: identity?.kind === "assumed-role" ? `${identity.accountId}/${identity.name}` : undefined,
    uniqueId: principal.userId?.split(":")[0],
  };
  prepared.set(principal, p);
  return p;
}

/** A compiled Principal / NotPrincipal element. */
export interface PrincipalSet {
  readonly any: boolean;
  readonly accounts: ReadonlySet<string>;
  readonly arns: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  readonly uniqueIds: ReadonlySet<string>;
  readonly services: ReadonlySet<string>;
  readonly federated: ReadonlySet<string>;
  readonly canonical: ReadonlySet<string>;
}

export type PrincipalElement =
  | "*"
  | {
      readonly AWS?: readonly string[];
      readonly Service?: readonly string[];
      readonly Federated?: readonly string[];
      readonly CanonicalUser?: readonly string[];
    };

const ACCOUNT_ID = /^\d{12}$/;
const UNIQUE_ID = /^A[A-Z0-9]{15,127}$/;

export function compilePrincipals(element: PrincipalElement): PrincipalSet {
  const set = {
    any: element === "*",
    accounts: new Set<string>(),
    arns: new Set<string>(),
    roles: new Set<string>(),
    uniqueIds: new Set<string>(),
    services: new Set<string>(),
    federated: new Set<string>(),
    canonical: new Set<string>(),
  };
  if (element === "*") return set;
  for (const value of element.AWS ?? []) addAwsPrincipal(set, value);
  for (const value of element.Service ?? [])
    set.services.add(checkNoWildcard(value, "Service").toLowerCase());
  for (const value of element.Federated ?? []) set.federated.add(checkNoWildcard(value, "Federated"));
  for (const value of element.CanonicalUser ?? []) set.canonical.add(checkNoWildcard(value, "CanonicalUser"));
  return set;
}

function checkNoWildcard(value: string, type: string): string {
  if (value === "" || value.includes("*") || value.includes("?")) {
    throw invalidPolicy(`Invalid principal in policy: {"${type}":"${value}"}`);
  }
  return value;
}

function addAwsPrincipal(
  set: { any: boolean; accounts: Set<string>; arns: Set<string>; roles: Set<string>; uniqueIds: Set<string> },
  value: string,
): void {
  // {"AWS": "*"} is the same as "Principal": "*".
  if (value === "*") {
    set.any = true;
    return;
  }
  if (ACCOUNT_ID.test(value)) {
    set.accounts.add(value);
    return;
  }
  if (UNIQUE_ID.test(value)) {
    set.uniqueIds.add(value);
    return;
  }
  const identity = value.includes("*") || value.includes("?") ? undefined : parseIdentityArn(value);
  if (identity === undefined) throw invalidPolicy(`Invalid principal in policy: {"AWS":"${value}"}`);
  if (identity.kind === "root") set.accounts.add(identity.accountId);
  else if (identity.kind === "role") set.roles.add(`${identity.accountId}/${identity.name}`);
  else set.arns.add(value);
}

/**
 * Principal element semantics: an account (ID or `:root` ARN) stands for every principal of
 * that account; a role ARN also matches that role's sessions
 * (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`), compared by account and role name because
 * session ARNs drop the role's path; users, sessions and federated users match exactly.
 */
export function principalMatches(set: PrincipalSet, p: PreparedPrincipal): boolean {
  if (set.any) return true;
  const { principal } = p;
  switch (principal.type) {
    case "Service":
      return set.services.has(principal.arn.toLowerCase());
    case "Federated":
      return set.federated.has(principal.arn);
    case "Anonymous":
      return false;
    case "AWS":
      return (
        (p.accountId !== undefined && set.accounts.has(p.accountId)) ||
        set.arns.has(principal.arn) ||
        (p.roleKey !== undefined && set.roles.has(p.roleKey)) ||
        (p.identity?.kind === "role" && set.roles.has(`${p.identity.accountId}/${p.identity.name}`)) ||
        (p.uniqueId !== undefined && set.uniqueIds.has(p.uniqueId)) ||
        (principal.canonicalUserId !== undefined && set.canonical.has(principal.canonicalUserId))
      );
  }
}

/**
 * NotPrincipal exempts a principal only when every level of its identity is listed: the
 * session, its role and the account for an assumed role; the user and the account for a
 * user. This is why AWS tells authors to list the account ARN too ("AWS might validate the
 * account first, then the role, and then the assumed-role user").
 */
export function notPrincipalExempts(set: PrincipalSet, p: PreparedPrincipal): boolean {
  if (set.any) return true;
  const { principal, identity } = p;
  if (principal.type !== "AWS") return principalMatches(set, p);
  const accountListed = p.accountId !== undefined && set.accounts.has(p.accountId);
  if (identity === undefined) return accountListed || set.arns.has(principal.arn);
  const selfListed =
    set.arns.has(principal.arn) || (p.uniqueId !== undefined && set.uniqueIds.has(p.uniqueId));
  switch (identity.kind) {
    case "root":
      return accountListed;
    case "role":
      return accountListed && set.roles.has(`${identity.accountId}/${identity.name}`);
    case "assumed-role":
      return accountListed && set.roles.has(p.roleKey!) && selfListed;
    default:
      return accountListed && selfListed;
  }
}
