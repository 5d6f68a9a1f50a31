// Where a pod's journal is on the host: its machine's directory once journald made it, else the journal
// root (journalctl -D reads every machine below it), and how journalctl reads it. Shared by `rkt logs`, the
// CRI endpoint's log copier and attach, and the API service's GetLogs, so they read the same files.
import fs from 'node:fs';
import { journalDir, journalRoot, machineId } from '../../common/pod-layout.js';

/** The directory to give `journalctl -D`, or undefined when the pod has no journal (yet). */
export function podJournalDir(podDir: string, uuid: string): string | undefined {
  const own = journalDir(podDir, machineId(uuid));
  if (fs.existsSync(own)) return own;
  const root = journalRoot(podDir);
  return fs.existsSync(root) ? root : undefined;
}

export interface JournalQuery {
  /** Only this app's entries. */
  app?: string;
  follow: boolean;
  /** Only the last N entries. */
  lines?: number;
  /** Entries at or after / at or before these times, in seconds since the epoch. */
  since?: number;
  until?: number;
  /** No informational lines ("-- No entries --"): for readers that want entries only. */
  quiet?: boolean;
}

/** The journalctl argv (without argv[0]) reading a pod's journal dir, as `rkt logs` and the API service do. */
export function journalctlArgs(dir: string, q: JournalQuery): string[] {
  const args = ['-D', dir, '--no-pager', '-o', 'short-precise'];
  if (q.quiet === true) args.push('-q');
  if (q.follow) args.push('-f');
  if (q.lines !== undefined) args.push('-n', String(q.lines));
  // systemd.time(7): "@" takes seconds since the epoch.
  if (q.since !== undefined) args.push(`--since=@${q.since}`);
  if (q.until !== undefined) args.push(`--until=@${q.until}`);
  // Stage1 app units set SyslogIdentifier=<app>, so one match covers stdout, stderr and syslog lines.
  if (q.app !== undefined) args.push(`SYSLOG_IDENTIFIER=${q.app}`);
  return args;
}
