// What `rkt app list/status` show about one app, read from files the pod's stage1 writes (no call into
// the pod): rkt/status/<app> (exit code of the last run), rkt/started/<app> (mtime = last start, content =
// starts), rkt/history/<app> (one line per ended run), each read as a file the pod may have tampered with.
// Boot-time apps of ordinary pods have no started file: they started with the pod.
import fs from 'node:fs/promises';
import type { PodManifest } from '../../common/appc/index.js';
import { errnoCode } from '../../common/errors.js';
import { HISTORY_FILE_MAX, readPodWrittenFile } from '../../common/pod-written-file.js';
import { appHistoryPath, appInfoManifestPath, appStartedPath } from '../../common/pod-layout.js';
import { appStateOf, readAppExitCode, readStarted, type AppStateName } from '../pod/info.js';
import type { PodStateName } from '../pod/state.js';
import { isMutablePod } from '../pod/mutable.js';

export type { AppStateName };

export interface AppRun {
  startedAt: Date;
  finishedAt: Date;
  exitCode: number;
  /** systemd's invocation id of that run: its journal entries carry it as _SYSTEMD_INVOCATION_ID. */
  invocationId?: string;
}

export interface AppStatus {
  name: string;
  imageId: string;
  state: AppStateName;
  createdAt?: Date;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  /** How often the app was started with `rkt app start` (0 for apps that started with the pod). */
  starts: number;
  /** Earlier and current ended runs, oldest first. */
  runs: AppRun[];
}

async function statOrUndefined(file: string): Promise<{ mtime: Date; text: string } | undefined> {
  try {
    const [st, text] = await Promise.all([fs.stat(file), fs.readFile(file, 'utf8')]);
    return { mtime: st.mtime, text };
  } catch (err) {
    const c = errnoCode(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** History lines `<started s> <finished s> <code> [<invocation id>]`; malformed lines are skipped. */
export function parseHistory(text: string): AppRun[] {
  const out: AppRun[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9]+) ([0-9]+) (-?[0-9]+)(?: ([0-9a-f]{32}))?\s*$/.exec(line);
    if (!m) continue;
    const run: AppRun = { startedAt: new Date(Number(m[1]) * 1000), finishedAt: new Date(Number(m[2]) * 1000), exitCode: Number(m[3]) };
    if (m[4] !== undefined) run.invocationId = m[4];
    out.push(run);
  }
  return out;
}

export async function readAppStatus(podDir: string, podState: PodStateName, manifest: PodManifest, app: string): Promise<AppStatus> {
  const entry = manifest.apps.find((a) => a.name === app);
  const mutable = isMutablePod(manifest);
  const [started, exitCode, history, info, podStarted] = await Promise.all([
    readPodWrittenFile(podDir, appStartedPath(podDir, app)),
    readAppExitCode(podDir, app),
    readPodWrittenFile(podDir, appHistoryPath(podDir, app), HISTORY_FILE_MAX),
    statOrUndefined(appInfoManifestPath(podDir, app)),
    readStarted(podDir),
  ]);
  const out: AppStatus = {
    name: app,
    imageId: entry?.image.id ?? '',
    state: appStateOf(podState, mutable, started !== undefined, exitCode),
    starts: started !== undefined && /^[0-9]+\s*$/.test(started.text) ? Number(started.text.trim()) : 0,
    runs: history ? parseHistory(history.text) : [],
  };
  if (info) out.createdAt = info.mtime;
  const startedAt = started?.mtime ?? (mutable ? undefined : podStarted);
  if (startedAt !== undefined && out.state !== 'created') out.startedAt = startedAt;
  if (exitCode !== undefined) {
    out.exitCode = exitCode;
    const last = out.runs[out.runs.length - 1];
    if (last) out.finishedAt = last.finishedAt;
  }
  return out;
}
