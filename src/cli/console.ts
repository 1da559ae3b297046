import type { Command } from "commander";
import { admin, serverUrl } from "./client.js";

/** `privlink console`: a fresh one-time link that opens the web console logged in. */
export function registerConsoleCommand(program: Command): void {
  program
    .command("console")
    .description("print a one-time link that opens the web console (it sets a session cookie)")
    .action(async () => {
      const { path } = await admin<{ path: string }>("POST", "/_privlink/console/login");
      process.stdout.write(`${serverUrl()}${path}\n`);
    });
}
