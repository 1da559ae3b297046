import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * The `ip` commands namespace mode runs. Every command names a namespace privlink made (`-n`), or
 * adds/deletes one: the host's own interfaces are never touched.
 */

/** Runs `ip ARGS`; rejects with ip's own message. */
export function ip(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("ip", args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(" ")}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * Several commands in one namespace through one `ip -batch` process (one fork instead of a dozen
 * per instance). `-force` goes on past a failing line so that a partial rerun converges.
 */
export function ipBatch(namespace: string, lines: readonly string[]): Promise<string> {
  if (lines.length === 0) return Promise.resolve("");
  return ip(["-force", "-n", namespace, "-batch", "-"], `${lines.join("\n")}\n`);
}

/** Loads an nftables ruleset into a namespace privlink made (`nft -f -` under `ip netns exec`). */
export function nft(namespace: string, ruleset: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "ip",
      ["netns", "exec", namespace, "nft", "-f", "-"],
      { timeout: 10_000 },
      (err, _out, stderr) => {
        if (err) reject(new Error(`nft in ${namespace}: ${stderr.trim() || err.message}`));
        else resolve();
      },
    );
    child.stdin?.end(ruleset);
  });
}

/** Names of the network namespaces `ip netns` knows. */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(["netns", "list"]);
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter(Boolean);
}

export async function addNamespace(name: string): Promise<void> {
  await ip(["netns", "add", name]);
  await ip(["-n", name, "link", "set", "lo", "up"]);
}

export async function deleteNamespace(name: string): Promise<void> {
  // Deleting the namespace deletes its veth ends, and with them their peers.
  await ip(["netns", "delete", name]).catch((err: Error) => {
    if (!/No such file|not exist/i.test(err.message)) throw err;
  });
}

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

/**
 * Why this process cannot run namespace mode, or undefined when it can: creating a namespace
 * needs CAP_SYS_ADMIN (the bind mount under /run/netns) and configuring it CAP_NET_ADMIN.
 */
export function namespaceModeRefusal(status = readStatus()): string | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status ?? "");
  const caps = m ? BigInt(`0x${m[1]}`) : 0n;
  const missing = [
    [CAP_NET_ADMIN, "CAP_NET_ADMIN"],
    [CAP_SYS_ADMIN, "CAP_SYS_ADMIN"],
  ]
    .filter(([bit]) => (caps & (1n << BigInt(bit as number))) === 0n)
    .map(([, name]) => name);
  if (missing.length === 0) return undefined;
  return `--network netns needs root or the capabilities CAP_NET_ADMIN and CAP_SYS_ADMIN (missing: ${missing.join(", ")}): run 'sudo privlink up --network netns', or use the default loopback mode`;
}

function readStatus(): string | undefined {
  try {
    return readFileSync("/proc/self/status", "utf8");
  } catch {
    return undefined;
  }
}
