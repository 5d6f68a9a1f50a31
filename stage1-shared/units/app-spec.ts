// Turns a pod manifest entry plus its image manifest into everything a stage1 needs to run the app as a
// systemd unit: resolved exec, identity, environment, sandbox and mounts. Flavor-neutral (nspawn and kvm).
import path from 'node:path';
import fs from 'node:fs/promises';
import {
  annotationValue, findIsolator, parseResourceQuantity, type App, type ImageManifest, type PodManifest, type RuntimeApp, type Volume,
} from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { APP_STDIN_ANNOTATION, APP_STDIN_ONCE_ANNOTATION } from '../../common/stage1-contract.js';
import { appCapabilities } from './capabilities.js';
import { ensureDirInRoot, ensureFileInRoot, resolveInRoot } from '../../common/in-root.js';
import { appSeccompFilter, type SeccompFilter } from './seccomp.js';
import { appStopSignal } from './stop-signal.js';
import type { AppStdin } from './stdin.js';
import { resolveAppIdentity, type AppIdentity } from './users.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A bind mount inside the app: `source` is a path in the pod (stage1) root, `target` one in the app. */
export interface AppBind {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface AppUnitSpec {
  name: string;
  /** exec[0] is absolute inside the app's rootfs. */
  exec: string[];
  identity: AppIdentity;
  workingDirectory: string;
  env: { name: string; value: string }[];
  readOnlyRootfs: boolean;
  /** undefined: unrestricted. */
  capabilities?: string[];
  seccomp?: SeccompFilter;
  noNewPrivileges: boolean;
  /** Hide/ro-protect sensitive /proc and /sys paths (off with --disable-paths). */
  restrictPaths: boolean;
  binds: AppBind[];
  interactive: boolean;
  /** Set when the app reads an attachable stdin (--stdin=stream); absent: stdin is /dev/null. */
  stdin?: AppStdin;
  /** Socket units of the app's socket-activated ports (run sets them; socket-activation.ts). */
  sockets?: string[];
  preStart: string[][];
  postStop: string[][];
  memoryMax?: number;
  /** Percent of one CPU, for CPUQuota=. */
  cpuQuotaPercent?: number;
  /** os/linux/cpu-shares: the cgroup v1 cpu.shares value (2..262144). */
  cpuShares?: number;
  oomScoreAdjust?: number;
  /** KillSignal= (a Linux signal number): an OCI image's StopSignal. */
  killSignal?: number;
}

export interface AppSpecOptions {
  pod: PodManifest;
  app: RuntimeApp;
  image: ImageManifest;
  /** Host path of the app's rootfs (to resolve users and exec). */
  appRootfs: string;
  /** Shift of the on-disk ownership (chowned --private-users trees), else 0. */
  diskShift: number;
  disableCapabilities: boolean;
  disablePaths: boolean;
  disableSeccomp: boolean;
  interactive: boolean;
  /** Files of the pod root to bind read-only onto the app's /etc entries (resolv.conf, hosts, hostname). */
  etcBinds: { target: string; source: string }[];
  /** Where a pod volume is reachable inside the pod root (the flavor puts it there). */
  volumePath(volume: string): string;
  /** The pod's metadata service URL (`http://<host>:<port>/<token>`), set as AC_METADATA_URL when given. */
  metadataUrl?: string;
}

function usage(app: string, msg: string): RktError {
  return new RktError('POD_INVALID', `app "${app}": ${msg}`);
}

/** Pod volumes plus the volumes declared inline in mounts (appVolume), by name. */
export function podVolumes(pod: PodManifest): Map<string, Volume> {
  const out = new Map<string, Volume>();
  for (const v of pod.volumes) out.set(v.name, v);
  for (const a of pod.apps) for (const m of a.mounts) if (m.appVolume) out.set(m.appVolume.name, m.appVolume);
  return out;
}

/** Finds a command name in the image along `pathVar` (as a shell in the app would); absolute names pass. */
export async function resolveExecInRoot(rootfs: string, bin: string, pathVar: string): Promise<string | undefined> {
  if (bin.startsWith('/')) return bin;
  if (bin.includes('/')) return undefined;
  for (const dir of pathVar.split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = path.posix.join(dir, bin);
    const host = await resolveInRoot(rootfs, candidate);
    if (host !== undefined && (await fs.stat(host).then((s) => s.isFile(), () => false))) return candidate;
  }
  return undefined;
}

async function resolveExec(name: string, rootfs: string, exec: string[], pathVar: string): Promise<string[]> {
  const [bin, ...args] = exec;
  if (bin === undefined || bin === '') throw usage(name, 'no command to run (the image has no exec and none was given)');
  const found = await resolveExecInRoot(rootfs, bin, pathVar);
  if (found === undefined) throw usage(name, `command "${bin}" not found in the image's PATH (${pathVar})`);
  return [found, ...args];
}

function buildEnv(name: string, app: App, identity: AppIdentity, metadataUrl: string | undefined): { name: string; value: string }[] {
  const env = new Map<string, string>();
  env.set('PATH', DEFAULT_PATH);
  if (identity.userName !== undefined) {
    env.set('USER', identity.userName);
    env.set('LOGNAME', identity.userName);
  }
  env.set('HOME', identity.home ?? '/');
  if (identity.shell !== undefined) env.set('SHELL', identity.shell);
  for (const e of app.environment) env.set(e.name, e.value);
  // The executor's own variables win over the image's (the spec says the ACE sets them).
  env.set('AC_APP_NAME', name);
  if (metadataUrl !== undefined) env.set('AC_METADATA_URL', metadataUrl);
  return [...env].map(([n, value]) => ({ name: n, value }));
}

function binds(o: AppSpecOptions, app: App): AppBind[] {
  const vols = podVolumes(o.pod);
  const out: AppBind[] = o.etcBinds.map((b) => ({ source: b.source, target: b.target, readOnly: true }));
  for (const m of o.app.mounts) {
    const vol = m.appVolume ?? vols.get(m.volume);
    if (!vol) throw usage(o.app.name, `mount of undefined volume "${m.volume}"`);
    const target = m.path.startsWith('/') ? m.path : app.mountPoints.find((mp) => mp.name === m.path)?.path;
    if (target === undefined) throw usage(o.app.name, `mount target "${m.path}" is neither absolute nor a mount point of the image`);
    if (target.includes(':')) throw usage(o.app.name, `mount target "${target}" must not contain ":"`);
    const mp = app.mountPoints.find((p) => p.path === target || p.name === m.volume);
    out.push({ source: o.volumePath(vol.name), target, readOnly: vol.readOnly === true || mp?.readOnly === true });
  }
  // An image mount point that no explicit mount fills gets the pod volume of the same name (as rkt did).
  for (const mp of app.mountPoints) {
    if (out.some((b) => b.target === mp.path) || o.app.mounts.some((m) => m.path === mp.name)) continue;
    const vol = vols.get(mp.name);
    if (!vol) continue;
    out.push({ source: o.volumePath(vol.name), target: mp.path, readOnly: vol.readOnly === true || mp.readOnly });
  }
  return out;
}

/** Whether a host volume is a single file (its mount point in the app must be a file too). */
async function isFileVolume(vol: Volume | undefined): Promise<boolean> {
  if (vol?.kind !== 'host' || vol.source === undefined) return false;
  return fs.stat(vol.source).then((st) => !st.isDirectory(), () => false);
}

/** The binds, with the volumes' mount points created in the app's rootfs (systemd needs them to exist). */
async function volumeBinds(o: AppSpecOptions, app: App): Promise<AppBind[]> {
  const all = binds(o, app);
  const vols = [...podVolumes(o.pod).values()];
  for (const b of all.slice(o.etcBinds.length)) {
    const vol = vols.find((v) => o.volumePath(v.name) === b.source);
    if (await isFileVolume(vol)) await ensureFileInRoot(o.appRootfs, b.target);
    else await ensureDirInRoot(o.appRootfs, b.target);
  }
  return all;
}

/** The app's stdin mode from its pod manifest annotations (what --stdin and --stdin-once wrote). */
function appStdin(app: RuntimeApp): AppStdin | undefined {
  const mode = annotationValue(app.annotations, APP_STDIN_ANNOTATION);
  if (mode === undefined || mode === 'null') return undefined;
  if (mode !== 'stream') throw usage(app.name, `${APP_STDIN_ANNOTATION}: "${mode}" is not supported (null or stream)`);
  return { once: annotationValue(app.annotations, APP_STDIN_ONCE_ANNOTATION) === 'true' };
}

export async function buildAppUnitSpec(o: AppSpecOptions): Promise<AppUnitSpec> {
  const name = o.app.name;
  const app = o.app.app ?? o.image.app;
  if (!app) throw usage(name, 'the image has no app section and the pod manifest gives none');
  const killSignal = appStopSignal(name, o.image);
  const isolators = [...o.pod.isolators, ...app.isolators];
  const identity = await resolveAppIdentity({
    rootfs: o.appRootfs, app: name, user: app.user, group: app.group, supplementaryGids: app.supplementaryGIDs,
    diskShift: o.diskShift,
  });
  const env = buildEnv(name, app, identity, o.metadataUrl);
  const exec = await resolveExec(name, o.appRootfs, app.exec, env.find((e) => e.name === 'PATH')?.value ?? DEFAULT_PATH);
  const spec: AppUnitSpec = {
    name, exec, identity, env,
    workingDirectory: app.workingDirectory === '' ? '/' : app.workingDirectory,
    readOnlyRootfs: o.app.readOnlyRootFS === true,
    noNewPrivileges: findIsolator(isolators, 'os/linux/no-new-privileges') !== false,
    restrictPaths: !o.disablePaths,
    binds: await volumeBinds(o, app),
    interactive: o.interactive,
    preStart: app.eventHandlers.filter((h) => h.name === 'pre-start').map((h) => h.exec),
    postStop: app.eventHandlers.filter((h) => h.name === 'post-stop').map((h) => h.exec),
  };
  const caps = appCapabilities(name, isolators, o.disableCapabilities);
  if (caps) spec.capabilities = caps;
  const seccomp = appSeccompFilter(name, isolators, o.disableSeccomp);
  if (seccomp) spec.seccomp = seccomp;
  const mem = findIsolator(isolators, 'resource/memory')?.limit;
  if (mem !== undefined) spec.memoryMax = parseResourceQuantity(mem).value;
  const cpu = findIsolator(isolators, 'resource/cpu')?.limit;
  if (cpu !== undefined) spec.cpuQuotaPercent = Math.max(1, Math.ceil(parseResourceQuantity(cpu).milli / 10));
  const shares = findIsolator(isolators, 'os/linux/cpu-shares');
  if (shares !== undefined) spec.cpuShares = shares;
  const oom = findIsolator(isolators, 'os/linux/oom-score-adj');
  if (oom !== undefined) spec.oomScoreAdjust = oom;
  if (killSignal !== undefined) spec.killSignal = killSignal;
  const stdin = appStdin(o.app);
  if (stdin !== undefined) {
    if (o.interactive) throw usage(name, '--stdin=stream and --interactive both want the app\'s stdin: choose one');
    spec.stdin = stdin;
  }
  return spec;
}
