// Listing and removing rendered trees, and which image each was rendered for.
import { readFile, readdir } from 'node:fs/promises';
import { errnoCode } from '../../common/errors.js';
import { removeViaTmp } from './fsutil.js';
import { tryWithLock } from './locks.js';
import { TREE_ID_RE, treeDepsFile, treeDir, treeImageFile, treeLockFile, type StoreLayout } from './layout.js';

export interface TreeInfo {
  readonly treeId: string;
  /** The image the tree was rendered for, and every image layered into it (upper first). */
  readonly imageId: string | undefined;
  readonly deps: readonly string[];
}

export async function listTrees(layout: StoreLayout): Promise<TreeInfo[]> {
  let names: string[];
  try {
    names = (await readdir(layout.trees)).filter((n) => TREE_ID_RE.test(n));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  return Promise.all(
    names.map(async (treeId) => {
      const imageId = (await readFile(treeImageFile(layout, treeId), 'utf8').catch(() => '')).trim() || undefined;
      let deps: string[] = [];
      try {
        const v: unknown = JSON.parse(await readFile(treeDepsFile(layout, treeId), 'utf8'));
        if (Array.isArray(v)) deps = v.filter((x): x is string => typeof x === 'string');
      } catch {
        deps = [];
      }
      return { treeId, imageId, deps };
    }),
  );
}

/** Removes a tree unless someone holds its lock (rendering it); true when removed. */
export async function removeTree(layout: StoreLayout, treeId: string): Promise<boolean> {
  const r = await tryWithLock(treeLockFile(layout, treeId), 'exclusive', async (lock) => {
    const removed = await removeViaTmp(treeDir(layout, treeId), layout.tmp);
    await lock.unlinkFile();
    return removed;
  });
  return r === true;
}
