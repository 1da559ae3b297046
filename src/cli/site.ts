import type { Command } from "commander";
import type { siteView } from "../api/sites.js";
import { admin } from "./client.js";

type SiteRow = ReturnType<typeof siteView>;

function print(s: SiteRow): void {
  process.stdout.write(
    `${s.name} ${s.cidr} public-ip=${s.publicIp} asn=${s.bgpAsn} vpn=${s.vpn} dns=${s.dnsServer}(${s.dnsServerHost}) workload=${s.workload}(${s.workloadHost})${s.internet ? " internet" : ""}\n`,
  );
  for (const f of s.dnsForwards) process.stdout.write(`  forward ${f.zone} -> ${f.targets.join(" ")}\n`);
}

/** `privlink site …`: on-premises networks that VPN and Direct Connect connect to VPCs. */
export function registerSiteCommands(program: Command): void {
  const site = program
    .command("site")
    .description(
      "on-premises sites: networks with their own CIDR, workloads and DNS server, reached over VPN or Direct Connect",
    );
  site
    .command("create <name>")
    .description(
      "create a site; a CustomerGateway with its public IP is its VPN device, Direct Connect location NAME is its cross-connect",
    )
    .requiredOption("--cidr <cidr>", "the site's network, /16 to /28 (e.g. 192.168.0.0/16)")
    .option("--public-ip <ip>", "the public IP of its VPN device (default 203.0.113.<slot>)")
    .option("--asn <asn>", "its BGP ASN (default 65000)")
    .option("--internet", "the site has its own internet connection")
    .option("--json", "print JSON")
    .action(
      async (
        name: string,
        o: { cidr: string; publicIp?: string; asn?: string; internet?: boolean; json?: boolean },
      ) => {
        const s = await admin<SiteRow>("POST", "/_privlink/sites", {
          name,
          cidr: o.cidr,
          publicIp: o.publicIp,
          bgpAsn: o.asn === undefined ? undefined : Number(o.asn),
          internet: o.internet === true,
        });
        if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
        else print(s);
      },
    );
  site
    .command("list")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const r = await admin<{ sites: SiteRow[] }>("GET", "/_privlink/sites");
      if (o.json) process.stdout.write(`${JSON.stringify(r.sites)}\n`);
      else for (const s of r.sites) print(s);
    });
  site.command("delete <name>").action(async (name: string) => {
    await admin("POST", "/_privlink/sites/delete", { name });
  });
  const vpn = site.command("vpn").description("bring the tunnels of a site's VPN connections up or down");
  for (const state of ["up", "down"] as const)
    vpn.command(`${state} <name>`).action(async (name: string) => {
      await admin("POST", "/_privlink/sites/vpn", { name, up: state === "up" });
    });
  const dns = site.command("dns").description("the site's own DNS server");
  dns
    .command("forward <name> <zone> [targets...]")
    .description(
      "forward ZONE to TARGETS (e.g. a Resolver inbound endpoint's IPs); no targets removes the forwarder",
    )
    .action(async (name: string, zone: string, targets: string[]) => {
      const s = await admin<SiteRow>("POST", "/_privlink/sites/dns", { name, zone, targets });
      print(s);
    });
}
