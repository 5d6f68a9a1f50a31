// `rkt app start/stop/rm`, and the CRI's new limits for an app (app/update): each checks the app against the
// pod manifest and its recorded state, then asks the pod's stage1 to act, all under the pod's app lock. rm commits by rewriting the manifest without the
// app (tmp + rename) before deleting its tree, so a crash in between leaves a tree the next command removes.
import fs from 'node:fs/promises';
import { serializePodManifest } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { appDir, appInfoDir, podManifestPath } from '../../common/pod-layout.js';
import { buildAppArgs, buildUpdateArgs, type AppEntrypoint, type LimitsUpdateArgs } from '../../common/stage1-contract.js';
import type { CommandContext } from '../context/context.js';
import type { Output } from '../context/output.js';
import { captureAppEntrypoint, runAppEntrypoint } from '../stage1/invoke.js';
import { entrypointPath } from '../stage1/pod-stage1.js';
import { readAppStatus } from './app-state.js';
import { withAppsLock } from './apps-lock.js';
import { openMutablePod, requireApp, type MutablePod } from './mutable-pod.js';

const VERBS: Record<'app-start' | 'app-stop' | 'app-rm' | 'app-update', string> = {
  'app-start': 'start an app in',
  'app-stop': 'stop an app in',
  'app-rm': 'remove an app from',
  'app-update': 'change the limits of an app in',
};

async function withApp<T>(dataDir: string, out: Output, uuid: string, ep: keyof typeof VERBS, name: string, fn: (pod: MutablePod) => Promise<T>): Promise<T> {
  const first = await openMutablePod(dataDir, uuid, VERBS[ep]);
  return withAppsLock(first.snap.dir, out, async () => {
    const pod = await openMutablePod(dataDir, uuid, VERBS[ep]);
    requireApp(pod, name);
    return fn(pod);
  });
}

async function callStage1(ctx: CommandContext, pod: MutablePod, ep: AppEntrypoint, app: string, timeoutSeconds?: number): Promise<void> {
  const path = entrypointPath(pod.snap.dir, pod.stage1, ep);
  const args = buildAppArgs({ debug: ctx.globals.debug, app, uuid: pod.snap.uuid, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) });
  await runAppEntrypoint(pod.snap.dir, path, args, ctx.output, ctx.globals.debug);
}

export async function startApp(ctx: CommandContext, uuid: string, name: string): Promise<void> {
  await withApp(ctx.globals.dir, ctx.output, uuid, 'app-start', name, async (pod) => {
    const st = await readAppStatus(pod.snap.dir, pod.snap.state, pod.manifest, name);
    if (st.state === 'running') {
      throw new RktError('APP_STATE', `app "${name}" of pod ${uuid} is already running`, { hint: `stop it first with: rkt app stop ${uuid} --app=${name}` });
    }
    await callStage1(ctx, pod, 'app-start', name);
  });
}

/** Stops the app: its stop signal, then SIGKILL after `timeoutSeconds`. A stopped app is left alone. */
export async function stopApp(ctx: CommandContext, uuid: string, name: string, timeoutSeconds: number | undefined): Promise<boolean> {
  return withApp(ctx.globals.dir, ctx.output, uuid, 'app-stop', name, async (pod) => {
    const st = await readAppStatus(pod.snap.dir, pod.snap.state, pod.manifest, name);
    if (st.state !== 'running') {
      ctx.output.debug(`app ${name} is ${st.state}: nothing to stop`);
      return false;
    }
    await callStage1(ctx, pod, 'app-stop', name, timeoutSeconds);
    return true;
  });
}

export async function removeApp(ctx: CommandContext, uuid: string, name: string): Promise<void> {
  await withApp(ctx.globals.dir, ctx.output, uuid, 'app-rm', name, async (pod) => {
    const st = await readAppStatus(pod.snap.dir, pod.snap.state, pod.manifest, name);
    if (st.state === 'running') {
      throw new RktError('APP_STATE', `cannot remove app "${name}" of pod ${uuid}: it is running`, { hint: `stop it first with: rkt app stop ${uuid} --app=${name}` });
    }
    await callStage1(ctx, pod, 'app-rm', name);
    const podDir = pod.snap.dir;
    const rest = { ...pod.manifest, apps: pod.manifest.apps.filter((a) => a.name !== name) };
    const tmp = `${podManifestPath(podDir)}.tmp`;
    await fs.writeFile(tmp, serializePodManifest(rest));
    await fs.rename(tmp, podManifestPath(podDir));
    await fs.rm(appDir(podDir, name), { recursive: true, force: true });
    await fs.rm(appInfoDir(podDir, name), { recursive: true, force: true });
  });
}

/** New memory and CPU limits for an app of a running sandbox (the CRI's UpdateContainerResources; rkt has no such command). */
export async function updateAppLimits(dataDir: string, limits: Omit<LimitsUpdateArgs, 'debug'>, out: Output, debug = false): Promise<void> {
  await withApp(dataDir, out, limits.uuid, 'app-update', limits.app, async (pod) => {
    const ep = entrypointPath(pod.snap.dir, pod.stage1, 'app-update');
    await captureAppEntrypoint(pod.snap.dir, ep, buildUpdateArgs({ ...limits, debug }), (l) => out.debug(l), debug);
  });
}
