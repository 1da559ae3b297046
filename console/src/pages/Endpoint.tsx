import { api, type Live, useLoad } from "../api.js";
import { formatBytes, formatRate } from "../format.js";
import { hourOfRates, type RatePoint } from "../history.js";
import type { EndpointHistory, Snapshot } from "../model.js";
import { resolvesTo } from "../resources.js";
import { ErrorBox, Policy, RateChart, Section, StateBadge } from "../ui.js";

export function EndpointPage({ snap, id, live }: { snap: Snapshot; id: string; live: Live }) {
  const history = useLoad(
    () => api<EndpointHistory>("GET", `/_privlink/console/metrics?endpoint=${encodeURIComponent(id)}`),
    id,
  );
  const e = snap.endpoints.find((x) => x.id === id);
  if (!e)
    return (
      <div className="error" role="alert">
        No endpoint {id}.
      </div>
    );
  const counters = live.sample?.endpoints.find((c) => c.vpcEndpointId === e.id);
  const rate = live.rates.get(e.id);
  const service = snap.services.find((s) => s.id === e.serviceId);
  return (
    <div className="page" data-testid="endpoint-page">
      <h1>
        {e.tags.Name ?? e.id} <StateBadge state={e.state} />
      </h1>
      <p className="mono">
        {e.id} · {e.type} · account {e.accountId} · {e.vpcId} · created {e.createdAt}
      </p>
      <p>
        Service:{" "}
        {service ? (
          <a href={`#/service/${service.id}`}>{e.serviceName}</a>
        ) : (
          <span className="mono">{e.serviceName}</span>
        )}
      </p>
      <div className="grid">
        <Section title="Traffic">
          <p>
            {formatRate(rate?.rate ?? 0)} now · {counters?.activeConnections ?? 0} active ·{" "}
            {counters?.newConnections ?? 0} connections ·{" "}
            {formatBytes((counters?.bytesIn ?? 0) + (counters?.bytesOut ?? 0))} total ·{" "}
            {counters?.dropped ?? 0} refused
          </p>
          <LastHour history={history.data} live={live.history.get(e.id) ?? []} />
          {history.error && <ErrorBox error={history.error} />}
        </Section>
        <Section title="Network interfaces">
          <table>
            <thead>
              <tr>
                <th>ENI</th>
                <th>subnet</th>
                <th>AZ</th>
                <th>private IP</th>
              </tr>
            </thead>
            <tbody>
              {e.enis.map((x) => {
                const eni = snap.enis.find((n) => n.id === x.eniId);
                const sn = snap.subnets.find((s) => s.id === x.subnetId);
                return (
                  <tr key={x.eniId}>
                    <td className="mono">{x.eniId}</td>
                    <td className="mono">{x.subnetId}</td>
                    <td>{sn ? `${sn.az} (${sn.azId})` : ""}</td>
                    <td className="mono">{eni?.privateIp}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Section>
      </div>
      <Section title="DNS names">
        <table data-testid="dns-names">
          <thead>
            <tr>
              <th>name</th>
              <th>kind</th>
              <th>resolves in {e.vpcId} to</th>
            </tr>
          </thead>
          <tbody>
            {e.dnsNames.map((d) => (
              <tr key={d.name}>
                <td className="mono">{d.name}</td>
                <td>
                  {d.kind}
                  {d.az ? ` ${d.az}` : ""}
                </td>
                <td className="mono">{resolvesTo(snap, e, d).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Security groups">
        {e.securityGroupIds.map((g) => {
          const sg = snap.securityGroups.find((x) => x.id === g);
          return (
            <div key={g}>
              <h3 className="mono">
                {g} {sg?.name}
              </h3>
              <table>
                <thead>
                  <tr>
                    <th>direction</th>
                    <th>protocol</th>
                    <th>ports</th>
                    <th>from / to</th>
                  </tr>
                </thead>
                <tbody>
                  {[
                    ...(sg?.ingress ?? []).map((r) => ["inbound", r] as const),
                    ...(sg?.egress ?? []).map((r) => ["outbound", r] as const),
                  ].map(([dir, r]) => (
                    <tr key={r.ruleId}>
                      <td>{dir}</td>
                      <td>{r.protocol === "-1" ? "all" : r.protocol}</td>
                      <td>
                        {r.fromPort === -1
                          ? "all"
                          : r.fromPort === r.toPort
                            ? r.fromPort
                            : `${r.fromPort}-${r.toPort}`}
                      </td>
                      <td className="mono">{r.cidrIpv4 ?? r.groupId ?? r.prefixListId}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        })}
      </Section>
      <Section title="Policy">
        <Policy
          text={
            e.policyDocument ??
            '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
          }
        />
      </Section>
    </div>
  );
}

/** The chart and CloudWatch's totals for the hour. */
function LastHour({ history, live }: { history?: EndpointHistory; live: RatePoint[] }) {
  const hour = hourOfRates(history, live);
  const sum = (f: (p: EndpointHistory["points"][number]) => number) =>
    (history?.points ?? []).reduce((a, p) => a + f(p), 0);
  return (
    <>
      <RateChart hour={hour} label="bytes per second over the last hour" />
      <p className="muted" data-testid="history-totals">
        {history
          ? `Last hour in CloudWatch: ${formatBytes(sum((p) => p.bytes))}, ${sum((p) => p.newConnections)} connections, ${sum((p) => p.dropped)} refused`
          : "Loading the last hour from CloudWatch…"}
      </p>
    </>
  );
}
