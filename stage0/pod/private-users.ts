// --private-users: allocates a 65536-wide UID/GID range that no other pod on this data dir holds.
// The record is the pod's own `private-users-prepared` file, so deleting the pod frees the range;
// allocation scans all pods under an exclusive lock on `<dir>/locks/private-users`.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, RktError } from '../../common/errors.js';
import { flock, LOCK_EX, LOCK_UN } from '../../common/native.js';
import { locksDir, podDirIn, POD_STATE_DIRS, privateUsersPath } from '../../common/pod-layout.js';
import { parsePrivateUsers } from '../../common/stage1-contract.js';
import { listPodUuids } from './uuid.js';

export const USERNS_COUNT = 0x10000;
/** Slots are multiples of 65536 in [65536, 0x7fff0000]: the top bit stays clear (devpts parses ids as signed). */
const FIRST_SLOT = 1;
const LAST_SLOT = 0x7fff;

export interface UidRange {
  shift: number;
  count: number;
}

async function withAllocatorLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  await fs.mkdir(locksDir(dataDir), { recursive: true, mode: 0o750 });
  const fh = await fs.open(path.join(locksDir(dataDir), 'private-users'), 'a');
  try {
    flock(fh.fd, LOCK_EX);
    return await fn();
  } finally {
    try {
      flock(fh.fd, LOCK_UN);
    } finally {
      await fh.close();
    }
  }
}

/** Ranges recorded by all pods (in any state). */
export async function usedRanges(dataDir: string): Promise<UidRange[]> {
  const out: UidRange[] = [];
  for (const uuid of await listPodUuids(dataDir)) {
    for (const s of POD_STATE_DIRS) {
      try {
        out.push(parsePrivateUsers(await fs.readFile(privateUsersPath(podDirIn(dataDir, s, uuid)), 'utf8')));
        break;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') continue;
        break; // unreadable record: ignore it rather than block allocation
      }
    }
  }
  return out;
}

function overlaps(a: UidRange, b: UidRange): boolean {
  return a.shift < b.shift + b.count && b.shift < a.shift + a.count;
}

/** Picks a free range and writes it to the pod dir (which must exist), all under the allocator lock. */
export async function allocatePrivateUsers(dataDir: string, podDir: string): Promise<UidRange> {
  return withAllocatorLock(dataDir, async () => {
    const used = await usedRanges(dataDir);
    const slots = LAST_SLOT - FIRST_SLOT + 1;
    // Start at a random slot (so data dirs on one host rarely pick alike) and walk to the first free one.
    const start = crypto.randomInt(slots);
    for (let i = 0; i < slots; i++) {
      const slot = FIRST_SLOT + ((start + i) % slots);
      const r: UidRange = { shift: slot * USERNS_COUNT, count: USERNS_COUNT };
      if (used.some((u) => overlaps(u, r))) continue;
      await fs.writeFile(privateUsersPath(podDir), `${r.shift}:${r.count}`);
      return r;
    }
    throw new RktError('POD_STATE', 'cannot allocate a user namespace range: all ranges are in use', { hint: 'remove exited pods with "rkt gc"' });
  });
}

export async function readPrivateUsers(podDir: string): Promise<UidRange | undefined> {
  try {
    return parsePrivateUsers(await fs.readFile(privateUsersPath(podDir), 'utf8'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Checks the kernel offers user namespaces. */
export async function checkUsernsSupport(): Promise<void> {
  try {
    await fs.access('/proc/self/uid_map');
  } catch {
    throw new RktError('POD_STATE', '--private-users: kernel compiled without user namespace support');
  }
}
