// Flat trees of OCI images, for what needs one directory rather than a layer stack: --no-overlay pods,
// `rkt image render` and `rkt image extract`. The merge itself is the kernel's overlayfs (flattenLayers),
// so a flat tree shows exactly what an overlay pod sees.
import { createHash } from 'node:crypto';
import { access, mkdir, rename, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { flattenLayers } from '../oci/layers/flatten.js';
import { fsyncPath, makeWorkDir, removeViaTmp } from './fsutil.js';
import { withLock } from './locks.js';
import type { ImageInfo } from './info.js';
import type { RenderedTree } from './render.js';
import { layerStack } from './oci.js';
import { manifestFile, treeDir, treeLockFile, treeManifest, treeRenderedFile, treeRootfs, type StoreLayout } from './layout.js';

/** Trees share the deps-sha512- key space with ACI renders; "oci:" keeps the inputs apart. */
export function ociTreeId(info: ImageInfo): string {
  const key = `oci:${(info.oci?.layers ?? []).map((l) => l.diffId).join(',')}`;
  return `deps-sha512-${createHash('sha512').update(key).digest('hex').slice(0, 64)}`;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

export async function renderOciTree(layout: StoreLayout, info: ImageInfo): Promise<RenderedTree> {
  const treeId = ociTreeId(info);
  const result = { treeId, rootfs: treeRootfs(layout, treeId), manifestPath: treeManifest(layout, treeId) };
  if (await exists(treeRenderedFile(layout, treeId))) return result;
  const lowers = await layerStack(layout, info);
  await withLock(treeLockFile(layout, treeId), 'exclusive', async () => {
    if (await exists(treeRenderedFile(layout, treeId))) return;
    await removeViaTmp(treeDir(layout, treeId), layout.tmp);
    const work = await makeWorkDir(layout.tmp, 'render');
    try {
      await flattenLayers(lowers, path.join(work, 'rootfs'));
      await copyFile(manifestFile(layout, info.id), path.join(work, 'manifest'));
      await writeFile(path.join(work, 'image'), `${info.id}\n`);
      await writeFile(path.join(work, 'deps'), JSON.stringify([info.id]) + '\n');
      await writeFile(path.join(work, 'rendered'), '');
      await fsyncPath(work);
      await rename(work, treeDir(layout, treeId));
      await fsyncPath(layout.trees);
    } catch (err) {
      await removeViaTmp(work, layout.tmp).catch(() => {});
      throw err;
    }
  });
  return result;
}

export async function extractOciImage(layout: StoreLayout, info: ImageInfo, dir: string, rootfsOnly: boolean): Promise<void> {
  const lowers = await layerStack(layout, info);
  if (rootfsOnly) {
    await flattenLayers(lowers, dir);
    return;
  }
  await mkdir(dir, { recursive: true });
  await flattenLayers(lowers, path.join(dir, 'rootfs'));
  await copyFile(manifestFile(layout, info.id), path.join(dir, 'manifest'));
}
