import type { Command } from "commander";
import { admin } from "./client.js";

interface UpstreamRow {
  service: string;
  url: string;
}

export function registerUpstreamCommands(program: Command): void {
  const upstream = program
    .command("upstream")
    .description(
      "forward AWS services privlink does not build in (through interface endpoints) to another implementation",
    );
  upstream
    .command("set <service> <url>")
    .description(
      "send SERVICE (its SigV4 name: kms, sqs, s3, …) to URL, e.g. http://127.0.0.1:4566; requests are re-signed for it",
    )
    .action(async (service: string, url: string) => {
      const r = await admin<UpstreamRow>("POST", "/_privlink/upstreams", { service, url });
      process.stdout.write(`${r.service} -> ${r.url}\n`);
    });
  upstream
    .command("list")
    .description("list the configured upstreams")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const r = await admin<{ upstreams: UpstreamRow[] }>("GET", "/_privlink/upstreams");
      if (o.json) process.stdout.write(`${JSON.stringify(r.upstreams)}\n`);
      else if (r.upstreams.length === 0)
        process.stdout.write("no upstreams configured (add one with: privlink upstream set SERVICE URL)\n");
      else for (const u of r.upstreams) process.stdout.write(`${u.service} ${u.url}\n`);
    });
  upstream
    .command("unset <service>")
    .description("stop forwarding SERVICE")
    .action(async (service: string) => {
      await admin("DELETE", `/_privlink/upstreams?service=${encodeURIComponent(service)}`);
      process.stdout.write(`${service}: no upstream\n`);
    });
}
