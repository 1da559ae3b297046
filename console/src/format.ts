/** Bytes as people read them: 0 B, 512 B, 1.5 KiB, 3.2 MiB… */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** US dollars: cents for amounts of a dollar or more, four decimals below (endpoint-hours are cents). */
export function formatUsd(x: number): string {
  if (!Number.isFinite(x)) return "–";
  const sign = x < 0 ? "-" : "";
  const a = Math.abs(x);
  return `${sign}$${a >= 1 ? a.toFixed(2) : a.toFixed(4)}`;
}

/** "12:03:04" of an ISO time, in the browser's zone. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toTimeString().slice(0, 8);
}
