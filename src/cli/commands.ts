import { type Command, Help } from "commander";

/** Adds one module's commands (and their options and actions) to the program. */
export type Register = (program: Command) => void;

/**
 * One top-level command as `privlink --help` lists it, known without loading its module: the
 * help line (`term`) and the description. test/foundation/cli-help.test.ts checks both against
 * what the module registers, so they cannot drift.
 */
export interface CommandSummary {
  readonly name: string;
  readonly term: string;
  readonly summary: string;
  /** The module that registers it (several commands may share one). */
  readonly load: () => Promise<Register>;
}

const server = async () => (await import("./server.js")).registerServerCommands;
const analyze = async () => (await import("./analyze.js")).registerAnalyzeCommands;
const state = async () => (await import("./state.js")).registerStateCommands;

/**
 * Every command, in the order of `privlink --help`. A command's module loads only when that
 * command runs: a client command (why, exec, status…) then starts without the server, the AWS
 * SDKs or the state rules, and `--help` loads none of them.
 */
export const COMMANDS: readonly CommandSummary[] = [
  {
    name: "up",
    term: "up [options]",
    summary: "run privlink in the foreground (same as npm start)",
    load: server,
  },
  {
    name: "env",
    term: "env",
    summary: "print the AWS environment for the running server, for eval (exit 3 when none runs)",
    load: server,
  },
  {
    name: "status",
    term: "status [options]",
    summary: "say whether a privlink server is running, and where",
    load: server,
  },
  {
    name: "agent",
    term: "agent [options]",
    summary:
      "run this host's share of a privlink shared through PostgreSQL: the data plane and DNS of the VPCs placed on it (docs/agents.md)",
    load: async () => (await import("./agent.js")).registerAgentCommand,
  },
  {
    name: "account",
    term: "account",
    summary: "AWS accounts on this privlink",
    load: async () => (await import("./account.js")).registerAccountCommands,
  },
  {
    name: "addr",
    term: "addr [options] <what>",
    summary:
      "map private addresses to host addresses: a private IP (with --vpc), a 127.x host address, an ENI, an instance, or a VPC (its resolver)",
    load: async () => (await import("./addr.js")).registerAddrCommand,
  },
  {
    name: "ca",
    term: "ca [options]",
    summary: "print the path of privlink's CA certificate (PEM), which the service fronts' TLS chains to",
    load: async () => (await import("./ca.js")).registerCaCommand,
  },
  {
    name: "upstream",
    term: "upstream",
    summary:
      "forward AWS services privlink does not build in (through interface endpoints) to another implementation",
    load: async () => (await import("./upstream.js")).registerUpstreamCommands,
  },
  {
    name: "events",
    term: "events [options]",
    summary: "connection notification events (Connect, Accept, Reject, Delete), oldest first",
    load: async () => (await import("./events.js")).registerEventsCommand,
  },
  {
    name: "exec",
    term: "exec [options] <command...>",
    summary:
      "run a command as a workload (i-…, eni-… or an instance's Name): its connections leave from the workload's address through a proxy that enforces security groups, routes and endpoints; AWS_ENDPOINT_URL* are removed so AWS SDKs and the CLI call the services' real names",
    load: async () => (await import("./exec.js")).registerExecCommand,
  },
  {
    name: "connect",
    term: "connect [options] <host:port>",
    summary:
      "netcat as a workload: stdin to HOST:PORT (EOF half-closes), the connection to stdout; exit 0 when the peer closes, 1 with the reason when refused",
    load: async () => (await import("./connect.js")).registerConnectCommand,
  },
  {
    name: "stats",
    term: "stats [options]",
    summary:
      "data-plane counters per endpoint and per network interface (bytes, connections, resets, dropped flows)",
    load: async () => (await import("./stats.js")).registerStatsCommand,
  },
  {
    name: "site",
    term: "site",
    summary:
      "on-premises sites: networks with their own CIDR, workloads and DNS server, reached over VPN or Direct Connect",
    load: async () => (await import("./site.js")).registerSiteCommands,
  },
  {
    name: "cost",
    term: "cost [options]",
    summary:
      "what the endpoints, NAT gateways and data processed cost at AWS list prices, and the NAT alternative",
    load: async () => (await import("./cost.js")).registerCostCommand,
  },
  {
    name: "why",
    term: "why [options] <src> <dst>",
    summary:
      "explain hop by hop whether SRC (instance, ENI, Name tag, private IP with --vpc, site:NAME) reaches DST[:PORT] (address, DNS name, vpce-…, eni-…, AWS service); exit 0 allowed, 1 refused, 2 bad input",
    load: analyze,
  },
  {
    name: "access",
    term: "access [options]",
    summary:
      "which workloads reach which endpoints on which ports by which path, which endpoint policies restrict them, which resources require aws:SourceVpce/aws:SourceVpc",
    load: analyze,
  },
  {
    name: "impact",
    term: "impact [options]",
    summary: "the flows a change would break, computed on a copy of the state (nothing changes)",
    load: analyze,
  },
  {
    name: "scenario",
    term: "scenario",
    summary:
      "run whole designs from a YAML file: build them through the AWS APIs, run traffic, check, price, tear down",
    load: async () => (await import("./scenario.js")).registerScenarioCommands,
  },
  {
    name: "console",
    term: "console",
    summary: "print a one-time link that opens the web console (it sets a session cookie)",
    load: async () => (await import("./console.js")).registerConsoleCommand,
  },
  {
    name: "reset",
    term: "reset",
    summary: "wipe all state of the running server (POST /_privlink/reset); the default account comes back",
    load: state,
  },
  { name: "state", term: "state", summary: "save or load the whole state as one file", load: state },
];

/** The command an argument list runs: its first word that is not an option (`help X` runs X's help). */
export function commandOf(args: readonly string[]): CommandSummary | undefined {
  const words = args.filter((a) => !a.startsWith("-"));
  const word = words[0] === "help" ? words[1] : words[0];
  return COMMANDS.find((c) => c.name === word);
}

/**
 * The program's help without any command's module: each command as a bare entry with its summary,
 * and commander's help line replaced by the static one (a bare entry has no options or arguments).
 */
export function registerSummaries(program: Command): void {
  for (const c of COMMANDS) program.command(c.name).description(c.summary);
  const term = new Map(COMMANDS.map((c) => [c.name, c.term]));
  // Commander's own line for what it adds itself (`help [command]`).
  const own = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => term.get(cmd.name()) ?? own.subcommandTerm(cmd) });
}
