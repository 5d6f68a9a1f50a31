// Deleting a pod that gc or rm moved to exited-garbage/ or garbage/ and locked: stage1 gc (if it ran),
// unmount everything under the pod dir (deepest first), remove the stage1 tree, then the rest.
import fs from 'node:fs/promises';
import { mdsRegisteredPath, stage1RootfsPath } from '../../common/pod-layout.js';
import { buildGcArgs } from '../../common/stage1-contract.js';
import type { CommandContext } from '../context/context.js';
import { entrypointPath, readPodStage1 } from '../stage1/pod-stage1.js';
import { spawnEntrypoint } from '../stage1/invoke.js';
import { supportsGcLocalConfig } from '../stage1/capabilities.js';
import { unmountAllUnder } from './mounts.js';
import { ensureOverlaysMounted } from './overlays.js';
import { podLockDir, type PodLock } from './transitions.js';
import { describeCause } from '../../common/errors.js';

export async function deletePod(ctx: CommandContext, lock: PodLock): Promise<void> {
  const dataDir = ctx.globals.dir;
  const podDir = podLockDir(dataDir, lock);
  if (lock.stateDir === 'exited-garbage') await runStage1Gc(ctx, podDir, lock.uuid);
  await unregisterFromMetadataService(ctx, podDir, lock.uuid);
  const busy = await unmountAllUnder(podDir);
  if (busy.length > 0) ctx.output.warn(`pod ${lock.uuid}: could not unmount ${busy.join(', ')}`);
  // The stage1 tree goes first: if something under it stays busy, the manifest remains for a retry.
  await fs.rm(stage1RootfsPath(podDir), { recursive: true, force: true, maxRetries: 2 });
  await fs.rm(podDir, { recursive: true, force: true, maxRetries: 2 });
}

async function unregisterFromMetadataService(ctx: CommandContext, podDir: string, uuid: string): Promise<void> {
  try {
    await fs.access(mdsRegisteredPath(podDir));
  } catch {
    return; // never registered: nothing to tell the service
  }
  try {
    const { unregisterPod } = await import('../metadata/index.js');
    await unregisterPod({ podDir, uuid, dataDir: ctx.globals.dir });
  } catch (err) {
    ctx.output.warn(`pod ${uuid}: could not unregister from the metadata service: ${describeCause(err)}`);
  }
}

async function runStage1Gc(ctx: CommandContext, podDir: string, uuid: string): Promise<void> {
  try {
    const s1 = await readPodStage1(podDir);
    if (s1.entrypoints.gc === undefined) {
      ctx.output.debug(`pod ${uuid}: stage1 has no gc entrypoint; skipping stage1 gc`);
      return;
    }
    await ensureOverlaysMounted(podDir);
    const ep = entrypointPath(podDir, s1, 'gc');
    const args = buildGcArgs({ debug: ctx.globals.debug, localConfig: ctx.globals.localConfig, uuid }, s1.entrypoints.interfaceVersion);
    if (!supportsGcLocalConfig(s1.entrypoints.interfaceVersion)) ctx.output.debug('stage1 interface < 5: gc gets no --local-config');
    const code = await spawnEntrypoint(podDir, ep, args, ctx.output);
    if (code !== 0) ctx.output.warn(`pod ${uuid}: stage1 gc exited with status ${code}`);
  } catch (err) {
    ctx.output.warn(`pod ${uuid}: stage1 gc failed: ${describeCause(err)}`);
  }
}
