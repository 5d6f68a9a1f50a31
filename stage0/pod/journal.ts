// Where a pod's journal is on the host: its machine's directory once journald made it, else the journal
// root (journalctl -D reads every machine below it), and how journalctl reads it. Shared by `rkt logs`, the
// CRI endpoint's log copier and attach, and the API service's GetLogs, so they read the same files.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { journalDir, journalRoot, machineId } from '../../common/pod-layout.js';
import { endedRunOf, reaperUnitName } from '../../common/stage1-contract.js';

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

export type JournalEntry = Record<string, unknown>;

/**
 * Hands the entries a `journalctl -o json` child prints to `onChunk`, one array per chunk read (journalctl's
 * own notices, not JSON, are skipped).
 */
export function readJournalJson(child: ChildProcess, onChunk: (entries: JournalEntry[]) => void): void {
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    const entries: JournalEntry[] = [];
    for (const l of lines) {
      try {
        const e: unknown = JSON.parse(l);
        if (typeof e === 'object' && e !== null) entries.push(e as JournalEntry);
      } catch {
        // not an entry
      }
    }
    onChunk(entries);
  });
}

/** The message bytes of an entry (journalctl prints non-UTF-8 ones as a byte array), or undefined. */
export function entryMessage(entry: JournalEntry): Buffer | undefined {
  const raw = entry['MESSAGE'];
  if (typeof raw === 'string') return Buffer.from(raw);
  if (Array.isArray(raw) && raw.every((b) => typeof b === 'number')) return Buffer.from(raw as number[]);
  return undefined;
}

/**
 * For an entry of app `app`'s reaper: the run it says ended (undefined for its other lines); null for any
 * entry that is not the reaper's. Readers follow `SYSLOG_IDENTIFIER=<app> + _SYSTEMD_UNIT=<reaper>`.
 */
export function reaperEntry(entry: JournalEntry, app: string): string | undefined | null {
  if (entry['_SYSTEMD_UNIT'] !== reaperUnitName(app)) return null;
  return endedRunOf(entryMessage(entry)?.toString('utf8') ?? '');
}
