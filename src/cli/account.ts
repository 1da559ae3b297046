import type { Command } from "commander";
import { admin } from "./client.js";

export function registerAccountCommands(program: Command): void {
  const account = program.command("account").description("AWS accounts on this privlink");
  account
    .command("create")
    .description("create an account (or a new key for an existing one) and print its key pair")
    .option("--id <account-id>", "12-digit account ID (default: a new random one)")
    .option("--org <org-id>", "AWS Organizations ID (o-…) the account belongs to")
    .option("--json", "print JSON")
    .action(async (o: { id?: string; org?: string; json?: boolean }) => {
      const r = await admin<{
        accountId: string;
        orgId: string | null;
        accessKeyId: string;
        secretAccessKey: string;
      }>("POST", "/_privlink/accounts", { id: o.id, org: o.org });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else
        process.stdout.write(
          [
            `# account ${r.accountId}${r.orgId ? ` (organization ${r.orgId})` : ""}`,
            `export AWS_ACCESS_KEY_ID=${r.accessKeyId}`,
            `export AWS_SECRET_ACCESS_KEY=${r.secretAccessKey}`,
            "",
          ].join("\n"),
        );
    });
  account
    .command("list")
    .description("list accounts")
    .action(async () => {
      const r = await admin<{ accounts: { accountId: string; orgId: string | null }[] }>(
        "GET",
        "/_privlink/accounts",
      );
      for (const a of r.accounts) process.stdout.write(`${a.accountId}${a.orgId ? ` ${a.orgId}` : ""}\n`);
    });
}
