// Rendering: the image plus its dependencies, layered upper-first with pathWhitelists, into a tree that is
// published once, atomically (work dir with a "rendered" marker, then one rename), under the tree's lock.
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import type { Dependency, ImageManifest } from '../../common/appc/index.js';
import { extractLayers, type Layer } from '../image/extract.js';
import { DEFAULT_LIMITS } from '../image/limits.js';
import { fsyncPath, makeWorkDir, pathExists, removeViaTmp } from './fsutil.js';
import { withLock } from './locks.js';
import { blobFile, treeDir, treeLockFile, treeManifest, treeRenderedFile, treeRootfs, type StoreLayout } from './layout.js';

const execFileP = promisify(execFile);

export interface LayerPlan {
  readonly id: string;
  readonly whitelists: readonly ReadonlySet<string>[];
  readonly top: boolean;
}

export interface DepSource {
  manifest(id: string): Promise<ImageManifest>;
  /** The store's image for a dependency; throws IMAGE_NOT_FOUND when it has not been fetched. */
  resolveDependency(dep: Dependency, parentId: string): Promise<string>;
}

/** The flattened dependency list, upper first: for A -> [B, C], C -> [D] it is A, C, D, B. */
export async function planLayers(src: DepSource, id: string): Promise<LayerPlan[]> {
  const plan: LayerPlan[] = [];
  const visit = async (imgId: string, inherited: readonly ReadonlySet<string>[], chain: readonly string[]): Promise<void> => {
    if (chain.includes(imgId)) {
      throw new RktError('IMAGE_INVALID', `dependency cycle: ${[...chain, imgId].join(' -> ')}`);
    }
    if (chain.length > DEFAULT_LIMITS.maxDependencyDepth) {
      throw new RktError('IMAGE_INVALID', `dependency chain of ${id} is deeper than ${DEFAULT_LIMITS.maxDependencyDepth}`);
    }
    const m = await src.manifest(imgId);
    const own = new Set(m.pathWhitelist);
    const whitelists = own.size > 0 ? [...inherited, own] : inherited;
    plan.push({ id: imgId, whitelists, top: chain.length === 0 });
    for (const dep of [...m.dependencies].reverse()) {
      await visit(await src.resolveDependency(dep, imgId), whitelists, [...chain, imgId]);
    }
  };
  await visit(id, [], []);
  return plan;
}

export function treeIdOf(plan: readonly LayerPlan[]): string {
  const h = createHash('sha512').update(plan.map((p) => p.id).join(',')).digest('hex');
  return `deps-sha512-${h.slice(0, 64)}`;
}

export function layersOf(layout: StoreLayout, plan: readonly LayerPlan[]): Layer[] {
  return plan.map((p) => ({ tarPath: blobFile(layout, p.id), whitelists: p.whitelists, top: p.top }));
}


export interface RenderedTree {
  treeId: string;
  rootfs: string;
  manifestPath: string;
}

/**
 * Renders a tree once: under the tree's lock, `fill` writes rootfs/ and manifest into a work dir, the
 * bookkeeping files and the "rendered" marker follow, the filesystem is flushed, and one rename
 * publishes it. ACI renders and OCI flattenings both go through here.
 */
export async function publishTree(
  layout: StoreLayout,
  treeId: string,
  imageId: string,
  deps: readonly string[],
  fill: (work: string) => Promise<void>,
): Promise<RenderedTree> {
  const result = { treeId, rootfs: treeRootfs(layout, treeId), manifestPath: treeManifest(layout, treeId) };
  if (await pathExists(treeRenderedFile(layout, treeId))) return result;
  await withLock(treeLockFile(layout, treeId), 'exclusive', async () => {
    if (await pathExists(treeRenderedFile(layout, treeId))) return;
    // A published tree always holds its marker; anything else at that path is debris.
    await removeViaTmp(treeDir(layout, treeId), layout.tmp);
    const work = await makeWorkDir(layout.tmp, 'render');
    try {
      await fill(work);
      await writeFile(path.join(work, 'image'), `${imageId}\n`);
      await writeFile(path.join(work, 'deps'), JSON.stringify(deps) + '\n');
      await writeFile(path.join(work, 'rendered'), '');
      // Flush the whole filesystem's dirty data (syncfs) before publishing, so a crash cannot expose a
      // tree whose files are still empty.
      await execFileP('sync', ['-f', work]);
      await rename(work, treeDir(layout, treeId));
      await fsyncPath(layout.trees);
    } catch (err) {
      await removeViaTmp(work, layout.tmp).catch(() => {});
      throw err;
    }
  });
  return result;
}

export async function renderTree(layout: StoreLayout, src: DepSource, id: string): Promise<RenderedTree> {
  const plan = await planLayers(src, id);
  return publishTree(layout, treeIdOf(plan), id, plan.map((p) => p.id), (work) =>
    extractLayers(layersOf(layout, plan), path.join(work, 'rootfs'), { manifestOut: path.join(work, 'manifest') }),
  );
}
