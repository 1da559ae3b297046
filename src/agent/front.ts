import { STATE_SERVICES } from "../api/state-services.js";
import type { AuthMode } from "../cloud/account.js";
import { DEFAULT_HOST } from "../cloud/context.js";
import type { Runtime } from "../cloud/runtime.js";
import type { State } from "../cloud/state.js";
import { LocalCa, ServiceFront } from "../front/index.js";
import type { ServiceFrontHandler } from "../net/dataplane.js";
import { createS3 } from "../services/s3/index.js";
import { PgBlobs } from "../services/s3/pg-blobs.js";
import { SNS_EDGE_KEY, SnsService } from "../services/sns/index.js";
import { readMetaRow, sharedCa } from "../store/shared-ca.js";
import { storeServices } from "./store-services.js";

/** How often an agent rereads which API node's edge its SNS messages link to. */
const EDGE_REFRESH_MS = 30_000;

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
 * store's tables (store-services.ts), and upstreams set in the state), S3 (bodies in the store,
 * PgBlobs) and SNS (the store's signing key; deliveries leave from here, their links name the last
 * API node's edge): every built-in service.
 */
export async function startAgentFront(opts: {
  store: string;
  state: State;
  rt: Runtime;
  auth: AuthMode;
}): Promise<AgentFront> {
  const ca = LocalCa.fromPem(await sharedCa(opts.store, () => LocalCa.createPem(opts.rt.now())));
  const inStore = await storeServices(opts.store, () => opts.rt.now());
  const blobs = await PgBlobs.open(opts.store);
  const s3 = await createS3({ state: opts.state, rt: opts.rt, auth: opts.auth, blobs });
  const sns = await SnsService.start(opts.state, opts.rt, undefined, opts.store);
  const followEdge = async () => {
    const edge = await readMetaRow(opts.store, SNS_EDGE_KEY).catch(() => undefined);
    if (edge !== undefined) sns.setEdgeUrl(edge);
  };
  await followEdge();
  const edgeTimer = setInterval(() => void followEdge(), EDGE_REFRESH_MS).unref();
  const front = new ServiceFront({
    state: opts.state,
    rt: opts.rt,
    host: DEFAULT_HOST,
    auth: opts.auth,
    services: { ...STATE_SERVICES, ...inStore.services, sns: sns.handlers },
    streaming: { s3: s3.serve },
    ca,
  });
  return {
    ca,
    handler: {
      handle: (socket, info) => front.handle(socket, info),
    },
    close: async () => {
      clearInterval(edgeTimer);
      await front.close();
      await inStore.close();
      sns.close();
      await blobs.close();
    },
  };
}
