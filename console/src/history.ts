import type { EndpointHistory } from "./model.js";

/** One point of a rate chart: bytes per second at `t` (epoch ms, the server's clock). */
export interface RatePoint {
  t: number;
  rate: number;
}

export interface HourOfRates {
  from: number;
  to: number;
  /** CloudWatch's minutes (each its average rate), quiet minutes as 0, up to where the stream takes over. */
  cloudwatch: RatePoint[];
  /** The event stream's per-second samples from then on. */
  live: RatePoint[];
}

const HOUR = 3_600_000;

/**
 * An endpoint's last hour for its chart: the minutes CloudWatch holds (GET
 * /_privlink/console/metrics) and then the live samples. CloudWatch's minutes stop where the
 * stream starts, so no second is counted twice; a minute without a datapoint saw no traffic.
 */
export function hourOfRates(history: EndpointHistory | undefined, live: readonly RatePoint[]): HourOfRates {
  const lastLive = live.at(-1)?.t;
  const until = history ? Date.parse(history.until) : undefined;
  const to = Math.max(lastLive ?? 0, until ?? 0) || Date.now();
  const from = to - HOUR;
  const cutover = live[0]?.t ?? until ?? to;
  const cloudwatch: RatePoint[] = [];
  if (history) {
    const period = history.period * 1000;
    const byMinute = new Map(history.points.map((p) => [Date.parse(p.time), p.bytes]));
    const first = Math.max(from, Date.parse(history.since));
    for (let t = first - (first % period); t + period <= cutover; t += period) {
      const rate = (byMinute.get(t) ?? 0) / history.period;
      // A step: the minute's average holds over the whole minute.
      if (t >= from) cloudwatch.push({ t, rate }, { t: t + period, rate });
    }
  }
  return { from, to, cloudwatch, live: live.filter((p) => p.t >= from) };
}
