// Container logs in the CRI format kubelet reads (`<RFC3339Nano> <stream> <P|F> <line>`), copied from the
// pod's journal by one `journalctl -o json` per container. The cursor of the last copied entry is kept in the
// pod directory, so a restarted endpoint resumes where it stopped instead of duplicating or losing lines.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { journalDir, journalRoot, machineId } from '../../../common/pod-layout.js';
import type { CriContainer } from './cri-pods.js';

/** One journal entry as a CRI log line; journald marks lines it split at LineMax (`_LINE_BREAK=line-max`). */
export function criLogLine(entry: Record<string, unknown>): string | undefined {
  const raw = entry['MESSAGE'];
  let msg: string;
  if (typeof raw === 'string') msg = raw;
  else if (Array.isArray(raw) && raw.every((b) => typeof b === 'number')) msg = Buffer.from(raw as number[]).toString('utf8');
  else return undefined;
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

interface Follower { child: ChildProcess; out: fs.WriteStream; logPath: string; reopen: () => void }

export class ContainerLogs {
  private readonly followers = new Map<string, Follower>();

  constructor(private readonly debug: (line: string) => void) {}

  private async journal(c: CriContainer): Promise<string> {
    const dir = journalDir(c.sandbox.snap.dir, machineId(c.sandbox.snap.uuid));
    return fsp.access(dir).then(() => dir, () => journalRoot(c.sandbox.snap.dir));
  }

  /** Starts copying (following while the container may still write); a second start is a no-op. */
  async start(c: CriContainer, follow: boolean): Promise<void> {
    if (c.record.logPath === '' || this.followers.has(c.record.id)) return;
    await fsp.mkdir(path.dirname(c.record.logPath), { recursive: true });
    await fsp.mkdir(path.dirname(cursorFile(c)), { recursive: true, mode: 0o700 });
    const cursor = (await fsp.readFile(cursorFile(c), 'utf8').catch(() => '')).trim();
    const args = ['-D', await this.journal(c), '--no-pager', '-o', 'json', `SYSLOG_IDENTIFIER=${c.app}`];
    if (follow) args.push('-f', '-n', 'all');
    if (cursor !== '') args.push(`--after-cursor=${cursor}`);
    const child = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const f: Follower = {
      child,
      logPath: c.record.logPath,
      out: fs.createWriteStream(c.record.logPath, { flags: 'a', mode: 0o640 }),
      reopen: () => {
        f.out.end();
        f.out = fs.createWriteStream(f.logPath, { flags: 'a', mode: 0o640 });
      },
    };
    this.followers.set(c.record.id, f);
    this.debug(`logs of ${c.app} (${c.record.id.slice(0, 12)}) -> ${c.record.logPath}${cursor ? ' (resuming)' : ''}`);
    let lastCursor = '';
    let saving = false;
    const saveCursor = (): void => {
      if (saving || lastCursor === '') return;
      saving = true;
      const tmp = `${cursorFile(c)}.tmp`;
      const value = lastCursor;
      fsp.writeFile(tmp, value).then(() => fsp.rename(tmp, cursorFile(c))).catch(() => undefined).finally(() => { saving = false; });
    };
    const timer = setInterval(saveCursor, 500);
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (l) => {
      let entry: unknown;
      try {
        entry = JSON.parse(l);
      } catch {
        return;
      }
      if (typeof entry !== 'object' || entry === null) return;
      const e = entry as Record<string, unknown>;
      const line = criLogLine(e);
      if (line !== undefined) f.out.write(line);
      if (typeof e['__CURSOR'] === 'string') lastCursor = e['__CURSOR'];
    });
    child.on('close', () => {
      clearInterval(timer);
      saveCursor();
      f.out.end();
      if (this.followers.get(c.record.id) === f) this.followers.delete(c.record.id);
    });
  }

  stop(id: string): void {
    this.followers.get(id)?.child.kill('SIGTERM');
  }

  /** ReopenContainerLog: kubelet rotated the file; later lines go to a new file at the same path. */
  reopen(id: string): boolean {
    const f = this.followers.get(id);
    if (f === undefined) return false;
    f.reopen();
    return true;
  }

  stopAll(): void {
    for (const f of this.followers.values()) f.child.kill('SIGTERM');
  }
}
