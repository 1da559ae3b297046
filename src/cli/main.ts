import { Command } from "commander";
import { commandOf, registerSummaries } from "./commands.js";

async function main(): Promise<void> {
  const program = new Command()
    .name("privlink")
    .description("AWS PrivateLink (VPC interface endpoints) for real, on one machine")
    .showHelpAfterError();
  // Only the module of the command that runs loads; help and unknown commands load none.
  const one = commandOf(process.argv.slice(2));
  if (one) (await one.load())(program);
  else registerSummaries(program);
  await program.parseAsync(process.argv);
}

main().catch((err: Error) => {
  process.stderr.write(`privlink: ${err.message}\n`);
  process.exitCode = 1;
});
