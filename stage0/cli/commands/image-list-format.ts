// Pure formatting for `rkt image list`: IEC sizes, "N minutes ago", absolute times and aligned columns.

/** IEC size as go-humanize's IBytes printed it: "512 B", "1.5 KiB", "79 MiB". */
export function humanizeBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v).toFixed(0)} ${units[u]}`;
}

const SPANS: readonly [number, string][] = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [7, 'day'],
  [4.348, 'week'],
  [12, 'month'],
  [Infinity, 'year'],
];

/** "now", "1 second ago", "2 minutes ago", "3 days ago"; future times read "from now". */
export function humanizeAgo(then: Date, now: Date): string {
  let secs = Math.round((now.getTime() - then.getTime()) / 1000);
  const suffix = secs < 0 ? 'from now' : 'ago';
  secs = Math.abs(secs);
  if (secs === 0) return 'now';
  let v = secs;
  for (const [size, unit] of SPANS) {
    if (v < size) {
      const k = Math.floor(v);
      return `${k} ${unit}${k === 1 ? '' : 's'} ${suffix}`;
    }
    v /= size;
  }
  return 'long ago';
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Absolute local time with offset, e.g. "2024-05-01 13:04:05.123 +0200". */
export function formatAbsolute(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const oh = pad2(Math.floor(Math.abs(off) / 60));
  const om = pad2(Math.abs(off) % 60);
  const ms = String(d.getMilliseconds()).padStart(3, '0');
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${ms} ${sign}${oh}${om}`;
}

/** Left-aligned columns separated by at least two spaces (cells such as "2 minutes ago" hold one). */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}
