// Reads what list/status show about a pod: manifest, times, pid, app exit codes, networks.
// Everything here is read without locks, and a file vanishing mid-read (the pod moved) is not an error.
import fs from 'node:fs/promises';
import { errnoCode, RktError } from '../../common/errors.js';
import { podWrittenMtime, readPodWrittenFile } from '../../common/pod-written-file.js';
import { parsePodManifest, type PodManifest } from '../../common/appc/index.js';
import {
  appStartedPath, appStatusPath, appStatusUpperPath, netInfoPath, pidPath, podCreatedPath, podManifestPath, ppidPath, supervisorStatusPath,
} from '../../common/pod-layout.js';
import { isMutablePod } from './mutable.js';
import { enteredAt, probePod, type PodSnapshot, type PodStateName } from './state.js';

export interface NetInfo {
  netName: string;
  ifName?: string;
  ip?: string;
}

export interface AppInfo {
  name: string;
  imageId: string;
  /** Exit code from `rkt/status/<app>`, when the app has ended. */
  exitCode?: number;
  state: 'created' | 'running' | 'exited' | 'unknown';
}

export interface PodInfo extends PodSnapshot {
  manifest?: PodManifest;
  created?: Date;
  started?: Date;
  pid?: number;
  /** When gc marked the pod: it entered exited-garbage or garbage. */
  gcMarked?: Date;
  apps: AppInfo[];
  networks: NetInfo[];
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const c = errnoCode(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function mtime(file: string): Promise<Date | undefined> {
  try {
    return (await fs.stat(file)).mtime;
  } catch (err) {
    const c = errnoCode(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') return undefined;
    throw err;
  }
}

export async function readPodManifestFile(podDir: string): Promise<PodManifest | undefined> {
  const text = await readText(podManifestPath(podDir));
  if (text === undefined) return undefined;
  return parsePodManifest(text);
}

/** The single child of `ppid` (rkt's rule when a stage1 writes ppid). */
async function childOf(ppid: number): Promise<number | undefined> {
  const text = await readText(`/proc/${ppid}/task/${ppid}/children`);
  if (text === undefined) return undefined;
  const kids = text.trim().split(/\s+/).filter((s) => s !== '');
  if (kids.length !== 1) return undefined;
  return Number(kids[0]);
}

function parsePid(text: string | undefined, file: string): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '') return undefined; // being written
  if (!/^[1-9][0-9]*$/.test(t)) throw new RktError('POD_INVALID', `invalid pid file ${file}: "${t.slice(0, 20)}"`);
  return Number(t);
}

/** The process to enter: `pid`, or the single child of `ppid`. Undefined when neither is there (yet). */
export async function readPodPid(podDir: string): Promise<number | undefined> {
  const pid = parsePid(await readText(pidPath(podDir)), pidPath(podDir));
  if (pid !== undefined) return pid;
  const ppid = parsePid(await readText(ppidPath(podDir)), ppidPath(podDir));
  if (ppid === undefined) return undefined;
  return childOf(ppid);
}

/** When the stage1 wrote pid/ppid: the pod's start time. */
/** Waits for the stage1 to write pid/ppid (what enter and attach join), as long as the pod keeps running. */
export async function waitForPodPid(dataDir: string, uuid: string): Promise<number> {
  for (;;) {
    const snap = await probePod(dataDir, uuid);
    if (!snap || snap.state !== 'running') throw new RktError('POD_STATE', `pod ${uuid} is not running anymore`);
    const pid = await readPodPid(snap.dir);
    if (pid !== undefined) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function readStarted(podDir: string): Promise<Date | undefined> {
  return (await mtime(pidPath(podDir))) ?? (await mtime(ppidPath(podDir)));
}

/** The pod writes the status files: read as readPodWrittenFile does (a planted symlink or FIFO reads as none). */
export async function readAppExitCode(podDir: string, app: string): Promise<number | undefined> {
  const text = (await readPodWrittenFile(podDir, appStatusPath(podDir, app)))?.text
    ?? (await readPodWrittenFile(podDir, appStatusUpperPath(podDir, app)))?.text;
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^-?[0-9]+$/.test(t)) return undefined;
  return Number(t);
}

export async function readNetInfo(podDir: string): Promise<NetInfo[]> {
  const text = await readText(netInfoPath(podDir));
  if (text === undefined || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: NetInfo[] = [];
  for (const e of parsed) {
    if (typeof e !== 'object' || e === null) continue;
    const r = e as Record<string, unknown>;
    const netName = typeof r['netName'] === 'string' ? r['netName'] : undefined;
    if (netName === undefined) continue;
    const n: NetInfo = { netName };
    if (typeof r['ifName'] === 'string') n.ifName = r['ifName'];
    if (typeof r['ip'] === 'string') n.ip = r['ip'];
    out.push(n);
  }
  return out;
}

export async function isSupervisorReady(podDir: string): Promise<boolean> {
  try {
    return (await fs.readlink(supervisorStatusPath(podDir))) === 'ready';
  } catch {
    return false;
  }
}

export type AppStateName = AppInfo['state'];

/**
 * An app with an exit code has exited. Otherwise it runs with its pod, except in a mutable pod, where an
 * app runs only once `rkt app start` wrote its started file (and is "created" until then).
 */
export function appStateOf(pod: PodStateName, mutable: boolean, started: boolean, exitCode: number | undefined): AppStateName {
  if (exitCode !== undefined) return 'exited';
  if (pod === 'running') return mutable && !started ? 'created' : 'running';
  if (pod === 'prepared' || pod === 'preparing' || pod === 'embryo') return 'created';
  if (pod === 'exited') return mutable && !started ? 'created' : 'exited';
  return 'unknown';
}

export async function readPodInfo(snap: PodSnapshot, opts: { pid?: boolean } = {}): Promise<PodInfo> {
  const dir = snap.dir;
  let manifest: PodManifest | undefined;
  try {
    manifest = await readPodManifestFile(dir);
  } catch {
    manifest = undefined; // a corrupt or half-written manifest shows as "-" in list
  }
  const info: PodInfo = { ...snap, apps: [], networks: [] };
  if (manifest) info.manifest = manifest;
  info.created = (await mtime(podCreatedPath(dir))) ?? (await mtime(podManifestPath(dir)));
  if (info.created === undefined) delete info.created;
  const started = await readStarted(dir);
  if (started) info.started = started;
  if (opts.pid !== false && snap.state === 'running') {
    const pid = await readPodPid(dir).catch(() => undefined);
    if (pid !== undefined) info.pid = pid;
  }
  if (snap.stateDir === 'exited-garbage' || snap.stateDir === 'garbage') {
    const marked = await enteredAt(dir);
    if (marked !== undefined) info.gcMarked = new Date(marked);
  }
  const ranOrRuns = snap.state === 'running' || snap.state === 'exited' || snap.state === 'exited garbage' || snap.state === 'exited deleting';
  const mutable = manifest !== undefined && isMutablePod(manifest);
  for (const app of manifest?.apps ?? []) {
    const exitCode = ranOrRuns ? await readAppExitCode(dir, app.name) : undefined;
    const started = mutable ? await podWrittenMtime(dir, appStartedPath(dir, app.name)) !== undefined : false;
    const a: AppInfo = { name: app.name, imageId: app.image.id, state: appStateOf(snap.state, mutable, started, exitCode) };
    if (exitCode !== undefined) a.exitCode = exitCode;
    info.apps.push(a);
  }
  if (ranOrRuns) info.networks = await readNetInfo(dir);
  return info;
}
