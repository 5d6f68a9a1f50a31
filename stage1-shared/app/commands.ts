// The app entrypoints of a running mutable pod, for every flavor (the flavor's answers: AppFlavor).
// stage0 holds the pod's app lock around each call, so these never race one another; each either does all
// of its change or puts back what it did (units, accounts, the record), and fails with one line.
//
//   add:   pod.next names the app, stage0 copied its tree; shift the tree's owners where the pod needs it,
//          build its unit exactly as run builds a boot-time app's, write its files and enter profile,
//          daemon-reload. The app is not started.
//   start: rkt/status/<app> removed, rkt/started/<app> counted up, reset-failed + start of its unit.
//   stop:  its stop signal, SIGKILL after --timeout (default 10 s); the reaper records the exit status.
//   rm:    a stopped app's unit, env and slice files and enter profile go, daemon-reload; its history and
//          journal stay (stage0 deletes the tree and the manifest entry).
//   update (ours): systemctl set-property of the app's limits on its slice or service.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseImageManifest, parsePodManifest, type ImageManifest, type PodManifest } from '../../common/appc/index.js';
import { RktError, errnoCode } from '../../common/errors.js';
import { readPodWrittenFile, refuseLinksBelow, replacePodFile } from '../../common/pod-written-file.js';
import {
  appDir, appImageManifestPath, appRootfsPath, appStartedPath, appStatusPath, machineName, podManifestNextPath, podManifestPath,
  stage1RootfsPath,
} from '../../common/pod-layout.js';
import type { AppEntrypointArgs, LimitsUpdateArgs } from '../../common/stage1-contract.js';
import { buildAppSpec, enterProfileOf, writeAppFiles } from '../app-files.js';
import { debugLog } from '../entrypoint.js';
import { readStage1Record, updateStage1Record, type Stage1Record } from '../record/stage1-record.js';
import { appEnvInPod, appServiceName } from '../units/app-unit.js';
import { appFiles, reaperUnitName, UNIT_DIR } from '../units/pod-units.js';
import { appSliceName } from '../units/unit-file.js';
import type { AppFlavor } from './flavor.js';
import { attachHostVolume, detachHostVolume } from './host-volumes.js';
import { limitDropIns, setLimitsArgv } from './limits.js';
import { shiftTree } from './ownership.js';
import {
  daemonReloadArgv, describeArgv, isActiveArgv, isRunningState, lastLine, parseStartOutcome, parseStopOutcome, resetFailedArgv, startArgv, stopArgv,
} from './pod-commands.js';
import { PodRootChange } from './root-change.js';

export const DEFAULT_STOP_TIMEOUT_S = 10;
/**
 * Budget of one quick command in the pod (is-active, daemon-reload, reset-failed). Generous: a TCG guest on a
 * loaded host was seen taking over 30 s for a daemon-reload, and a command cut short leaves the change unknown.
 */
const QUICK_MS = 120_000;
/** systemctl start waits for ExecStartPre= hooks and the exec; the app's own TimeoutStartSec is 0 (none). */
const START_MS = 120_000;
/** How long start/stop wait for the reaper's status file before returning (so rkt app status agrees). */
const STATUS_WAIT_MS = 5_000;

interface Ctx<S> {
  flavor: AppFlavor<S>;
  args: AppEntrypointArgs;
  podDir: string;
  rec: Stage1Record<S>;
  unit: string;
  debug(msg: string): void;
}

async function context<S>(flavor: AppFlavor<S>, args: AppEntrypointArgs, podDir: string): Promise<Ctx<S>> {
  const rec = await readStage1Record(podDir, flavor.traits.record);
  if (rec === undefined) {
    throw new RktError('POD_STATE', `pod ${args.uuid} has no ${flavor.traits.record.flavor} stage1 record: it never finished starting`);
  }
  if (!rec.runtime.mutable) {
    throw new RktError('POD_STATE', `pod ${args.uuid} is not a mutable pod: its apps were fixed when it started`, {
      hint: 'start pods that take apps later with rkt app sandbox',
    });
  }
  return {
    flavor, args, podDir, rec, unit: appServiceName(args.app),
    debug: (msg) => debugLog(args.debug, `app ${args.app}: ${msg}`),
  };
}

async function inPod<S>(c: Ctx<S>, argv: readonly string[], timeoutMs = QUICK_MS): Promise<{ code: number; stdout: string; stderr: string }> {
  const started = Date.now();
  c.debug(`in the pod: ${describeArgv(argv)} ...`);
  const r = await c.flavor.execInPod(c.podDir, c.rec, argv, { timeoutMs });
  c.debug(`in the pod: ${describeArgv(argv)} -> ${r.code} (${Date.now() - started} ms)`);
  return r;
}

/** Like inPod, but a failure is the entrypoint's error. */
async function mustInPod<S>(c: Ctx<S>, argv: readonly string[], what: string, timeoutMs = QUICK_MS): Promise<string> {
  const r = await inPod(c, argv, timeoutMs);
  if (r.code !== 0) throw new RktError('STAGE1', `${what}: ${lastLine(r.stderr) || `exit status ${r.code}`}`);
  return r.stdout;
}

async function isRunning<S>(c: Ctx<S>): Promise<boolean> {
  // is-active exits non-zero for every state but active: its output is the answer.
  const r = await inPod(c, isActiveArgv(c.unit));
  return isRunningState(r.stdout);
}

/**
 * Best effort, bounded: a kvm guest's drop_caches on a loaded host has stalled past the quick-command
 * timeout (every cached 9p inode is released over the wire), and failing the app command for it
 * would be worse than a view the guest's 9p mount (cache=mmap) revalidates anyway.
 */
const REFRESH_MS = 20_000;

async function refresh<S>(c: Ctx<S>): Promise<void> {
  if (c.flavor.refreshArgv === undefined) return;
  try {
    const r = await inPod(c, c.flavor.refreshArgv, REFRESH_MS);
    if (r.code !== 0) c.debug(`refreshing the pod's view of its files failed (exit ${r.code}); going on`);
  } catch (err) {
    c.debug(`refreshing the pod's view of its files did not finish (${err instanceof Error ? err.message : String(err)}); going on`);
  }
}

async function reload<S>(c: Ctx<S>): Promise<void> {
  await refresh(c);
  await mustInPod(c, daemonReloadArgv(), 'systemctl daemon-reload in the pod failed');
}

function unknownApp(args: AppEntrypointArgs): RktError {
  return new RktError('APP_NOT_FOUND', `pod ${args.uuid} has no app "${args.app}"`, { hint: `see its apps with: rkt app list ${args.uuid}` });
}

async function readPod(file: string): Promise<PodManifest> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('POD_INVALID', `cannot read ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  return parsePodManifest(text);
}

async function readImage(podDir: string, app: string): Promise<ImageManifest> {
  const file = appImageManifestPath(podDir, app);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('POD_INVALID', `app "${app}" has no image manifest at ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  return parseImageManifest(text);
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

/** Files of the pod root that belong to the app alone (relative to the root), present or not. */
function appOwnFiles(app: string): string[] {
  return [`${UNIT_DIR}/${appServiceName(app)}`, `${UNIT_DIR}/${appSliceName(app)}`, appEnvInPod(app).slice(1), ...limitDropIns(app)];
}

async function waitForStatus(podDir: string, app: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await readPodWrittenFile(podDir, appStatusPath(podDir, app)) !== undefined) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------- add

export async function appAdd<S>(flavor: AppFlavor<S>, args: AppEntrypointArgs, podDir: string): Promise<void> {
  const c = await context(flavor, args, podDir);
  const name = args.app;
  const next = await readPod(podManifestNextPath(podDir));
  const app = next.apps.find((a) => a.name === name);
  if (app === undefined) throw new RktError('POD_INVALID', `${podManifestNextPath(podDir)} does not name app "${name}"`, { hint: 'add apps with rkt app add' });
  const current = await readPod(podManifestPath(podDir));
  if (current.apps.some((a) => a.name === name)) {
    throw new RktError('APP_EXISTS', `pod ${args.uuid} already has an app named "${name}"`);
  }
  if (!(await isDir(appRootfsPath(podDir, name)))) {
    throw new RktError('POD_INVALID', `app "${name}" has no tree at ${appRootfsPath(podDir, name)}`);
  }
  // A unit by that name still running (a crashed add's app someone started) must not be replaced under it.
  if (await isRunning(c)) throw new RktError('APP_STATE', `a unit ${c.unit} is still running in pod ${args.uuid}`, { hint: `stop it first with: rkt app stop ${args.uuid} --app=${name}` });
  if (c.rec.apps[name] !== undefined) c.debug('the record has an enter profile left by an add that never committed: replacing it');

  // The spec reads the tree as stage0 copied it, before any shift, as run reads its apps' trees.
  const image = await readImage(podDir, name);
  const spec = await buildAppSpec(podDir, flavor.traits, c.rec.runtime, next, app, image);
  c.debug(`unit ${c.unit}: uid ${spec.identity.uid} gid ${spec.identity.gid}, exec ${spec.exec.join(' ')}`);
  if (flavor.admitApp) await flavor.admitApp({ podDir, record: c.rec, pod: next, app, spec });

  const shift = flavor.diskShift(c.rec);
  if (shift !== undefined) {
    const n = await shiftTree(appDir(podDir, name), shift);
    c.debug(`tree shifted onto the pod's ids ${shift.shift}:${shift.count} (${n} entries)`);
  }

  const root = stage1RootfsPath(podDir);
  const change = new PodRootChange(root);
  let recorded = false;
  // Volumes the pod gains with this app (rkt app add --mnt-volume): in the pod before its units name them.
  const gained = next.volumes.filter((v) => !current.volumes.some((cv) => cv.name === v.name));
  const attached: string[] = [];
  try {
    for (const v of gained) {
      const inPod = flavor.traits.volumePath(v.name);
      await attachHostVolume(podDir, root, inPod, v);
      attached.push(inPod);
      c.debug(`volume ${v.name}: ${v.source ?? ''} bound at ${inPod}${v.readOnly === true ? ' (read-only)' : ''}`);
    }
    for (const f of [...appFiles(spec).map((x) => x.path), ...appOwnFiles(name), 'etc/passwd', 'etc/group']) await change.remember(f);
    await writeAppFiles(podDir, spec);
    if (shift !== undefined) for (const rel of change.touched()) await shiftTree(path.join(root, rel), shift);
    c.debug(`wrote ${appFiles(spec).map((f) => `/${f.path}`).join(', ')}`);
    await updateStage1Record(podDir, flavor.traits.record, (r) => {
      r.apps[name] = enterProfileOf(spec);
    });
    recorded = true;
    c.debug('enter profile recorded');
    await reload(c);
    c.debug('the pod\'s systemd knows the unit; not started');
  } catch (err) {
    c.debug(`undoing the add: ${err instanceof Error ? err.message : String(err)}`);
    await undo(c, change, recorded ? (r) => { delete r.apps[name]; } : undefined);
    for (const inPod of attached.reverse()) await detachHostVolume(root, inPod).catch(() => undefined);
    throw err;
  }
}

/** Puts the root and record back after a failed change, and has systemd forget what it may have loaded. */
async function undo<S>(c: Ctx<S>, change: PodRootChange, recordBack: ((r: Stage1Record<S>) => void) | undefined): Promise<void> {
  const note = (what: string) => (err: unknown): void => c.debug(`${what} failed too: ${err instanceof Error ? err.message : String(err)}`);
  if (recordBack) await updateStage1Record(c.podDir, c.flavor.traits.record, recordBack).catch(note('restoring the record'));
  await change.rollback().catch(note('restoring the pod\'s files'));
  await reload(c).catch(note('daemon-reload after the undo'));
}

// ---------------------------------------------------------------- start

/** The next value of rkt/started/<app>: how many times app/start started it. */
export function nextStartCount(previous: string | undefined): number {
  const n = previous !== undefined && /^[0-9]+\s*$/.test(previous) ? Number(previous.trim()) : 0;
  return n + 1;
}

/** The pod may have tampered with rkt/started (a symlink to a host file or directory): nothing followed. */
async function writeStarted(podDir: string, app: string): Promise<number> {
  const file = appStartedPath(podDir, app);
  const count = nextStartCount((await readPodWrittenFile(podDir, file))?.text);
  await replacePodFile(podDir, file, `${count}\n`);
  return count;
}

export async function appStart<S>(flavor: AppFlavor<S>, args: AppEntrypointArgs, podDir: string): Promise<void> {
  const c = await context(flavor, args, podDir);
  if (c.rec.apps[args.app] === undefined) throw unknownApp(args);
  if (await isRunning(c)) {
    throw new RktError('APP_STATE', `app "${args.app}" of pod ${args.uuid} is already running`, { hint: `stop it first with: rkt app stop ${args.uuid} --app=${args.app}` });
  }
  await refuseLinksBelow(podDir, path.relative(podDir, appStatusPath(podDir, args.app)));
  await fs.rm(appStatusPath(podDir, args.app), { force: true });
  const count = await writeStarted(podDir, args.app);
  c.debug(`start #${count}: status cleared`);
  await refresh(c);
  const r = await inPod(c, startArgv(c.unit), START_MS);
  const outcome = parseStartOutcome(r.stdout);
  if (r.code !== 0 || (outcome !== 'started' && outcome !== 'ran')) {
    // The reaper records the failed run (254 when the app never ran): wait for it so status agrees with us.
    await waitForStatus(podDir, args.app, STATUS_WAIT_MS);
    throw new RktError('STAGE1', `app "${args.app}" failed to start: ${lastLine(r.stderr) || `systemctl start exited ${r.code}`}`, {
      hint: `see why with: journalctl -M ${machineName(args.uuid)} -u ${c.unit} (or rkt logs ${args.uuid})`,
    });
  }
  if (outcome === 'ran') c.debug('its main process ran and already exited (systemd calls that a failed start)');
  c.debug('started');
}

// ---------------------------------------------------------------- stop

export async function appStop<S>(flavor: AppFlavor<S>, args: AppEntrypointArgs, podDir: string): Promise<void> {
  const c = await context(flavor, args, podDir);
  if (c.rec.apps[args.app] === undefined) throw unknownApp(args);
  const timeout = args.timeoutSeconds ?? DEFAULT_STOP_TIMEOUT_S;
  // The script waits up to the timeout, then up to 10 s after SIGKILL, then up to 30 s for the reaper.
  const r = await inPod(c, stopArgv(c.unit, timeout, reaperUnitName(args.app)), (timeout + 40) * 1000 + QUICK_MS);
  const outcome = parseStopOutcome(r.stdout);
  if (r.code !== 0 || outcome === undefined || outcome === 'still-running') {
    throw new RktError('STAGE1', `cannot stop app "${args.app}": ${outcome === 'still-running' ? 'it is still running 10 s after SIGKILL' : lastLine(r.stderr) || `exit status ${r.code}`}`);
  }
  if (outcome === 'not-running') {
    c.debug('not running: nothing to stop');
    return;
  }
  c.debug(outcome === 'stopped' ? `stopped by its stop signal within ${timeout} s` : `killed (SIGKILL) after ${timeout} s`);
  if (!(await waitForStatus(podDir, args.app, STATUS_WAIT_MS))) c.debug('no exit status recorded yet');
}

// ---------------------------------------------------------------- update (ours, for the CRI)

/**
 * New limits for an app, running or not: on its slice when it was added with limits (processes entered into it
 * share them), else on its service.
 */
export async function appUpdate<S>(flavor: AppFlavor<S>, args: LimitsUpdateArgs, podDir: string): Promise<void> {
  const c = await context(flavor, args, podDir);
  if (c.rec.apps[args.app] === undefined) throw unknownApp(args);
  const slice = appSliceName(args.app);
  const hasSlice = await fs.access(path.join(stage1RootfsPath(podDir), UNIT_DIR, slice)).then(() => true, () => false);
  const argv = setLimitsArgv(hasSlice ? slice : c.unit, args);
  if (argv === undefined) return;
  await mustInPod(c, argv, `cannot set the limits of app "${args.app}"`);
}

// ---------------------------------------------------------------- rm

export async function appRm<S>(flavor: AppFlavor<S>, args: AppEntrypointArgs, podDir: string): Promise<void> {
  const c = await context(flavor, args, podDir);
  const name = args.app;
  const inManifest = (await readPod(podManifestPath(podDir))).apps.some((a) => a.name === name);
  if (c.rec.apps[name] === undefined && !inManifest) throw unknownApp(args);
  if (await isRunning(c)) {
    throw new RktError('APP_STATE', `cannot remove app "${name}" of pod ${args.uuid}: it is running`, { hint: `stop it first with: rkt app stop ${args.uuid} --app=${name}` });
  }
  const root = stage1RootfsPath(podDir);
  const change = new PodRootChange(root);
  const profile = c.rec.apps[name];
  let recorded = false;
  try {
    for (const f of appOwnFiles(name)) await change.remove(f);
    // A re-added app of the same name starts out "created", not with this one's last exit status.
    for (const f of [appStatusPath(podDir, name), appStartedPath(podDir, name)]) await change.remove(path.relative(root, f));
    c.debug('unit, env and slice files removed');
    if (profile !== undefined) {
      await updateStage1Record(podDir, flavor.traits.record, (r) => { delete r.apps[name]; });
      recorded = true;
    }
    await inPod(c, resetFailedArgv(c.unit));
    await reload(c);
    c.debug('the pod\'s systemd forgot the unit; history and journal kept');
  } catch (err) {
    c.debug(`undoing the rm: ${err instanceof Error ? err.message : String(err)}`);
    await undo(c, change, recorded && profile !== undefined ? (r) => { r.apps[name] = profile; } : undefined);
    throw err;
  }
}
