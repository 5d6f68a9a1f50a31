// One change at a time to a mutable pod's apps: `rkt app add/start/stop/rm` hold app.lck (flock) for the
// whole change. It is not the pod lock, which the running stage1 holds for as long as the pod lives.
// A change that died half-way (kill -9, a crash) is undone by the next holder before it starts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parsePodManifest } from '../../common/appc/index.js';
import { errnoCode } from '../../common/errors.js';
import { appDir, appInfoDir, podAppsLockPath, podManifestNextPath, podManifestPath, stage2Root } from '../../common/pod-layout.js';
import { withLock } from '../store/locks.js';
import type { Output } from '../context/output.js';

async function entries(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Drops what an unfinished add or rm left: a pod.next (the add never committed) and the trees of apps the
 * committed manifest does not name. Boot-time apps are always named, so their mounts are never touched.
 */
export async function undoUnfinishedChanges(podDir: string, out: Output): Promise<void> {
  const next = podManifestNextPath(podDir);
  if (await fs.rm(next).then(() => true, () => false)) out.debug(`removed ${next} left by an unfinished rkt app add`);
  const named = new Set(parsePodManifest(await fs.readFile(podManifestPath(podDir), 'utf8')).apps.map((a) => a.name));
  for (const name of await entries(stage2Root(podDir))) {
    if (named.has(name) || name.startsWith('.')) continue;
    out.debug(`removing the tree of app ${name}, which the pod manifest does not name (an unfinished add or rm)`);
    await fs.rm(appDir(podDir, name), { recursive: true, force: true });
  }
  for (const name of await entries(path.dirname(appInfoDir(podDir, 'x')))) {
    if (!named.has(name)) await fs.rm(appInfoDir(podDir, name), { recursive: true, force: true });
  }
}

export async function withAppsLock<T>(podDir: string, out: Output, fn: () => Promise<T>): Promise<T> {
  return withLock(podAppsLockPath(podDir), 'exclusive', async () => {
    await undoUnfinishedChanges(podDir, out);
    return fn();
  });
}
