// `rkt gc`'s two passes: mark (exited -> exited-garbage, aborted/expired prepares -> garbage), then
// sweep garbage whose mark is older than the grace period. Races with other rkt processes are expected:
// a pod another process moved or locked first is skipped.
import fs from 'node:fs/promises';
import { errnoCode, describeCause } from '../../common/errors.js';
import { podDirIn, podStateDir, type PodStateDir } from '../../common/pod-layout.js';
import type { CommandContext } from '../context/context.js';
import { deletePod } from './delete.js';
import { enteredAt, isDirLocked } from './state.js';
import { moveUnlocked, releasePod, tryLockPod } from './transitions.js';
import { isPodUuid } from './uuid.js';

export interface GcOptions {
  gracePeriodMs: number;
  expirePreparedMs: number;
  markOnly: boolean;
}

async function podsIn(dataDir: string, s: PodStateDir): Promise<string[]> {
  try {
    return (await fs.readdir(podStateDir(dataDir, s))).filter(isPodUuid).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

async function lockedOrGone(dir: string): Promise<boolean> {
  try {
    return await isDirLocked(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return true;
    throw err;
  }
}

export async function markGarbage(ctx: CommandContext, o: GcOptions): Promise<void> {
  const dataDir = ctx.globals.dir;
  const now = Date.now();
  for (const uuid of await podsIn(dataDir, 'run')) {
    if (await lockedOrGone(podDirIn(dataDir, 'run', uuid))) continue;
    if (await moveUnlocked(dataDir, uuid, 'run', 'exited-garbage')) ctx.output.out(`Moving pod "${uuid}" to garbage`);
  }
  for (const uuid of await podsIn(dataDir, 'prepare')) {
    if (await lockedOrGone(podDirIn(dataDir, 'prepare', uuid))) continue;
    if (await moveUnlocked(dataDir, uuid, 'prepare', 'garbage')) ctx.output.out(`Moving failed prepare "${uuid}" to garbage`);
  }
  for (const uuid of await podsIn(dataDir, 'prepared')) {
    const t = await enteredAt(podDirIn(dataDir, 'prepared', uuid));
    if (t === undefined || now - t < o.expirePreparedMs) continue;
    if (await moveUnlocked(dataDir, uuid, 'prepared', 'garbage')) ctx.output.out(`Moving expired prepared pod "${uuid}" to garbage`);
  }
  for (const uuid of await podsIn(dataDir, 'embryo')) {
    // An embryo lives for the instant between mkdir and its move to prepare/; one that is old was abandoned.
    const dir = podDirIn(dataDir, 'embryo', uuid);
    const t = await enteredAt(dir);
    if (t === undefined || now - t < 60_000 || (await lockedOrGone(dir))) continue;
    await moveUnlocked(dataDir, uuid, 'embryo', 'garbage');
  }
}

export async function sweepGarbage(ctx: CommandContext, o: GcOptions): Promise<number> {
  const dataDir = ctx.globals.dir;
  const now = Date.now();
  let failures = 0;
  for (const from of ['exited-garbage', 'garbage'] as const) {
    for (const uuid of await podsIn(dataDir, from)) {
      const t = await enteredAt(podDirIn(dataDir, from, uuid));
      if (t === undefined) continue;
      if (from === 'exited-garbage' && now - t < o.gracePeriodMs) {
        ctx.output.debug(`pod "${uuid}" not removed: still within grace period`);
        continue;
      }
      let lock;
      try {
        lock = await tryLockPod(dataDir, uuid, from);
      } catch {
        continue; // moved or deleted by another process
      }
      if (!lock) continue; // being deleted by another process
      try {
        ctx.output.out(`Garbage collecting pod "${uuid}"`);
        await deletePod(ctx, lock);
      } catch (err) {
        failures++;
        ctx.output.warn(`unable to remove pod "${uuid}": ${describeCause(err)}`);
      } finally {
        await releasePod(lock);
      }
    }
  }
  return failures;
}

export async function gcPods(ctx: CommandContext, o: GcOptions): Promise<number> {
  await markGarbage(ctx, o);
  if (o.markOnly) return 0;
  return sweepGarbage(ctx, o);
}
