import { useState } from "react";
import { api } from "../api.js";
import { formatClock } from "../format.js";
import type { Snapshot } from "../model.js";
import { consumersOf } from "../resources.js";
import { ErrorBox, Section, StateBadge } from "../ui.js";

interface Unsuccessful {
  resourceId: string;
  code?: string;
  message?: string;
  error?: { code: string; message: string };
}

export function ServicePage({ snap, id, onChange }: { snap: Snapshot; id: string; onChange(): void }) {
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState<string>();
  const s = snap.services.find((x) => x.id === id);
  if (!s)
    return (
      <div className="error" role="alert">
        No endpoint service {id}.
      </div>
    );
  const consumers = consumersOf(snap, s.id);
  const events = snap.connectionEvents
    .filter((e) => e.serviceId === s.id)
    .slice(-50)
    .reverse();
  const decide = async (endpointId: string, action: "accept" | "reject") => {
    setBusy(endpointId);
    setError(undefined);
    try {
      const out = await api<{ unsuccessful: Unsuccessful[] }>("POST", "/_privlink/console/connections", {
        serviceId: s.id,
        endpointIds: [endpointId],
        action,
      });
      const failed = out.unsuccessful[0];
      if (failed)
        setError(
          new Error(
            `${failed.resourceId}: ${failed.error?.message ?? failed.message ?? JSON.stringify(failed)}`,
          ),
        );
      onChange();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div className="page" data-testid="service-page">
      <h1>
        {s.tags.Name ?? s.id} <StateBadge state={s.state} />
      </h1>
      <p className="mono">
        {s.serviceName} · account {s.accountId} · acceptance {s.acceptanceRequired ? "required" : "automatic"}
      </p>
      {error && <ErrorBox error={error} />}
      <Section title="Consumers">
        <table data-testid="consumers">
          <thead>
            <tr>
              <th>endpoint</th>
              <th>owner</th>
              <th>VPC</th>
              <th>state</th>
              <th>since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {consumers.map((e) => (
              <tr key={e.id} data-endpoint={e.id}>
                <td className="mono">
                  <a href={`#/endpoint/${e.id}`}>{e.id}</a>
                </td>
                <td className="mono">{e.accountId}</td>
                <td className="mono">{e.vpcId}</td>
                <td>
                  <StateBadge state={e.state} />
                </td>
                <td>{e.createdAt}</td>
                <td>
                  {(e.state === "pendingAcceptance" || e.state === "rejected") && (
                    <button type="button" disabled={busy === e.id} onClick={() => decide(e.id, "accept")}>
                      Accept
                    </button>
                  )}{" "}
                  {(e.state === "pendingAcceptance" || e.state === "available" || e.state === "pending") && (
                    <button
                      type="button"
                      className="danger"
                      disabled={busy === e.id}
                      onClick={() => decide(e.id, "reject")}
                    >
                      Reject
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {consumers.length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  No endpoint connects to this service yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
      <div className="grid">
        <Section title="Allowed principals">
          <ul>
            {s.permissions.map((p) => (
              <li key={p.principal} className="mono">
                {p.principal} ({p.principalType})
              </li>
            ))}
            {s.permissions.length === 0 && <li className="muted">Only the owner ({s.accountId}).</li>}
          </ul>
        </Section>
        <Section title="Private DNS">
          {s.privateDnsName ? (
            <p>
              <span className="mono">{s.privateDnsName}</span> — verification{" "}
              <StateBadge state={s.privateDnsVerification?.state ?? "none"} />
              {s.privateDnsVerification?.name && (
                <span className="mono">
                  {" "}
                  TXT {s.privateDnsVerification.name} = {s.privateDnsVerification.value}
                </span>
              )}
            </p>
          ) : (
            <p className="muted">No private DNS name.</p>
          )}
        </Section>
        <Section title="Load balancers">
          <ul>
            {s.networkLoadBalancerArns.map((a) => (
              <li key={a} className="mono">
                {a}
              </li>
            ))}
          </ul>
        </Section>
      </div>
      <Section title="Notifications">
        <table>
          <thead>
            <tr>
              <th>time</th>
              <th>event</th>
              <th>endpoint</th>
              <th>owner</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {events.map((ev) => (
              <tr key={ev.id}>
                <td>{formatClock(ev.time)}</td>
                <td>{ev.event}</td>
                <td className="mono">{ev.vpcEndpointId}</td>
                <td className="mono">{ev.vpcEndpointOwner}</td>
                <td>{ev.vpcEndpointState}</td>
              </tr>
            ))}
            {events.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No connection notification recorded.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
