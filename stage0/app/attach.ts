// `rkt attach`: an app's output as it comes, from the pod's journal (the stage1s keep no other copy), and,
// for an app started with --stdin=stream, rkt's stdin fed to the app through the stage1's attach
// entrypoint. Attaching ends when the app exits (rkt then exits with the app's code) or on SIGINT/SIGTERM.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { PodManifest } from '../../common/appc/index.js';
import { annotationValue } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { APP_STDIN_ANNOTATION, buildAttachArgs, reaperUnitName } from '../../common/stage1-contract.js';
import type { Output } from '../context/output.js';
import { waitForPodPid } from '../pod/info.js';
import { entryMessage, podJournalDir, reaperEntry, readJournalJson, type JournalEntry } from '../pod/journal.js';
import { probePod, type PodSnapshot } from '../pod/state.js';
import { spawnAttachEntrypoint } from '../stage1/invoke.js';
import { entrypointPath, readPodStage1 } from '../stage1/pod-stage1.js';
import { readAppStatus } from './app-state.js';

export type AttachStream = 'stdin' | 'stdout' | 'stderr';
export type AttachMode = { kind: 'list' } | { kind: 'streams'; streams: ReadonlySet<AttachStream> } | { kind: 'auto' };

const execFileP = promisify(execFile);
const STREAMS: readonly AttachStream[] = ['stdin', 'stdout', 'stderr'];
const POLL_MS = 250;
/**
 * After the app exited, its output may still be on its way to the journal (a kvm guest's journal reaches the
 * host when journald syncs it): attach reads until the reaper's line that ends the run, then a little
 * longer for lines journald took in after it; without that line (a stage1 from before it), until this much
 * quiet.
 */
const DRAIN_AFTER_END_MS = 300;
/** While waiting for that line, the follower is restarted this often (see follow()). */
const REFOLLOW_MS = 2000;
const DRAIN_QUIET_MS = 2000;
const DRAIN_MAX_MS = 30_000;

export function parseAttachMode(text: string): AttachMode {
  if (text === 'auto') return { kind: 'auto' };
  if (text === 'list') return { kind: 'list' };
  if (/^tty(-in|-out)?$/.test(text)) {
    throw new RktError('USAGE', `--mode=${text}: apps have no terminal to attach to`, { hint: 'use --mode=auto or a list of stdin,stdout,stderr' });
  }
  const streams = new Set<AttachStream>();
  for (const part of text.split(',')) {
    const s = STREAMS.find((x) => x === part);
    if (s === undefined) throw new RktError('USAGE', `invalid --mode "${text}": "${part}" is not one of auto, list, stdin, stdout, stderr`);
    streams.add(s);
  }
  return { kind: 'streams', streams };
}

/** The streams an app offers: its output always, its stdin when it was started with --stdin=stream. */
export function attachableStreams(manifest: PodManifest, app: string): AttachStream[] {
  const entry = manifest.apps.find((a) => a.name === app);
  const stdin = entry !== undefined && annotationValue(entry.annotations, APP_STDIN_ANNOTATION) === 'stream';
  return stdin ? ['stdin', 'stdout', 'stderr'] : ['stdout', 'stderr'];
}

/** Which streams to attach for `mode`; a stream the app does not offer is refused. */
export function streamsFor(mode: AttachMode, offered: readonly AttachStream[], app: string): Set<AttachStream> {
  if (mode.kind !== 'streams') return new Set(offered);
  for (const s of mode.streams) {
    if (!offered.includes(s)) {
      throw new RktError('USAGE', `app "${app}" has no attachable ${s}`, { hint: 'start the app with --stdin=stream to attach to its stdin', exitCode: 254 });
    }
  }
  return new Set(mode.streams);
}

/** journald keeps no stream name: what the app logged at err priority or worse is its stderr (as for CRI logs). */
function streamOf(entry: Record<string, unknown>): 'stdout' | 'stderr' {
  const prio = typeof entry['PRIORITY'] === 'string' ? Number(entry['PRIORITY']) : 6;
  return prio <= 3 ? 'stderr' : 'stdout';
}

function messageOf(entry: JournalEntry): Buffer | undefined {
  const m = entryMessage(entry);
  return m === undefined ? undefined : Buffer.concat([m, Buffer.from('\n')]);
}

export interface AttachRequest {
  dataDir: string;
  snap: PodSnapshot;
  manifest: PodManifest;
  app: string;
  streams: ReadonlySet<AttachStream>;
  out: Output;
}

/** The cursor of the app's newest journal entry, or undefined when it has none. */
async function lastCursor(journal: string, app: string): Promise<string | undefined> {
  const r = await execFileP('journalctl', ['-D', journal, '--no-pager', '-o', 'json', '-n', '1', `SYSLOG_IDENTIFIER=${app}`], { maxBuffer: 16 << 20 }).catch(() => undefined);
  const line = r?.stdout.trim().split('\n').pop() ?? '';
  if (line === '') return undefined;
  try {
    const e: unknown = JSON.parse(line);
    const c = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)['__CURSOR'] : undefined;
    return typeof c === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Attaches until the app exits (resolves to its exit code) or rkt is told to stop (resolves to 0). */
export async function attachToApp(r: AttachRequest): Promise<number> {
  const { snap, app, out } = r;
  const status = await readAppStatus(snap.dir, snap.state, r.manifest, app);
  if (status.state !== 'running') {
    throw new RktError('POD_STATE', `cannot attach to app "${app}" of pod ${snap.uuid}: it is ${status.state}, not running`, {
      hint: status.state === 'created' ? `start it first: rkt app start --app=${app} ${snap.uuid}` : 'see its state with: rkt app status',
    });
  }
  const journal = podJournalDir(snap.dir, snap.uuid);
  const wantOutput = r.streams.has('stdout') || r.streams.has('stderr');
  if (wantOutput && journal === undefined) throw new RktError('POD_STATE', `pod ${snap.uuid} has no journal yet`, { hint: 'try again once the pod booted' });

  let lastOutput = Date.now();
  const endedRuns = new Set<string>();
  // Everything after the app's last entry so far: `-n 0 -f` would miss what the app writes while journalctl
  // starts up, which is just when the first input arrives.
  let cursor = wantOutput && journal !== undefined ? await lastCursor(journal, app) : undefined;
  const onEntry = (entry: Record<string, unknown>): void => {
    if (typeof entry['__CURSOR'] === 'string') cursor = entry['__CURSOR'];
    const ended = reaperEntry(entry, app);
    if (ended !== null) {
      if (ended !== undefined) endedRuns.add(ended);
      return;
    }
    const stream = streamOf(entry);
    const msg = messageOf(entry);
    if (msg === undefined || !r.streams.has(stream)) return;
    lastOutput = Date.now();
    (stream === 'stderr' ? process.stderr : process.stdout).write(msg);
  };
  // journalctl -f wakes on inotify, and a kvm guest's journal written through 9p does not always raise it:
  // the drain below restarts the follower from the last cursor, which reads the files afresh.
  const follow = (): ChildProcess => {
    const child = spawn('journalctl', ['-D', journal ?? '', '--no-pager', '-o', 'json', '-f', ...(cursor !== undefined ? [`--after-cursor=${cursor}`] : ['-n', 'all']), `SYSLOG_IDENTIFIER=${app}`, '+', `_SYSTEMD_UNIT=${reaperUnitName(app)}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    readJournalJson(child, (entries) => { for (const e of entries) onEntry(e); });
    return child;
  };
  let follower = wantOutput && journal !== undefined ? follow() : undefined;
  if (follower) out.debug(`attach: output of ${app} from journalctl -D ${journal ?? ''} -f`);
  const refollow = async (): Promise<void> => {
    if (follower === undefined) return;
    const old = follower;
    const closed = new Promise<void>((res) => { if (old.exitCode !== null || old.signalCode !== null) res(); else old.once('close', () => res()); });
    old.kill('SIGTERM');
    await closed;
    follower = follow();
  };

  let stopped = false;
  let writerCode = 0;
  let writer: ReturnType<typeof spawnAttachEntrypoint> | undefined;
  if (r.streams.has('stdin')) {
    const s1 = await readPodStage1(snap.dir);
    const ep = entrypointPath(snap.dir, s1, 'attach');
    const pid = await waitForPodPid(r.dataDir, snap.uuid);
    writer = spawnAttachEntrypoint(snap.dir, ep, buildAttachArgs({ pid, appName: app }), out);
    writer.on('exit', (code) => {
      out.debug(`attach: stdin of ${app} closed (writer exited ${code ?? 'by a signal'})`);
      // Attached to stdin alone, there is nothing left to do once it ended.
      if (!wantOutput) {
        stopped = true;
        writerCode = code ?? 1;
      }
    });
  }

  const stop = (): void => { stopped = true; };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let exitCode: number | undefined;
    let endedRun: string | undefined;
    while (!stopped) {
      await new Promise((res) => setTimeout(res, POLL_MS));
      const now = await probePod(r.dataDir, snap.uuid);
      if (!now || now.state !== 'running') {
        out.debug(`attach: pod ${snap.uuid} is ${now?.state ?? 'gone'}`);
        // A pod that is down writes no more journal (its reaper's line may never have made it): what is
        // there is read until quiet instead.
        exitCode = (await readAppStatus(snap.dir, now?.state ?? 'exited', r.manifest, app)).exitCode;
        break;
      }
      const st = await readAppStatus(now.dir, now.state, r.manifest, app);
      if (st.state !== 'running') {
        exitCode = st.exitCode;
        endedRun = st.runs[st.runs.length - 1]?.invocationId;
        out.debug(`attach: app ${app} is ${st.state}${exitCode !== undefined ? ` (exit code ${exitCode})` : ''}`);
        break;
      }
    }
    if (!stopped && follower) await drainOutput(endedRun, endedRuns, () => lastOutput, refollow, out, app);
    return stopped ? writerCode : exitCode ?? 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    follower?.kill('SIGTERM');
    if (writer && writer.exitCode === null) writer.kill('SIGTERM');
  }
}

/** Waits for the app's output that is still on its way to the journal after its run `endedRun` ended. */
async function drainOutput(
  endedRun: string | undefined, endedRuns: ReadonlySet<string>, lastOutput: () => number, refollow: () => Promise<void>, out: Output, app: string,
): Promise<void> {
  const start = Date.now();
  const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
  if (endedRun !== undefined) {
    let refollowed = Date.now();
    while (!endedRuns.has(endedRun)) {
      if (Date.now() - start >= DRAIN_MAX_MS) {
        out.debug(`attach: the journal has no end line for run ${endedRun} of ${app} after ${DRAIN_MAX_MS} ms; output may be cut short`);
        return;
      }
      if (Date.now() - refollowed >= REFOLLOW_MS) {
        await refollow();
        refollowed = Date.now();
      }
      await sleep(100);
    }
    out.debug(`attach: the journal holds the end of run ${endedRun} of ${app}`);
    await sleep(DRAIN_AFTER_END_MS);
    return;
  }
  while (Date.now() - Math.max(lastOutput(), start) < DRAIN_QUIET_MS && Date.now() - start < DRAIN_MAX_MS) await sleep(100);
}
