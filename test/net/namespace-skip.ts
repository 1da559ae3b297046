import { execFileSync } from "node:child_process";

/**
 * Why namespace-mode tests cannot run here, or undefined when they can: they need root (for
 * CAP_NET_ADMIN and CAP_SYS_ADMIN), a working `ip netns`, and the tools they drive.
 */
export function namespaceSkipReason(tools: readonly string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return "not root (namespace mode needs CAP_NET_ADMIN and CAP_SYS_ADMIN)";
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
  } catch (err) {
    return `'ip netns' is unavailable: ${(err as Error).message}`;
  }
  for (const tool of tools)
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed`;
    }
  return undefined;
}
