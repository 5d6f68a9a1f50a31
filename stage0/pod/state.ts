// Pod state = the directory the pod is in x whether its directory is flock'ed; no database.
// Probing takes a non-blocking shared lock: if it would block, someone (stage0 or stage1) holds it.
import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import { errnoCode, RktError } from '../../common/errors.js';
import { flock, LOCK_NB, LOCK_SH, LOCK_UN } from '../../common/native.js';
import { POD_STATE_DIRS, podDirIn, type PodStateDir } from '../../common/pod-layout.js';

/** rkt's state names (also what `rkt list`/`status` print). */
export type PodStateName =
  | 'embryo'
  | 'preparing'
  | 'aborted prepare'
  | 'prepared'
  | 'running'
  | 'exited'
  | 'exited garbage'
  | 'exited deleting'
  | 'garbage'
  | 'deleting';

export interface PodSnapshot {
  readonly uuid: string;
  readonly stateDir: PodStateDir;
  /** Where the pod directory was when probed. */
  readonly dir: string;
  readonly state: PodStateName;
}

/** What a directory plus its lock status means. */
export function stateOf(stateDir: PodStateDir, locked: boolean): PodStateName {
  switch (stateDir) {
    case 'embryo':
      return 'embryo';
    case 'prepare':
      return locked ? 'preparing' : 'aborted prepare';
    case 'prepared':
      return 'prepared';
    case 'run':
      return locked ? 'running' : 'exited';
    case 'exited-garbage':
      return locked ? 'exited deleting' : 'exited garbage';
    case 'garbage':
      return locked ? 'deleting' : 'garbage';
  }
}

export const O_DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY;

/** ctime of the pod dir: a rename updates it, so it is when the pod entered its current dir. */
export async function enteredAt(dir: string): Promise<number | undefined> {
  try {
    return (await fs.stat(dir)).ctimeMs;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Is the directory flock'ed by someone else? Throws ENOENT-coded errors through. */
export async function isDirLocked(dir: string): Promise<boolean> {
  const fh = await fs.open(dir, O_DIR_FLAGS);
  try {
    const got = flock(fh.fd, LOCK_SH | LOCK_NB);
    if (got) flock(fh.fd, LOCK_UN);
    return !got;
  } finally {
    await fh.close();
  }
}

/**
 * Finds the pod and its state. Directories are tried in transition order, so a pod renamed while we look
 * is found further on; an ENOENT on open means it just moved, and we look again.
 */
export async function probePod(dataDir: string, uuid: string): Promise<PodSnapshot | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let vanished = false;
    for (const stateDir of POD_STATE_DIRS) {
      const dir = podDirIn(dataDir, stateDir, uuid);
      try {
        const locked = stateDir === 'embryo' || stateDir === 'prepared' ? false : await isDirLocked(dir);
        if (stateDir === 'embryo' || stateDir === 'prepared') await fs.access(dir);
        return { uuid, stateDir, dir, state: stateOf(stateDir, locked) };
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          vanished = true;
          continue;
        }
        throw new RktError('POD_INVALID', `cannot read pod ${uuid} in ${dir}: ${code ?? String(err)}`, { cause: err });
      }
    }
    if (!vanished) break;
    // Not found anywhere: it may have moved from a later-checked dir to an earlier one (never
    // happens with our transitions) or be gone. One more pass settles the common race.
    if (attempt >= 1) break;
  }
  return undefined;
}

export async function requirePod(dataDir: string, uuid: string): Promise<PodSnapshot> {
  const p = await probePod(dataDir, uuid);
  if (!p) throw new RktError('POD_NOT_FOUND', `no pod with uuid ${uuid}`, { hint: 'see "rkt list"' });
  return p;
}
