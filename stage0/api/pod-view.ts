// A pod as the v1alpha Pod message, from what stage0/pod reads about it (list.ts, info.ts), plus the two
// things only the API shows: the manifest's bytes and the cgroup of the running pod's process.
import fs from 'node:fs/promises';
import { labelValue } from '../../common/appc/index.js';
import { errnoCode } from '../../common/errors.js';
import { podManifestPath } from '../../common/pod-layout.js';
import type { AppInfo, PodInfo } from '../pod/info.js';
import type { PodStateName } from '../pod/state.js';
import { keyValues, nsString, recordKeyValues, type ApiApp, type ApiPod, type AppState, type PodState } from './messages.js';

const POD_STATE: Record<PodStateName, PodState> = {
  embryo: 'POD_STATE_EMBRYO',
  preparing: 'POD_STATE_PREPARING',
  'aborted prepare': 'POD_STATE_ABORTED_PREPARE',
  prepared: 'POD_STATE_PREPARED',
  running: 'POD_STATE_RUNNING',
  exited: 'POD_STATE_EXITED',
  // gc's two steps, marked and being removed, are rkt's GARBAGE and DELETING whether the pod ran or not
  'exited garbage': 'POD_STATE_GARBAGE',
  garbage: 'POD_STATE_GARBAGE',
  'exited deleting': 'POD_STATE_DELETING',
  deleting: 'POD_STATE_DELETING',
};

export const podStateOf = (s: PodStateName): PodState => POD_STATE[s];

const APP_STATE: Record<AppInfo['state'], AppState> = {
  created: 'APP_STATE_UNDEFINED',
  running: 'APP_STATE_RUNNING',
  exited: 'APP_STATE_EXITED',
  unknown: 'APP_STATE_UNDEFINED',
};

export interface PodExtras {
  /** The pod manifest's bytes (InspectPod, ListPods with detail). */
  manifest?: Buffer;
  cgroup?: string;
}

function apps(p: PodInfo): ApiApp[] {
  return (p.manifest?.apps ?? []).map((ra) => {
    const info = p.apps.find((a) => a.name === ra.name);
    return {
      name: ra.name,
      image: {
        base_format: null, id: ra.image.id, name: ra.image.name ?? '', version: labelValue(ra.image.labels, 'version') ?? 'latest',
        import_timestamp: '0', manifest: Buffer.alloc(0), size: '0', annotations: [], labels: [],
      },
      state: info ? APP_STATE[info.state] : 'APP_STATE_UNDEFINED',
      exit_code: info?.exitCode ?? -1,
      annotations: keyValues(ra.annotations),
      user_annotations: recordKeyValues(ra.app?.userAnnotations),
      user_labels: recordKeyValues(ra.app?.userLabels),
    };
  });
}

export function podMessage(p: PodInfo, extras: PodExtras = {}): ApiPod {
  return {
    id: p.uuid,
    pid: p.pid ?? -1,
    state: POD_STATE[p.state],
    apps: apps(p),
    networks: p.networks.map((n) => {
      const ip = n.ip ?? '';
      return { name: n.netName, ipv4: ip.includes(':') ? '' : ip, ipv6: ip.includes(':') ? ip : '' };
    }),
    manifest: extras.manifest ?? Buffer.alloc(0),
    annotations: keyValues(p.manifest?.annotations ?? []),
    cgroup: extras.cgroup ?? '',
    created_at: nsString(p.created),
    started_at: nsString(p.started),
    gc_marked_at: nsString(p.gcMarked),
    user_annotations: recordKeyValues(p.manifest?.userAnnotations),
    user_labels: recordKeyValues(p.manifest?.userLabels),
  };
}

/**
 * The cgroup of a process from /proc/PID/cgroup: the unified hierarchy's, else systemd's named v1 one. A
 * pod whose init is systemd keeps it in init.scope below the pod's own cgroup, so that leaf is dropped.
 */
export function cgroupOf(procCgroup: string): string | undefined {
  const lines = procCgroup.split('\n');
  const line = lines.find((l) => l.startsWith('0::')) ?? lines.find((l) => /^[0-9]+:name=systemd:/.test(l));
  if (line === undefined) return undefined;
  const p = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).trim();
  if (p === '') return undefined;
  return p.endsWith('/init.scope') ? p.slice(0, -'/init.scope'.length) || '/' : p;
}

/** Best effort: a process that just ended has no cgroup to show. */
export async function readProcessCgroup(pid: number): Promise<string | undefined> {
  try {
    return cgroupOf(await fs.readFile(`/proc/${pid}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The manifest's bytes; an empty buffer when the pod has none (yet, or any more). */
export async function readPodManifestBytes(podDir: string): Promise<Buffer> {
  try {
    return await fs.readFile(podManifestPath(podDir));
  } catch (err) {
    const c = errnoCode(err);
    if (c === 'ENOENT' || c === 'ENOTDIR') return Buffer.alloc(0);
    throw err;
  }
}

/** The Pod message with what `detail` asks for read from the pod's directory. */
export async function podMessageFor(p: PodInfo, detail: boolean): Promise<ApiPod> {
  const extras: PodExtras = {};
  if (detail) extras.manifest = await readPodManifestBytes(p.dir);
  if (p.state === 'running' && p.pid !== undefined) {
    const cg = await readProcessCgroup(p.pid);
    if (cg !== undefined) extras.cgroup = cg;
  }
  return podMessage(p, extras);
}
