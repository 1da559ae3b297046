import { listConnectionEvents } from "../cloud/notifications.js";
import type { State } from "../cloud/state.js";

/** One connection event as `GET /_privlink/events` and `privlink events` show it. */
export interface EventRow {
  id: string;
  time: string;
  event: string;
  serviceId: string;
  vpcEndpointId: string;
  vpcEndpointOwner: string;
  vpcEndpointState: string;
  notificationId: string;
}

/** The recorded connection notifications, newest last; `since` is the last id a poller saw. */
export function connectionEvents(state: State, since: string | undefined): { events: EventRow[] } {
  // A read-only transaction: nothing is written, so nothing is committed.
  const events = state.transact((tx) => listConnectionEvents(tx, since === "" ? undefined : since));
  return {
    events: events.map((e) => ({
      id: e.id,
      time: e.time,
      event: e.event,
      serviceId: e.serviceId,
      vpcEndpointId: e.vpcEndpointId,
      vpcEndpointOwner: e.vpcEndpointOwner,
      vpcEndpointState: e.vpcEndpointState,
      notificationId: e.notificationId,
    })),
  };
}
