// All pods with their state and info, for `rkt list` and the API service (one probe per pod: open +
// non-blocking flock).
import { forEachBounded } from '../../common/bounded.js';
import { readPodInfo, type PodInfo } from './info.js';
import { probePod } from './state.js';
import { listPodUuids } from './uuid.js';

/**
 * Pods are read in parallel, a bounded number at a time: each is a handful of small file reads, and
 * one after another the round trips through libuv's thread pool dominated `rkt list` with 1,000 pods.
 */
const CONCURRENCY = 32;

/** `pid`: also find each running pod's process (`rkt list` shows none, so it skips the reads). */
export async function listPods(dataDir: string, opts: { pid?: boolean } = {}): Promise<PodInfo[]> {
  const uuids = await listPodUuids(dataDir);
  const out: PodInfo[] = [];
  await forEachBounded(uuids, CONCURRENCY, async (uuid) => {
    const snap = await probePod(dataDir, uuid);
    if (!snap) return; // deleted while we looked
    out.push(await readPodInfo(snap, { pid: opts.pid === true }));
  });
  return out.sort((a, b) => (a.created?.getTime() ?? 0) - (b.created?.getTime() ?? 0) || a.uuid.localeCompare(b.uuid));
}
