import type { Command } from "commander";

/** `privlink agent`: serve the data plane and DNS of the VPCs placed on this host (docs/agents.md). */
export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description(
      "run this host's share of a privlink shared through PostgreSQL: the data plane and DNS of the VPCs placed on it (docs/agents.md)",
    )
    .requiredOption("--store <url>", "the shared PostgreSQL store (postgres://…)", process.env.PRIVLINK_STORE)
    .requiredOption("--name <name>", "this agent's name, unique among the store's agents")
    .option("--listen <addr>", "address:port of the agent-to-agent tunnel", "127.0.0.1:4600")
    .option("--advertise <addr>", "address:port other agents dial (default: --listen)")
    .option("--lease <seconds>", "lease length; a silent agent's VPCs move after it", "15")
    .option(
      "--auth <mode>",
      "how the service fronts of the AWS-service endpoints placed here check SigV4: verify or open (as the API nodes' --auth)",
      process.env.PRIVLINK_AUTH ?? "verify",
    )
    .option(
      "--public-dns <addr>",
      "address of the public resolver",
      process.env.PRIVLINK_PUBLIC_DNS ?? "127.0.0.153",
    )
    .action(
      async (o: {
        store: string;
        name: string;
        listen: string;
        advertise?: string;
        lease: string;
        publicDns: string;
        auth: string;
      }) => {
        const seconds = Number(o.lease);
        if (o.auth !== "verify" && o.auth !== "open")
          throw new Error(`--auth is verify or open, not '${o.auth}'`);
        if (!(seconds > 0)) throw new Error(`--lease takes seconds, not '${o.lease}'`);
        const { startAgent } = await import("../agent/agent.js");
        const agent = await startAgent({
          store: o.store,
          name: o.name,
          listen: o.listen,
          advertise: o.advertise,
          leaseMs: Math.round(seconds * 1000),
          publicDns: o.publicDns,
          auth: o.auth,
        });
        const dns = agent.dns.info();
        process.stdout.write(
          [
            `privlink agent ${agent.name} is running`,
            `  tunnel      ${agent.address}`,
            `  lease       ${seconds} s (renewed every ${seconds / 3} s)`,
            `  serves      ${agent.units().join(" ") || "(nothing placed here yet)"}`,
            `  dns         VPC resolvers of the VPCs placed here at 127.S.0.2:${dns.port}`,
            "",
            "",
          ].join("\n"),
        );
        const stop = (signal: string) => {
          process.stdout.write(`\nprivlink agent: ${signal}, handing its VPCs over\n`);
          agent.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once("SIGINT", () => stop("SIGINT"));
        process.once("SIGTERM", () => stop("SIGTERM"));
      },
    );
}
