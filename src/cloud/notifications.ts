import type { Ctx } from "./context.js";
import type { Tx } from "./state.js";
import type { ConnectionEvent, ConnectionEventType, VpcEndpoint } from "./types.js";

/**
 * Connection notifications: every Connect, Accept, Reject and Delete of an interface endpoint
 * is recorded once per matching, enabled notification (scoped to the service or to the
 * endpoint), as the SNS message AWS would publish. The message body is privlink-defined: AWS
 * does not document it (spec §8).
 */
export function emitConnectionEvent(
  tx: Tx,
  ctx: Ctx,
  endpoint: VpcEndpoint,
  event: ConnectionEventType,
): void {
  if (endpoint.type !== "Interface" || !endpoint.serviceId) return;
  for (const n of tx.all("connectionNotification")) {
    if (n.state !== "Enabled" || !n.events.includes(event)) continue;
    if (n.serviceId !== endpoint.serviceId && n.vpcEndpointId !== endpoint.id) continue;
    const seq = nextSequence(tx);
    tx.put("connectionEvent", {
      id: seq,
      time: ctx.rt.now().toISOString(),
      event,
      serviceId: endpoint.serviceId,
      vpcEndpointId: endpoint.id,
      vpcEndpointOwner: endpoint.accountId,
      vpcEndpointState: endpoint.state,
      notificationId: n.id,
      topicArn: n.arn,
    });
  }
}

function nextSequence(tx: Tx): string {
  let max = 0;
  for (const e of tx.all("connectionEvent")) max = Math.max(max, Number(e.id));
  return String(max + 1).padStart(12, "0");
}

/** Events newest last; `since` is the id of the last event the poller saw. */
export function listConnectionEvents(tx: Tx, since?: string): ConnectionEvent[] {
  return [...tx.all("connectionEvent")]
    .filter((e) => since === undefined || e.id > since)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}
