import { Command, InvalidArgumentError } from "commander";
import { registerAccountCommands } from "./account.js";
import { registerAddrCommand } from "./addr.js";
import { registerServerCommands } from "./server.js";

const program = new Command()
  .name("privlink")
  .description("AWS PrivateLink (VPC interface endpoints) for real, on one machine")
  .showHelpAfterError();

registerServerCommands(program);
registerAccountCommands(program);
registerAddrCommand(program);

program.parseAsync(process.argv).catch((err: Error) => {
  if (err instanceof InvalidArgumentError) process.stderr.write(`privlink: ${err.message}\n`);
  else process.stderr.write(`privlink: ${err.message}\n`);
  process.exitCode = 1;
});
