// The store's prepare lock (cas/locks/prepare.lock), rkt's prepareLock: a pod that is taking images from
// the store holds it shared from resolving its images until its pod dir records every image, tree and
// OCI layer it uses (and its overlays are mounted); `image gc` and `image rm` hold it exclusive while they
// decide and delete. Shared holders never wait for each other, so prepares run in parallel; gc and rm
// only ever see pods that are either not started or fully recorded. It is an flock: a holder killed with
// SIGKILL drops it with its last fd, so it is never stale.
import { withLock, type LockMode } from './locks.js';
import { prepareLockFile, type StoreLayout } from './layout.js';

/** What a waiter is waiting for, for its --debug line: only the other mode can hold it up. */
function waitingLine(mode: LockMode, file: string): string {
  return mode === 'shared'
    ? `waiting for the store's prepare lock ${file}: an "image gc" or "image rm" is removing images`
    : `waiting for the store's prepare lock ${file}: a prepare, run or app add is taking images from the store`;
}

/**
 * Runs `fn` holding the prepare lock; `onWait` gets one line if the lock is held in the other mode and
 * this call has to wait. One process must not nest two holds: each is its own open file, and an
 * exclusive hold would wait for the process's own shared one.
 */
export async function withPrepareLock<T>(layout: StoreLayout, mode: LockMode, onWait: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const file = prepareLockFile(layout);
  return withLock(file, mode, () => fn(), { onWait: () => onWait(waitingLine(mode, file)) });
}
