// Container logs in the CRI format kubelet reads (`<RFC3339Nano> <stream> <P|F> <line>`), copied from the
// pod's journal by one `journalctl -o json` per container. The cursor of the last copied entry is kept in the
// pod directory, so a restarted endpoint resumes where it stopped instead of duplicating or losing lines.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { reaperUnitName } from '../../../common/stage1-contract.js';
import type { AppStatus } from '../../app/app-state.js';
import { entryMessage, podJournalDir, reaperEntry, readJournalJson, type JournalEntry } from '../../pod/journal.js';
import type { CriContainer } from './cri-pods.js';

/** One journal entry as a CRI log line; journald marks lines it split at LineMax (`_LINE_BREAK=line-max`). */
export function criLogLine(entry: Record<string, unknown>): string | undefined {
  const bytes = entryMessage(entry);
  if (bytes === undefined) return undefined;
  const msg = bytes.toString('utf8');
  const us = typeof entry['__REALTIME_TIMESTAMP'] === 'string' ? BigInt(entry['__REALTIME_TIMESTAMP']) : BigInt(Date.now()) * 1000n;
  const ms = Number(us / 1000n);
  const iso = new Date(ms).toISOString(); // ...T12:00:00.123Z
  const micros = (us % 1_000_000n).toString().padStart(6, '0');
  const ts = `${iso.slice(0, 19)}.${micros}000Z`;
  // journald keeps no stream name: what the app wrote at err priority or worse is shown as stderr.
  const prio = typeof entry['PRIORITY'] === 'string' ? Number(entry['PRIORITY']) : 6;
  const stream = prio <= 3 ? 'stderr' : 'stdout';
  const tag = entry['_LINE_BREAK'] === 'line-max' ? 'P' : 'F';
  return `${ts} ${stream} ${tag} ${msg}\n`;
}

const cursorFile = (c: CriContainer): string => path.join(c.sandbox.snap.dir, 'cri-logs', `${c.app}.cursor`);

interface Follower {
  app: string;
  child: ChildProcess;
  fd: number;
  logPath: string;
  /** Runs (invocation ids) whose reaper line the follower has read: their output is all in the log file. */
  endedRuns: Set<string>;
  /** When it was last restarted to catch up; set, the close handler starts the next one for this container. */
  restartedAt: number;
  restartFor?: CriContainer;
}

/** How often a follower that has not seen an exited run's end line is restarted (see caughtUp). */
const CATCH_UP_RESTART_MS = 2000;

/**
 * How long an exited container may still show as running while its last lines are on their way (a kvm
 * guest's journal reaches the host at journald's next sync): after that, the status tells the truth anyway.
 */
const LOG_CATCH_UP_MAX_MS = 30_000;

/**
 * Lines are written synchronously, then the cursor of the last one (tmp + rename), once per chunk journalctl
 * hands over: a kill -9 between the two can repeat at most that chunk, and never loses a line.
 */
function writeChunk(f: Follower, cursorPath: string, entries: readonly JournalEntry[]): void {
  let out = '';
  let cursor = '';
  for (const e of entries) {
    const ended = reaperEntry(e, f.app);
    if (ended !== null) {
      if (ended !== undefined) f.endedRuns.add(ended);
      if (typeof e['__CURSOR'] === 'string') cursor = e['__CURSOR'];
      continue;
    }
    const line = criLogLine(e);
    if (line !== undefined) out += line;
    if (typeof e['__CURSOR'] === 'string') cursor = e['__CURSOR'];
  }
  if (out !== '') fs.writeSync(f.fd, out);
  if (cursor !== '') {
    fs.writeFileSync(`${cursorPath}.tmp`, cursor);
    fs.renameSync(`${cursorPath}.tmp`, cursorPath);
  }
}

export class ContainerLogs {
  private readonly followers = new Map<string, Follower>();
  private readonly starting = new Set<string>();

  constructor(private readonly debug: (line: string) => void) {}

  /** Starts copying (following while the container may still write); a second start is a no-op. */
  async start(c: CriContainer, follow: boolean): Promise<void> {
    const id = c.record.id;
    if (c.record.logPath === '' || this.followers.has(id) || this.starting.has(id)) return;
    this.starting.add(id);
    try {
      await fsp.mkdir(path.dirname(c.record.logPath), { recursive: true });
      await fsp.mkdir(path.dirname(cursorFile(c)), { recursive: true, mode: 0o700 });
      const cursor = (await fsp.readFile(cursorFile(c), 'utf8').catch(() => '')).trim();
      const journal = podJournalDir(c.sandbox.snap.dir, c.sandbox.snap.uuid);
      if (journal === undefined) {
        this.debug(`logs of ${c.app}: pod ${c.sandbox.snap.uuid} has no journal yet`);
        return;
      }
      // The reaper's end-of-run lines too: ContainerStatus says EXITED once the run's output is all copied.
      const args = ['-D', journal, '--no-pager', '-o', 'json', `SYSLOG_IDENTIFIER=${c.app}`, '+', `_SYSTEMD_UNIT=${reaperUnitName(c.app)}`];
      if (follow) args.push('-f', '-n', 'all');
      if (cursor !== '') args.push(`--after-cursor=${cursor}`);
      const child = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'ignore'] });
      const f: Follower = { app: c.app, child, logPath: c.record.logPath, fd: fs.openSync(c.record.logPath, 'a', 0o640), endedRuns: new Set(), restartedAt: Date.now() };
      this.followers.set(id, f);
      this.debug(`logs of ${c.app} (${id.slice(0, 12)}) -> ${c.record.logPath}${cursor ? ' (resuming)' : ''}`);
      readJournalJson(child, (entries) => {
        try {
          writeChunk(f, cursorFile(c), entries);
        } catch (err) {
          this.debug(`writing the log of ${c.app} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
      child.on('close', () => {
        fs.closeSync(f.fd);
        if (this.followers.get(id) === f) this.followers.delete(id);
        if (f.restartFor !== undefined) void this.start(f.restartFor, true).catch((err: unknown) => this.debug(`restarting the log copier of ${c.app} failed: ${String(err)}`));
      });
    } finally {
      this.starting.delete(id);
    }
  }

  /**
   * Whether an exited container's log holds all its run wrote, as kubelet assumes once it reads EXITED
   * (containerd likewise reports the exit after the container's output was copied). True when nothing
   * follows it, for a run without an invocation id, and past LOG_CATCH_UP_MAX_MS.
   */
  caughtUp(c: CriContainer, status: AppStatus): boolean {
    const f = this.followers.get(c.record.id);
    const last = status.runs[status.runs.length - 1];
    if (f === undefined || status.state !== 'exited' || last?.invocationId === undefined) return true;
    if (f.endedRuns.has(last.invocationId)) return true;
    if (Date.now() - last.finishedAt.getTime() > LOG_CATCH_UP_MAX_MS) return true;
    // journalctl -f wakes on inotify, which a kvm guest's journal written through 9p does not always raise:
    // a follower restarted from the saved cursor reads the files afresh.
    if (f.restartFor === undefined && Date.now() - f.restartedAt >= CATCH_UP_RESTART_MS) {
      f.restartFor = c;
      this.debug(`logs of ${c.app}: the end of run ${last.invocationId} is not copied yet; restarting the copier`);
      f.child.kill('SIGTERM');
    }
    return false;
  }

  stop(id: string): void {
    const f = this.followers.get(id);
    if (f === undefined) return;
    f.restartFor = undefined;
    f.child.kill('SIGTERM');
  }

  /** ReopenContainerLog: kubelet rotated the file; later lines go to a new file at the same path. */
  reopen(id: string): boolean {
    const f = this.followers.get(id);
    if (f === undefined) return false;
    const old = f.fd;
    f.fd = fs.openSync(f.logPath, 'a', 0o640);
    fs.closeSync(old);
    return true;
  }

  stopAll(): void {
    for (const f of this.followers.values()) {
      f.restartFor = undefined;
      f.child.kill('SIGTERM');
    }
  }
}
