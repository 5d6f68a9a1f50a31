// All pods with their state and info, for `rkt list` (one probe per pod: open + non-blocking flock).
import { readPodInfo, type PodInfo } from './info.js';
import { probePod } from './state.js';
import { listPodUuids } from './uuid.js';

export async function listPods(dataDir: string): Promise<PodInfo[]> {
  const out: PodInfo[] = [];
  for (const uuid of await listPodUuids(dataDir)) {
    const snap = await probePod(dataDir, uuid);
    if (!snap) continue; // deleted while we looked
    out.push(await readPodInfo(snap, { pid: false }));
  }
  return out.sort((a, b) => (a.created?.getTime() ?? 0) - (b.created?.getTime() ?? 0) || a.uuid.localeCompare(b.uuid));
}
