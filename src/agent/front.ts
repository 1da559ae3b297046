import { HOME_SERVICES, STATE_SERVICES } from "../api/state-services.js";
import type { AuthMode } from "../cloud/account.js";
import { awsServiceByName } from "../cloud/catalog.js";
import { DEFAULT_HOST } from "../cloud/context.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import { LocalCa, ServiceFront } from "../front/index.js";
import type { ServiceFrontHandler } from "../net/dataplane.js";
import { sharedCa } from "../store/shared-ca.js";
import { storeServices } from "./store-services.js";

export interface AgentFront {
  /** The shared store's CA: leaves for the fronts and the workload proxies' refusals. */
  readonly ca: LocalCa;
  /** What the data plane hands the sockets of endpoints to AWS services. */
  readonly handler: ServiceFrontHandler;
  close(): Promise<void>;
}

/**
 * An agent's AWS service front: the same ServiceFront as an API node's, on the agent's own copy
 * of the state, so a request through an endpoint served here is decrypted, authenticated,
 * checked against the endpoint policy and answered here; its writes commit to the shared store
 * like any API node's. It signs with the shared store's CA (the first node proposes one), so
 * workloads trust an agent's endpoint exactly as an API node's. It serves the services whose
 * data is all in the store ({@link STATE_SERVICES}, CloudWatch and CloudWatch Logs from the
 * store's tables (store-services.ts), and upstreams set in the state); an endpoint to a service
 * of {@link HOME_SERVICES} keeps data in an API node's home, and is refused at the listener with
 * that reason.
 */
export async function startAgentFront(opts: {
  store: string;
  state: State;
  rt: Runtime;
  auth: AuthMode;
}): Promise<AgentFront> {
  const ca = LocalCa.fromPem(await sharedCa(opts.store, () => LocalCa.createPem(opts.rt.now())));
  const inStore = await storeServices(opts.store, () => opts.rt.now());
  const front = new ServiceFront({
    state: opts.state,
    rt: opts.rt,
    host: DEFAULT_HOST,
    auth: opts.auth,
    services: { ...STATE_SERVICES, ...inStore.services },
    ca,
  });
  return {
    ca,
    handler: {
      handle: (socket, info) => front.handle(socket, info),
      refusal(serviceName) {
        const signing = awsServiceByName(serviceName, { type: "Interface" })?.signingName;
        return signing !== undefined && HOME_SERVICES.has(signing)
          ? `no service front for ${serviceName} on an agent: its data lives in an API node's home (docs/agents.md)`
          : undefined;
      },
    },
    close: async () => {
      await front.close();
      await inStore.close();
    },
  };
}
