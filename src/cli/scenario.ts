import type { Command } from "commander";
import { downCommand, listCommand, runCommand } from "../scenario/command.js";

/** `privlink scenario …`: the seed's designs as files that build, run, check and tear down. */
export function registerScenarioCommands(program: Command): void {
  const scenario = program
    .command("scenario")
    .description(
      "run whole designs from a YAML file: build them through the AWS APIs, run traffic, check, price, tear down",
    );
  scenario
    .command("list")
    .description("the shipped scenarios, those in ./scenarios/ and in --dir")
    .option("--dir <dir>", "another folder of scenario files")
    .option("--json", "print JSON")
    .action((o: { dir?: string; json?: boolean }) => listCommand(o));
  scenario
    .command("run <name-or-file>")
    .description(
      "build, run, check, print the report and the monthly cost, tear down (exit 1 on a failed check)",
    )
    .option("--keep", "leave what it built running (remove it with 'scenario down NAME')")
    .option("--json", "print the report as JSON")
    .option("--dir <dir>", "another folder of scenario files")
    .action(async (what: string, o: { keep?: boolean; json?: boolean; dir?: string }) => {
      try {
        process.exitCode = await runCommand(what, o);
      } catch (err) {
        // Loaded only on a failed run: the format (zod) is not needed to list scenarios.
        const { ScenarioError } = await import("../scenario/format.js");
        if (!(err instanceof ScenarioError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
      }
    });
  scenario
    .command("down <name>")
    .description("remove what 'scenario run NAME --keep' left")
    .action(async (name: string) => {
      process.exitCode = await downCommand(name);
    });
}
