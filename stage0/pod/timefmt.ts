// Time and duration text as rkt printed it: Go's "2006-01-02 15:04:05.999 -0700 MST", humanized
// "N minutes ago", and Go-style durations ("30m", "1h30m", "500ms") for --grace-period and friends.
import { RktError } from '../../common/errors.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function zoneAbbrev(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  const name = part?.value ?? 'UTC';
  return name === 'GMT' ? 'UTC' : name;
}

/** Go's "2006-01-02 15:04:05.999 -0700 MST" in local time. */
/** Unix time in nanoseconds (what rkt's api/v1 JSON and the CRI carry; past 2^53, hence bigint). */
export function unixNanos(d: Date): bigint {
  return BigInt(d.getTime()) * 1_000_000n;
}

export function formatGoTime(d: Date): string {
  const ms = d.getMilliseconds();
  const frac = ms === 0 ? '' : '.' + pad(ms, 3).replace(/0+$/, '');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac} ${sign}${pad(Math.floor(a / 60))}${pad(a % 60)} ${zoneAbbrev(d)}`;
}

/** "now", "5 seconds ago", "2 minutes ago", "3 hours ago", "4 days ago" (go-humanize's words). */
export function humanizeSince(d: Date, now = new Date()): string {
  const s = Math.floor((now.getTime() - d.getTime()) / 1000);
  if (s <= 0) return 'now';
  const unit = (n: number, w: string): string => (n === 1 ? `1 ${w} ago` : `${n} ${w}s ago`);
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return unit(Math.floor(s / 60), 'minute');
  if (s < 86400) return unit(Math.floor(s / 3600), 'hour');
  if (s < 86400 * 30) return unit(Math.floor(s / 86400), 'day');
  if (s < 86400 * 365) return unit(Math.floor(s / (86400 * 30)), 'month');
  return unit(Math.floor(s / (86400 * 365)), 'year');
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration ("30m", "1h30m", "1.5h", "0") into milliseconds. */
export function parseDuration(s: string, flag: string): number {
  const t = s.trim();
  if (t === '0') return 0;
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 0);
    pos = re.lastIndex;
  }
  if (t === '' || pos !== t.length) {
    throw new RktError('USAGE', `invalid ${flag} "${s}": expected a duration such as 30s, 10m, 1h30m`);
  }
  return total;
}
