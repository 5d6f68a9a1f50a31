// The apps' current CPU and memory use in a running sandbox, from its stage1's app/stats entrypoint (read-only:
// no app lock, so stats never wait behind an app being added or stopped).
import { buildStatsArgs, parsePodStats, type PodStats } from '../../common/stage1-contract.js';
import { captureAppEntrypoint } from '../stage1/invoke.js';
import { entrypointPath } from '../stage1/pod-stage1.js';
import { openMutablePod } from './mutable-pod.js';

/** `debug` asks the stage1 for its --debug lines too (on stderr); `debugLine` takes rkt's own. */
export async function readPodStats(dataDir: string, uuid: string, debugLine: (l: string) => void, debug = false): Promise<PodStats> {
  const pod = await openMutablePod(dataDir, uuid, 'read the app stats of');
  const ep = entrypointPath(pod.snap.dir, pod.stage1, 'app-stats');
  return parsePodStats(await captureAppEntrypoint(pod.snap.dir, ep, buildStatsArgs({ debug, uuid }), debugLine, debug));
}
