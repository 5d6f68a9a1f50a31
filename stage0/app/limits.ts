// New memory and CPU limits for an app of a running sandbox, through its stage1's app/update entrypoint,
// under the pod's app lock like every other app change.
import { buildUpdateArgs, type LimitsUpdateArgs } from '../../common/stage1-contract.js';
import type { Output } from '../context/output.js';
import { captureAppEntrypoint } from '../stage1/invoke.js';
import { entrypointPath } from '../stage1/pod-stage1.js';
import { withAppsLock } from './apps-lock.js';
import { openMutablePod, requireApp } from './mutable-pod.js';

export async function updateAppLimits(dataDir: string, limits: Omit<LimitsUpdateArgs, 'debug'>, out: Output, debug = false): Promise<void> {
  const first = await openMutablePod(dataDir, limits.uuid, 'change the limits of an app in');
  await withAppsLock(first.snap.dir, out, async () => {
    const pod = await openMutablePod(dataDir, limits.uuid, 'change the limits of an app in');
    requireApp(pod, limits.app);
    const ep = entrypointPath(pod.snap.dir, pod.stage1, 'app-update');
    await captureAppEntrypoint(pod.snap.dir, ep, buildUpdateArgs({ ...limits, debug }), (l) => out.debug(l), debug);
  });
}
