import { Command, InvalidArgumentError } from "commander";
import { registerAccountCommands } from "./account.js";
import { registerAddrCommand } from "./addr.js";
import { registerAnalyzeCommands } from "./analyze.js";
import { registerCaCommand } from "./ca.js";
import { registerConnectCommand } from "./connect.js";
import { registerConsoleCommand } from "./console.js";
import { registerCostCommand } from "./cost.js";
import { registerEventsCommand } from "./events.js";
import { registerExecCommand } from "./exec.js";
import { registerServerCommands } from "./server.js";
import { registerSiteCommands } from "./site.js";
import { registerStateCommands } from "./state.js";
import { registerStatsCommand } from "./stats.js";
import { registerUpstreamCommands } from "./upstream.js";

const program = new Command()
  .name("privlink")
  .description("AWS PrivateLink (VPC interface endpoints) for real, on one machine")
  .showHelpAfterError();

registerServerCommands(program);
registerAccountCommands(program);
registerAddrCommand(program);
registerCaCommand(program);
registerUpstreamCommands(program);
registerEventsCommand(program);
registerExecCommand(program);
registerConnectCommand(program);
registerStatsCommand(program);
registerSiteCommands(program);
registerCostCommand(program);
registerAnalyzeCommands(program);
registerStateCommands(program);
registerConsoleCommand(program);

program.parseAsync(process.argv).catch((err: Error) => {
  if (err instanceof InvalidArgumentError) process.stderr.write(`privlink: ${err.message}\n`);
  else process.stderr.write(`privlink: ${err.message}\n`);
  process.exitCode = 1;
});
