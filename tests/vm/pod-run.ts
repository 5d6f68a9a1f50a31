// Starting and watching a real `rkt run` inside the test VM: the rkt CLI from the read-only
// project tree, a private --dir on tmpfs, and the polling the machined checks need.
import { execa, type ResultPromise } from 'execa';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { rktBin, sh, waitFor, type CmdResult } from './vm-env.js';

export interface PodWork {
  work: string;
  dataDir: string;
  marker: string;
  uuidFile: string;
  /** Processes to stop in cleanup() if a failed test leaves them running. */
  track(bg: Background): Background;
  cleanup(): Promise<void>;
}

/** A temp work dir and a private rkt --dir (on the VM's tmpfs /var/lib/rkt). */
export async function podWork(prefix: string): Promise<PodWork> {
  const work = await mkdtemp(`/tmp/${prefix}-`);
  const dataDir = join('/var/lib/rkt', basename(work));
  await mkdir(dataDir, { recursive: true });
  const marker = `vm-proof-${randomBytes(4).toString('hex')}`;
  const uuidFile = join(work, 'uuid');
  const tracked: Background[] = [];
  return {
    work,
    dataDir,
    marker,
    uuidFile,
    track(bg) {
      tracked.push(bg);
      return bg;
    },
    async cleanup() {
      // A failed test may leave its pod running, and a live child keeps this test file's
      // process (and so the whole VM run) alive: stop it, then kill what is left.
      const uuid = (await readFile(uuidFile, 'utf8').catch(() => '')).trim();
      for (const bg of tracked.filter((b) => !b.ended())) {
        if (uuid) await sh(process.execPath, [rktBin, `--dir=${dataDir}`, 'stop', '--force', uuid], { timeoutMs: 60_000 });
        if (!(await waitFor(async () => (bg.ended() ? true : undefined), 30_000))) bg.proc.kill('SIGKILL');
        await bg.proc;
      }
      await sh(process.execPath, [rktBin, `--dir=${dataDir}`, 'gc', '--grace-period=0s'], { timeoutMs: 120_000 });
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** A running pod's directory in the private --dir. */
export function podDir(w: PodWork, uuid: string): string {
  return join(w.dataDir, 'pods', 'run', uuid);
}

/** The rkt argv (after `node`) for a pod running one app image. */
export function rktRunArgs(w: PodWork, flavor: 'nspawn' | 'kvm', aci: string): string[] {
  return [rktBin, `--dir=${w.dataDir}`, '--insecure-options=image', 'run', `--stage1-image=${flavor}`,
    // a VM pod cannot share the host's network stack (the kvm stage1 refuses --net=host)
    `--uuid-file-save=${w.uuidFile}`, flavor === 'kvm' ? '--net=none' : '--net=host', aci];
}

/** rkt with the pod's --dir, to completion. */
export function rkt(w: PodWork, args: string[], timeoutMs = 120_000): Promise<CmdResult> {
  return sh(process.execPath, [rktBin, `--dir=${w.dataDir}`, ...args], { timeoutMs });
}

/** The environment of a user's shell: none of this test service's systemd variables, so rkt
 * does not believe it runs as a systemd service (that is what --keep-unit is for). */
export function shellEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || ['INVOCATION_ID', 'JOURNAL_STREAM', 'NOTIFY_SOCKET', 'SYSTEMD_EXEC_PID'].includes(k)) continue;
    env[k] = v;
  }
  return env;
}

export type Running = ResultPromise<{ reject: false; all: true; env: Record<string, string>; extendEnv: false; stdin: 'ignore' }>;

/** A background process whose combined output can be read while it runs. */
export interface Background {
  proc: Running;
  output(): string;
  ended(): boolean;
}

/** Starts `command args` in the background (the pod's foreground rkt run). */
export function startBackground(command: string, args: string[]): Background {
  const proc: Running = execa(command, args, { reject: false, all: true, env: shellEnv(), extendEnv: false, stdin: 'ignore' });
  let out = '';
  let ended = false;
  proc.all?.on('data', (b: Buffer) => { out += b.toString(); });
  void proc.then(() => { ended = true; });
  return { proc, output: () => out, ended: () => ended };
}

/** Waits for --uuid-file-save to be written; fails early when the rkt process already ended. */
export async function waitForUuid(w: PodWork, bg: Background, timeoutMs: number): Promise<string> {
  const uuid = await waitFor(async () => {
    const text = await readFile(w.uuidFile, 'utf8').catch(() => '');
    if (/^[0-9a-f-]{36}$/.test(text.trim())) return text.trim();
    return bg.ended() ? '' : undefined;
  }, timeoutMs);
  if (!uuid) {
    const how = bg.ended() ? `it exited ${String(bg.proc.exitCode)}` : `not within ${timeoutMs / 1000}s`;
    throw new Error(`rkt run never wrote ${w.uuidFile} (${how}); its output:\n${bg.output()}`);
  }
  return uuid;
}

/** Polls `machinectl list` until the machine is there (or gone, with want=false); gives up early
 * (undefined) when `whileRunning` is given and that process has ended. */
export async function waitForMachine(name: string, want: boolean, timeoutMs: number, whileRunning?: Background): Promise<CmdResult | undefined> {
  return waitFor(async () => {
    const l = await sh('machinectl', ['list', '--no-legend', '--no-pager']);
    const listed = l.stdout.split('\n').some((line) => line.split(/\s+/)[0] === name);
    if (listed === want) return l;
    return whileRunning?.ended() ? null : undefined;
  }, timeoutMs, 1000).then((r) => r ?? undefined);
}

/** Polls a command until its stdout contains the text. */
export async function waitForOutput(file: string, args: string[], text: string, timeoutMs: number): Promise<CmdResult | undefined> {
  return waitFor(async () => {
    const r = await sh(file, args);
    return r.stdout.includes(text) ? r : undefined;
  }, timeoutMs, 1000);
}
