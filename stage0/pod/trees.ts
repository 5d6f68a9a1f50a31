// Puts the rendered stage1 and app trees into the pod dir: overlayfs mounts by default (lower = the
// store's rendered rootfs, upper/work under overlay/<name>/), or full copies with --no-overlay.
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { RktError } from '../../common/errors.js';
import { appOverlayName, appRootfsPath, stage1RootfsPath, STAGE1_OVERLAY } from '../../common/pod-layout.js';
import { mountLayer, writeLayerRecords, type LayerRecord } from './overlays.js';

export interface TreeSources {
  stage1Rootfs: string;
  /** `rootfs`: a flat tree (ACIs, and OCI images with --no-overlay); `lowers`: an OCI image's layers, upper first. */
  apps: { name: string; rootfs: string; lowers?: string[] }[];
}

export async function copyTree(src: string, dest: string): Promise<void> {
  await fs.mkdir(dest, { recursive: true });
  const r = await execa('cp', ['-a', '--', `${src}/.`, dest], { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new RktError('SUBPROCESS', `cannot copy ${src} to ${dest}: cp exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim()}`);
}

/** Lays out stage1/rootfs and each app's rootfs. Mounts are made in order, so apps land inside the stage1 overlay. */
export async function layoutTrees(podDir: string, src: TreeSources, overlay: boolean): Promise<void> {
  if (!overlay) {
    await copyTree(src.stage1Rootfs, stage1RootfsPath(podDir));
    for (const a of src.apps) await copyTree(a.rootfs, appRootfsPath(podDir, a.name));
    return;
  }
  const rel = (p: string): string => path.relative(podDir, p);
  const layers: LayerRecord[] = [
    { name: STAGE1_OVERLAY, target: rel(stage1RootfsPath(podDir)), lower: src.stage1Rootfs },
    ...src.apps.map((a): LayerRecord => {
      const base = { name: appOverlayName(a.name), target: rel(appRootfsPath(podDir, a.name)), lower: a.lowers?.[0] ?? a.rootfs };
      return a.lowers && a.lowers.length > 1 ? { ...base, lowers: a.lowers } : base;
    }),
  ];
  // Record first: if a mount fails, the teardown still knows what to look for.
  await writeLayerRecords(podDir, layers);
  for (const l of layers) await mountLayer(podDir, l);
}
