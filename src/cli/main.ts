import { Command, InvalidArgumentError } from "commander";

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: a client command (why, exec,
 * status…) then starts without the server, the AWS SDKs or the state rules, which only `up`
 * and the offline `state` commands need. `--help` and unknown commands load them all.
 */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ["up", "env", "status"], load: async () => (await import("./server.js")).registerServerCommands },
  { names: ["account"], load: async () => (await import("./account.js")).registerAccountCommands },
  { names: ["addr"], load: async () => (await import("./addr.js")).registerAddrCommand },
  { names: ["ca"], load: async () => (await import("./ca.js")).registerCaCommand },
  { names: ["upstream"], load: async () => (await import("./upstream.js")).registerUpstreamCommands },
  { names: ["events"], load: async () => (await import("./events.js")).registerEventsCommand },
  { names: ["exec"], load: async () => (await import("./exec.js")).registerExecCommand },
  { names: ["connect"], load: async () => (await import("./connect.js")).registerConnectCommand },
  { names: ["stats"], load: async () => (await import("./stats.js")).registerStatsCommand },
  { names: ["site"], load: async () => (await import("./site.js")).registerSiteCommands },
  { names: ["cost"], load: async () => (await import("./cost.js")).registerCostCommand },
  {
    names: ["why", "access", "impact"],
    load: async () => (await import("./analyze.js")).registerAnalyzeCommands,
  },
  { names: ["scenario"], load: async () => (await import("./scenario.js")).registerScenarioCommands },
  { names: ["console"], load: async () => (await import("./console.js")).registerConsoleCommand },
  { names: ["reset", "state"], load: async () => (await import("./state.js")).registerStateCommands },
];

/** The command word: the first argument that is not an option. */
function commandWord(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith("-"));
}

async function main(): Promise<void> {
  const program = new Command()
    .name("privlink")
    .description("AWS PrivateLink (VPC interface endpoints) for real, on one machine")
    .showHelpAfterError();
  const word = commandWord(process.argv);
  const one = COMMANDS.find((c) => word !== undefined && c.names.includes(word));
  const wanted = one ? [one] : COMMANDS;
  for (const register of await Promise.all(wanted.map((c) => c.load()))) register(program);
  await program.parseAsync(process.argv);
}

main().catch((err: Error) => {
  if (err instanceof InvalidArgumentError) process.stderr.write(`privlink: ${err.message}\n`);
  else process.stderr.write(`privlink: ${err.message}\n`);
  process.exitCode = 1;
});
