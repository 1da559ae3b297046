import type { Command } from "commander";
import type { AccessReport } from "../analyze/access.js";
import type { ImpactReport } from "../analyze/impact.js";
import { accessCsv, accessText, impactText, renderWhy } from "../analyze/render.js";
import type { WhyResult } from "../analyze/why.js";
import { admin } from "./client.js";

/** Bad input comes back as a 400 InvalidParameterValue: one line on stderr, exit 2. */
async function ask<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
  try {
    return await admin<T>(method, path, body);
  } catch (err) {
    const message = (err as Error).message;
    const bad = /^(InvalidParameterValue|InvalidRequest|MissingParameter): /.exec(message);
    process.stderr.write(`privlink: ${bad ? message.slice(bad[0].length) : message}\n`);
    process.exitCode = 2;
    return undefined;
  }
}

export function registerAnalyzeCommands(program: Command): void {
  program
    .command("why <src> <dst>")
    .description(
      "explain hop by hop whether SRC (instance, ENI, Name tag, private IP with --vpc, site:NAME) reaches DST[:PORT] (address, DNS name, vpce-…, eni-…, AWS service); exit 0 allowed, 1 refused, 2 bad input",
    )
    .option("--vpc <vpc-id>", "the VPC of a private-IP source")
    .option("--json", "print JSON")
    .option("--principal <arn>", "for AWS services: the caller, to evaluate endpoint and resource policies")
    .option("--action <svc:Action>", "with --principal: the action (e.g. secretsmanager:GetSecretValue)")
    .option("--resource <arn>", "with --principal: the resource ARN")
    .action(
      async (
        src: string,
        dst: string,
        o: { vpc?: string; json?: boolean; principal?: string; action?: string; resource?: string },
      ) => {
        const r = await ask<WhyResult>("POST", "/_privlink/why", {
          source: src,
          destination: dst,
          vpc: o.vpc,
          principal: o.principal,
          action: o.action,
          resource: o.resource,
        });
        if (!r) return;
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : renderWhy(r));
        process.exitCode = r.allowed ? 0 : 1;
      },
    );

  program
    .command("access")
    .description(
      "which workloads reach which endpoints on which ports by which path, which endpoint policies restrict them, which resources require aws:SourceVpce/aws:SourceVpc",
    )
    .option("--account <id>", "only workloads of this account")
    .option("--json", "print JSON")
    .option("--csv", "print CSV")
    .action(async (o: { account?: string; json?: boolean; csv?: boolean }) => {
      const q = o.account ? `?${new URLSearchParams({ account: o.account })}` : "";
      const r = await ask<AccessReport>("GET", `/_privlink/access${q}`);
      if (!r) return;
      process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : o.csv ? accessCsv(r) : accessText(r));
    });

  program
    .command("impact")
    .description("the flows a change would break, computed on a copy of the state (nothing changes)")
    .option("--delete-route <rtb-and-cidr...>", "a route: ROUTE-TABLE-ID DESTINATION-CIDR")
    .option("--delete-endpoint <vpce-id>", "a VPC endpoint")
    .option("--revoke <sgr-id>", "a security group rule")
    .option("--account <id>", "only workloads of this account")
    .option("--json", "print JSON")
    .action(
      async (o: {
        deleteRoute?: string[];
        deleteEndpoint?: string;
        revoke?: string;
        account?: string;
        json?: boolean;
      }) => {
        const given = [o.deleteRoute, o.deleteEndpoint, o.revoke].filter((x) => x !== undefined).length;
        if (given !== 1 || (o.deleteRoute && o.deleteRoute.length !== 2)) {
          process.stderr.write(
            "privlink: give exactly one change: --delete-route RTB CIDR, --delete-endpoint VPCE or --revoke SGR\n",
          );
          process.exitCode = 2;
          return;
        }
        const change = o.deleteRoute
          ? { kind: "delete-route", routeTableId: o.deleteRoute[0], cidr: o.deleteRoute[1] }
          : o.deleteEndpoint
            ? { kind: "delete-endpoint", endpointId: o.deleteEndpoint }
            : { kind: "revoke", ruleId: o.revoke };
        const r = await ask<ImpactReport>("POST", "/_privlink/impact", { ...change, account: o.account });
        if (!r) return;
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : impactText(r));
      },
    );
}
