import type { Command } from "commander";
import { adminTokenPath } from "../api/admin-auth.js";
import { DEFAULT_KEY } from "../cloud/account.js";
import { DEFAULT_ACCOUNT } from "../cloud/ids.js";
import type { ResolverInfo } from "../dns/resolvers.js";
import { defaultHome } from "../home.js";
import { admin, serverUrl } from "./client.js";

function banner(url: string, home: string, auth: string, store?: string): string {
  return [
    "privlink is running: AWS PrivateLink on this machine",
    "",
    `  endpoint    ${url}`,
    `  account     ${DEFAULT_ACCOUNT}`,
    `  credentials AWS_ACCESS_KEY_ID=${DEFAULT_KEY.id} AWS_SECRET_ACCESS_KEY=${DEFAULT_KEY.secret} (auth: ${auth})`,
    `  region      us-east-1 (every commercial region is served)`,
    `  state       ${home}`,
    ...(store ? [`  store       PostgreSQL at ${store} (shared; change feed by LISTEN/NOTIFY)`] : []),
    "",
    `  in another shell:  eval "$(privlink env)"  then  aws ec2 describe-vpcs`,
    "",
  ].join("\n");
}

/** Says how the admin API is protected — and, under --auth open, that it is not. */
function adminBanner(home: string, token: boolean): string {
  return token
    ? `  admin       /_privlink/* needs the token in ${adminTokenPath(home)} (the privlink CLI sends it)\n`
    : "  admin       /_privlink/* is OPEN (--auth open): any local process can reset or read all state\n";
}

/** Where the resolvers listen; the port line says when 53 could not be bound. */
function dnsBanner(d: ResolverInfo): string {
  const why =
    d.portSource === "fallback"
      ? ` (port 53 is not bindable here: resolvers use ${d.port}; dig -p ${d.port})`
      : "";
  const forward = d.forward
    ? `, forwarding unknown names to ${d.forward.join(" ") || "(no resolver found)"}`
    : "";
  return [
    `  dns         public resolver ${d.publicResolver}:${d.port}${d.publicResolverError ? ` (not listening: ${d.publicResolverError})` : ""}; VPC resolvers at 127.S.0.2:${d.port}${why}${forward}`,
    "",
  ].join("\n");
}

const API_ONLY_BANNER =
  "  role        api only: no endpoint listener, workload proxy or resolver on this host; the agents serve them (GET /_privlink/agents)\n";

function networkBanner(mode: string, tag: string | undefined): string {
  if (mode !== "netns") return "";
  return `  network     netns: each VPC and instance is a network namespace privlink-${tag}-…; run programs with 'sudo privlink exec --from i-… -- CMD'\n`;
}

export function registerServerCommands(program: Command): void {
  program
    .command("up")
    .description("run privlink in the foreground (same as npm start)")
    .option("-p, --port <port>", "HTTP port for every AWS API", process.env.PRIVLINK_PORT ?? "4599")
    .option("--home <dir>", "state directory", defaultHome())
    .option(
      "--store <url>",
      "shared state in PostgreSQL (postgres://user:pass@host:port/db) instead of the home's SQLite file",
      process.env.PRIVLINK_STORE,
    )
    .option(
      "--auth <mode>",
      "verify (SigV4 against registered keys) or open (any key)",
      process.env.PRIVLINK_AUTH ?? "verify",
    )
    .option(
      "--slots <A-B>",
      "host address slots this instance may use",
      process.env.PRIVLINK_SLOTS ?? "1-254",
    )
    .option(
      "--public-dns <addr>",
      "address of the public resolver",
      process.env.PRIVLINK_PUBLIC_DNS ?? "127.0.0.153",
    )
    .option("--listen <addr>", "address of the HTTP edge (loopback only unless --listen-any)", "127.0.0.1")
    .option("--listen-any", "allow --listen on a non-loopback address (exposes every account's state)")
    .option(
      "--dns-forward [servers]",
      "forward unknown public names to the machine's resolvers (/etc/resolv.conf), or to IP[:port],…",
    )
    .option(
      "--idle-timeout <seconds>",
      "reset flows through endpoints and workload proxies idle this long (AWS: 350, fixed)",
      process.env.PRIVLINK_IDLE_TIMEOUT ?? "350",
    )
    .option(
      "--s3-request-timeout <seconds>",
      "S3 answers RequestTimeout when an upload sends nothing this long (AWS: undocumented)",
      process.env.PRIVLINK_S3_REQUEST_TIMEOUT ?? "20",
    )
    .option(
      "--network <mode>",
      "loopback (private IPs on 127.S.x.y, the default) or netns (each VPC and instance a Linux network namespace with real private IPs; needs root)",
      process.env.PRIVLINK_NETWORK ?? "loopback",
    )
    .option(
      "--role <role>",
      "all (the API, the data plane and DNS, the default) or api (the API only, beside 'privlink agent's on a --store postgres://…: binds no endpoint listener or resolver)",
      process.env.PRIVLINK_ROLE ?? "all",
    )
    .option("--log <kinds>", "print one line per API call (requests) and/or per flow (flows): requests,flows")
    .option("--log-format <format>", "text or json (pino)", "text")
    .action(
      async (o: {
        log?: string;
        logFormat: string;
        port: string;
        home: string;
        store?: string;
        auth: string;
        slots: string;
        publicDns: string;
        dnsForward?: string | boolean;
        listen: string;
        listenAny?: boolean;
        idleTimeout: string;
        s3RequestTimeout: string;
        network: string;
        role: string;
      }) => {
        if (o.auth !== "verify" && o.auth !== "open")
          throw new Error(`--auth is verify or open, not '${o.auth}'`);
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new Error(`--port must be a TCP port, not '${o.port}'`);
        const dnsForward =
          typeof o.dnsForward === "string" ? o.dnsForward.split(",").filter(Boolean) : o.dnsForward;
        if (o.logFormat !== "text" && o.logFormat !== "json")
          throw new Error(`--log-format is text or json, not '${o.logFormat}'`);
        // The server (and the SDKs it serves with) loads only for `up`: env and status stay quick.
        const [
          { parseNetworkMode, parseNodeRole, parseSlots, startPrivlink },
          { consoleLog, parseLogKinds },
        ] = await Promise.all([import("../privlink.js"), import("./console-log.js")]);
        const logging = await consoleLog(parseLogKinds(o.log), o.logFormat);
        const idleTimeoutMs = parseSeconds("--idle-timeout", o.idleTimeout);
        const s3RequestTimeoutMs = parseSeconds("--s3-request-timeout", o.s3RequestTimeout);
        const p = await startPrivlink({
          ...logging,
          port,
          home: o.home,
          store: o.store,
          auth: o.auth,
          slots: parseSlots(o.slots),
          publicDns: o.publicDns,
          dnsForward,
          listen: o.listen,
          listenAny: o.listenAny === true,
          idleTimeoutMs,
          s3RequestTimeoutMs,
          network: parseNetworkMode(o.network),
          role: parseNodeRole(o.role),
        });
        // One write, so a reader of the pipe never sees the banner without its admin line.
        const idle =
          idleTimeoutMs === 350_000
            ? ""
            : `  idle flows  reset after ${idleTimeoutMs / 1000} s (AWS: 350 s, fixed)\n`;
        const s3Idle =
          s3RequestTimeoutMs === 20_000
            ? ""
            : `  s3 uploads  RequestTimeout after ${s3RequestTimeoutMs / 1000} s without a byte (default 20 s)\n`;
        process.stdout.write(
          banner(p.url, p.home, o.auth, p.storeWhere) +
            adminBanner(p.home, p.adminToken !== undefined) +
            (p.role === "api" ? API_ONLY_BANNER : dnsBanner(p.dns.info())) +
            idle +
            s3Idle +
            networkBanner(p.network, p.namespaces?.tag) +
            // One-time link: opening it sets the console's session cookie (`privlink console` mints another).
            `  console     ${p.console.loginUrl(p.url)}\n\n`,
        );
        const stop = (signal: string) => {
          process.stdout.write(`\nprivlink: ${signal}, shutting down\n`);
          p.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once("SIGINT", () => stop("SIGINT"));
        process.once("SIGTERM", () => stop("SIGTERM"));
      },
    );

  program
    .command("env")
    .description("print the AWS environment for the running server, for eval (exit 3 when none runs)")
    .action(async () => {
      try {
        await admin("GET", "/_privlink/health");
      } catch {
        // Printing a default address would send every later AWS call to nothing: say so instead.
        process.stderr.write(
          `privlink is not running (looked at ${serverUrl()}): start it with 'privlink up', or set PRIVLINK_HOME or PRIVLINK_URL to find the one that runs\n`,
        );
        process.exitCode = 3;
        return;
      }
      const lines = [
        `export AWS_ENDPOINT_URL=${serverUrl()}`,
        `export AWS_ACCESS_KEY_ID=${DEFAULT_KEY.id}`,
        `export AWS_SECRET_ACCESS_KEY=${DEFAULT_KEY.secret}`,
        `export AWS_DEFAULT_REGION=us-east-1`,
        // The SDKs v3 read AWS_REGION only; the CLI reads AWS_DEFAULT_REGION.
        `export AWS_REGION=us-east-1`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  program
    .command("status")
    .description("say whether a privlink server is running, and where")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      try {
        const h = await admin<Record<string, unknown>>("GET", "/_privlink/health");
        const out = { running: true, url: serverUrl(), ...h };
        process.stdout.write(
          o.json
            ? `${JSON.stringify(out)}\n`
            : `privlink ${h.version} is running at ${serverUrl()} (state version ${h.stateVersion}, since ${h.startedAt})\n`,
        );
      } catch {
        process.stdout.write(
          o.json
            ? `${JSON.stringify({ running: false, url: serverUrl() })}\n`
            : `privlink is not running (looked at ${serverUrl()})\n`,
        );
        process.exitCode = 3;
      }
    });
}

/** `--idle-timeout SECONDS`: whole seconds from 1 to 7 days, as milliseconds. */
/** A duration option in whole seconds (1 s to a week), as milliseconds. */
export function parseSeconds(option: string, text: string): number {
  const s = Number(text);
  if (!/^\d+$/.test(text.trim()) || s < 1 || s > 7 * 24 * 3600)
    throw new Error(`${option} takes whole seconds from 1 to 604800, not '${text}'`);
  return s * 1000;
}

export const parseIdleTimeout = (text: string): number => parseSeconds("--idle-timeout", text);
