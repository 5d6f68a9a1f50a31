// Moving a pod between state dirs: rename only, then fsync the destination's parent so the move is durable.
// A held pod lock is an open directory fd with an flock; renames keep it valid (it names the inode).
import fs from 'node:fs/promises';
import { errnoCode, RktError } from '../../common/errors.js';
import { flock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from '../../common/native.js';
import { POD_STATE_DIRS, podDirIn, podStateDir, locksDir, type PodStateDir } from '../../common/pod-layout.js';
import { O_DIR_FLAGS } from './state.js';

export interface PodLock {
  readonly uuid: string;
  readonly fd: number;
  readonly handle: fs.FileHandle;
  /** The state dir the pod is in now (updated by movePod). */
  stateDir: PodStateDir;
}

export async function ensurePodDirs(dataDir: string): Promise<void> {
  for (const s of POD_STATE_DIRS) await fs.mkdir(podStateDir(dataDir, s), { recursive: true, mode: 0o750 });
  await fs.mkdir(locksDir(dataDir), { recursive: true, mode: 0o750 });
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, O_DIR_FLAGS);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `embryo/<uuid>`, locks it exclusively and moves it to `prepare/` (state "preparing"). */
export async function createPod(dataDir: string, uuid: string): Promise<PodLock> {
  await ensurePodDirs(dataDir);
  const embryo = podDirIn(dataDir, 'embryo', uuid);
  await fs.mkdir(embryo, { mode: 0o750 });
  const handle = await fs.open(embryo, O_DIR_FLAGS);
  flock(handle.fd, LOCK_EX);
  const lock: PodLock = { uuid, fd: handle.fd, handle, stateDir: 'embryo' };
  await movePod(dataDir, lock, 'prepare');
  return lock;
}

/**
 * Opens an existing pod's directory and locks it exclusively without waiting. Returns undefined when
 * the lock is held elsewhere; throws POD_NOT_FOUND-style errors when the dir is gone.
 */
export async function tryLockPod(dataDir: string, uuid: string, stateDir: PodStateDir): Promise<PodLock | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(podDirIn(dataDir, stateDir, uuid), O_DIR_FLAGS);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new RktError('POD_STATE', `pod ${uuid} is no longer in ${stateDir}/: it changed state meanwhile`, { cause: err, hint: 'check "rkt status" and retry' });
    }
    throw err;
  }
  if (!flock(handle.fd, LOCK_EX | LOCK_NB)) {
    await handle.close();
    return undefined;
  }
  return { uuid, fd: handle.fd, handle, stateDir };
}

/**
 * Opens an existing pod's directory and takes a shared lock without waiting: it keeps the pod from
 * being deleted (which needs the exclusive lock) while leaving its state as others see it unchanged.
 * Undefined when someone holds it exclusively; ENOENT when the dir moved meanwhile is thrown through.
 */
export async function trySharedLockPod(dataDir: string, uuid: string, stateDir: PodStateDir): Promise<PodLock | undefined> {
  const handle = await fs.open(podDirIn(dataDir, stateDir, uuid), O_DIR_FLAGS);
  if (!flock(handle.fd, LOCK_SH | LOCK_NB)) {
    await handle.close();
    return undefined;
  }
  return { uuid, fd: handle.fd, handle, stateDir };
}

/** Renames the locked pod to another state dir (fsyncs the destination parent). */
export async function movePod(dataDir: string, lock: PodLock, to: PodStateDir): Promise<void> {
  const from = podDirIn(dataDir, lock.stateDir, lock.uuid);
  const dest = podDirIn(dataDir, to, lock.uuid);
  try {
    await fs.rename(from, dest);
  } catch (err) {
    throw new RktError('POD_STATE', `cannot move pod ${lock.uuid} from ${lock.stateDir}/ to ${to}/: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  await fsyncDir(podStateDir(dataDir, to));
  lock.stateDir = to;
}

/** Renames a pod without holding its lock (gc marking); false when another process moved it first. */
export async function moveUnlocked(dataDir: string, uuid: string, from: PodStateDir, to: PodStateDir): Promise<boolean> {
  try {
    await fs.rename(podDirIn(dataDir, from, uuid), podDirIn(dataDir, to, uuid));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw new RktError('POD_STATE', `cannot move pod ${uuid} from ${from}/ to ${to}/: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  await fsyncDir(podStateDir(dataDir, to));
  return true;
}

export function podLockDir(dataDir: string, lock: PodLock): string {
  return podDirIn(dataDir, lock.stateDir, lock.uuid);
}

/** Drops the lock and closes the fd. */
export async function releasePod(lock: PodLock): Promise<void> {
  try {
    flock(lock.fd, LOCK_UN);
  } catch {
    // closing releases it anyway
  }
  await lock.handle.close().catch(() => undefined);
}

/** Downgrades nothing, just proves a shared lock can be had now (used by `status --wait`). */
export async function waitUnlocked(dir: string, pollMs: number, deadline: number | undefined): Promise<boolean> {
  for (;;) {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(dir, O_DIR_FLAGS);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return true;
      throw err;
    }
    try {
      if (flock(fh.fd, LOCK_SH | LOCK_NB)) return true;
    } finally {
      await fh.close();
    }
    if (deadline !== undefined && Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
