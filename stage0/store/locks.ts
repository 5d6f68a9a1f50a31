// Advisory flock(2) locks on files under cas/locks/, taken without blocking the event loop (polled with
// LOCK_NB), so two imports in one process wait for each other instead of deadlocking. A holder may
// unlink its lock file (when the thing it guards is gone); takers re-check after locking that the file
// they locked is still the one at the path, so an unlinked lock is never mistaken for a held one.
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { flock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from '../../common/native.js';

export type LockMode = 'shared' | 'exclusive';

export interface HeldLock {
  /** Removes the lock file while it is held (call only when what it guards is gone). */
  unlinkFile(): Promise<void>;
}

async function stillCurrent(fh: FileHandle, lockFile: string): Promise<boolean> {
  const [a, b] = await Promise.all([fh.stat(), stat(lockFile).catch(() => undefined)]);
  return b !== undefined && a.ino === b.ino && a.dev === b.dev;
}

export interface WaitOptions {
  /** Called once, when the lock is found held elsewhere and this taker starts to wait. */
  onWait?: () => void;
}

async function acquire(lockFile: string, mode: LockMode, wait: false | WaitOptions): Promise<FileHandle | undefined> {
  const op = (mode === 'exclusive' ? LOCK_EX : LOCK_SH) | LOCK_NB;
  let delay = 2;
  let told = false;
  for (;;) {
    const fh = await open(lockFile, 'a', 0o600);
    try {
      while (!flock(fh.fd, op)) {
        if (wait === false) {
          await fh.close();
          return undefined;
        }
        if (!told) {
          told = true;
          wait.onWait?.();
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 100);
      }
      if (await stillCurrent(fh, lockFile)) return fh;
      // The holder unlinked the file while we waited: let go and lock the file now at the path.
      flock(fh.fd, LOCK_UN);
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }
}

async function release(fh: FileHandle): Promise<void> {
  flock(fh.fd, LOCK_UN);
  await fh.close();
}

export async function withLock<T>(lockFile: string, mode: LockMode, fn: (lock: HeldLock) => Promise<T>, wait: WaitOptions = {}): Promise<T> {
  const fh = (await acquire(lockFile, mode, wait)) as FileHandle;
  try {
    return await fn({ unlinkFile: () => unlink(lockFile).catch(() => {}) });
  } finally {
    await release(fh);
  }
}

/** Tries once; returns undefined when the lock is held elsewhere. */
export async function tryWithLock<T>(lockFile: string, mode: LockMode, fn: (lock: HeldLock) => Promise<T>): Promise<T | undefined> {
  const fh = await acquire(lockFile, mode, false);
  if (!fh) return undefined;
  try {
    return await fn({ unlinkFile: () => unlink(lockFile).catch(() => {}) });
  } finally {
    await release(fh);
  }
}
