import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globMatch } from "../../src/iam/glob.js";
import { evaluate, type Policy, parsePolicy } from "../../src/iam/index.js";
import { request } from "./fixtures.js";

const SERVICES = ["s3", "secretsmanager", "logs"];
const NAMES = ["GetObject", "PutObject", "GetSecretValue", "DescribeSecret", "PutLogEvents"];

const action = fc.tuple(fc.constantFrom(...SERVICES), fc.constantFrom(...NAMES)).map(([s, n]) => `${s}:${n}`);
const actionPattern = fc.oneof(
  action,
  fc.constantFrom(...SERVICES).map((s) => `${s}:*`),
  fc.constant("*"),
  fc.constantFrom("s3:Get*", "secretsmanager:*Secret*", "logs:Put?ogEvents"),
);
const resource = fc.constantFrom(
  "arn:aws:s3:::bucket/key",
  "arn:aws:s3:::other/key",
  "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db",
);
const resourcePattern = fc.oneof(
  resource,
  fc.constantFrom("*", "arn:aws:s3:::bucket/*", "arn:aws:secretsmanager:*:111122223333:secret:prod/*"),
);
const statement = fc.record({
  Effect: fc.constantFrom("Allow", "Deny"),
  Principal: fc.constantFrom<unknown>("*", { AWS: "111122223333" }, { AWS: "444455556666" }),
  Action: fc.array(actionPattern, { minLength: 1, maxLength: 3 }),
  Resource: fc.array(resourcePattern, { minLength: 1, maxLength: 2 }),
});
const statements = fc.array(statement, { minLength: 1, maxLength: 6 });

const permuted = statements.chain((list) =>
  fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
);

const parse = (s: unknown[]): Policy =>
  parsePolicy(JSON.stringify({ Version: "2012-10-17", Statement: s }), { kind: "resource" });

describe("evaluation properties", () => {
  it("an Allow and a Deny for the same request always give ExplicitDeny", () => {
    fc.assert(
      fc.property(statements, action, resource, (rest, act, res) => {
        const both = [
          ...rest,
          { Effect: "Allow", Principal: "*", Action: act, Resource: res },
          { Effect: "Deny", Principal: "*", Action: act, Resource: res },
        ];
        const result = evaluate(parse(both), request({ action: act, resource: res }));
        expect(result.decision).toBe("ExplicitDeny");
        expect(result.matched.every((m) => m.effect === "Deny")).toBe(true);
      }),
    );
  });

  it("statement order does not change the decision", () => {
    fc.assert(
      fc.property(permuted, action, resource, ([list, shuffled], act, res) => {
        const req = request({ action: act, resource: res });
        expect(evaluate(parse(shuffled), req).decision).toBe(evaluate(parse(list), req).decision);
      }),
    );
  });

  it("the decision ignores the case of the action", () => {
    fc.assert(
      fc.property(
        statements,
        action,
        resource,
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (list, act, res, flips) => {
          const recased = [...act].map((c, i) => (flips[i] ? c.toUpperCase() : c.toLowerCase())).join("");
          const policy = parse(list);
          expect(evaluate(policy, request({ action: recased, resource: res })).decision).toBe(
            evaluate(policy, request({ action: act, resource: res })).decision,
          );
        },
      ),
    );
  });

  it("a policy with only Allow statements never gives ExplicitDeny", () => {
    const allows = fc.array(
      statement.map((s) => ({ ...s, Effect: "Allow" })),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(allows, action, resource, (list, act, res) => {
        expect(evaluate(parse(list), request({ action: act, resource: res })).decision).not.toBe(
          "ExplicitDeny",
        );
      }),
    );
  });
});

/** An independent reference: the glob as a regular expression. */
function globRegex(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "s");
}

describe("glob matching", () => {
  const small = fc.string({ unit: fc.constantFrom("a", "b", ":", "/"), maxLength: 8 });
  const pattern = fc.string({ unit: fc.constantFrom("a", "b", ":", "/", "*", "?"), maxLength: 8 });

  it("agrees with a regular-expression reference", () => {
    fc.assert(
      fc.property(pattern, small, (p, s) => {
        expect(globMatch({ text: p }, s)).toBe(globRegex(p).test(s));
      }),
      { numRuns: 2000 },
    );
  });

  it("a literal mask turns wildcards into plain characters", () => {
    fc.assert(
      fc.property(pattern, small, (p, s) => {
        const literal = new Uint8Array(p.length).fill(1);
        expect(globMatch({ text: p, literal }, s)).toBe(p === s);
      }),
    );
  });
});
