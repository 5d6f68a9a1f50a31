// Flat trees of OCI images, for what needs one directory rather than a layer stack: --no-overlay pods,
// `rkt image render` and `rkt image extract`. The merge itself is the kernel's overlayfs (flattenLayers),
// so a flat tree shows exactly what an overlay pod sees.
import { createHash } from 'node:crypto';
import { mkdir, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { flattenLayers } from '../oci/layers/flatten.js';
import type { ImageInfo } from './info.js';
import { publishTree, type RenderedTree } from './render.js';
import { layerStack } from './oci.js';
import { manifestFile, type StoreLayout } from './layout.js';

/** Trees share the deps-sha512- key space with ACI renders; "oci:" keeps the inputs apart. */
export function ociTreeId(info: ImageInfo): string {
  const key = `oci:${(info.oci?.layers ?? []).map((l) => l.diffId).join(',')}`;
  return `deps-sha512-${createHash('sha512').update(key).digest('hex').slice(0, 64)}`;
}

export async function renderOciTree(layout: StoreLayout, info: ImageInfo): Promise<RenderedTree> {
  const lowers = await layerStack(layout, info);
  return publishTree(layout, ociTreeId(info), info.id, [info.id], async (work) => {
    await flattenLayers(lowers, path.join(work, 'rootfs'));
    await copyFile(manifestFile(layout, info.id), path.join(work, 'manifest'));
  });
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
