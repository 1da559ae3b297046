import type { Command } from "commander";
import type { AddrRow } from "../cloud/addressing.js";
import { admin } from "./client.js";

export function registerAddrCommand(program: Command): void {
  program
    .command("addr <what>")
    .description(
      "map private addresses to host addresses: a private IP (with --vpc), a 127.x host address, an ENI, an instance, or a VPC (its resolver)",
    )
    .option("--vpc <vpc-id>", "the VPC of a private IP")
    .option("--json", "print JSON")
    .action(async (what: string, o: { vpc?: string; json?: boolean }) => {
      const q = new URLSearchParams({ q: what, ...(o.vpc ? { vpc: o.vpc } : {}) });
      const r = await admin<{ addresses: AddrRow[] }>("GET", `/_privlink/addr?${q}`);
      if (o.json) process.stdout.write(`${JSON.stringify(r.addresses)}\n`);
      else
        for (const a of r.addresses)
          process.stdout.write(`${a.privateIp} ${a.hostAddress} ${a.vpcId} ${a.eniId ?? "-"}\n`);
      if (r.addresses.length === 0) {
        process.stderr.write(`privlink: no host address for ${what}\n`);
        process.exitCode = 1;
      }
    });
}
