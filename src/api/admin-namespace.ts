import { AwsError } from "../cloud/errors.js";
import type { State } from "../cloud/state.js";
import type { NamespaceNetwork } from "../net/netns/mode.js";
import { WorkloadError, type WorkloadProxies } from "../net/workload-proxy.js";
import { parseJson } from "./admin.js";
import { workloadAwsError } from "./admin-dataplane.js";
import type { AdminRoute } from "./server.js";

/** What POST /_privlink/workloads/namespace answers: where `privlink exec` runs its command. */
export interface WorkloadNamespaceReply {
  namespace: string;
  instanceId: string;
  privateIp: string;
  /** The TLS environment (privlink's CA) for the command; no proxy variables. */
  env: Record<string, string>;
}

/**
 * POST /_privlink/workloads/namespace {"workload":"i-…|eni-…|Name"}: the network namespace of
 * that instance, once namespaces match the current state. Only in namespace mode.
 */
export function namespaceRoutes(
  state: State,
  networkOf: () => NamespaceNetwork | undefined,
  proxies: WorkloadProxies,
  tlsEnv: () => Record<string, string>,
): Record<string, AdminRoute> {
  return {
    "POST /_privlink/workloads/namespace": async ({ body }) => {
      const id = parseJson(body).workload;
      if (typeof id !== "string" || !id)
        throw new AwsError("MissingParameter", "workload (an i-…, eni-… or an instance's Name) is required");
      const network = networkOf();
      if (!network)
        throw new AwsError(
          "InvalidWorkload",
          "privlink runs in loopback mode: instances have namespaces only under 'privlink up --network netns'",
          409,
        );
      const instanceId = identifyInstance(proxies, id);
      await network.settled();
      const namespace = network.instanceNamespace(instanceId);
      if (!namespace)
        throw new AwsError(
          "InvalidWorkload",
          `instance ${instanceId} has no namespace${network.lastError ? `: ${network.lastError}` : ""}`,
          409,
        );
      const eni = state.get("eni", state.get("instance", instanceId)?.eniId ?? "");
      let env: Record<string, string> = {};
      try {
        env = tlsEnv();
      } catch {}
      const reply: WorkloadNamespaceReply = { namespace, instanceId, privateIp: eni?.privateIp ?? "", env };
      return { status: 200, body: reply };
    },
  };
}

function identifyInstance(proxies: WorkloadProxies, id: string): string {
  try {
    const { instanceId } = proxies.identify(id);
    if (instanceId) return instanceId;
  } catch (err) {
    if (err instanceof WorkloadError) throw workloadAwsError(err);
    throw err;
  }
  throw new AwsError("InvalidWorkload", `${id} is not an instance's: namespaces belong to instances`, 400);
}
