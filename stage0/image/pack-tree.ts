// Walks a directory tree into tar entries under "rootfs/" without ever following a symlink: links stay
// links, hardlinks become tar links, fifos and (when asked) device nodes become their own entries, and
// files are opened O_NOFOLLOW and checked to be the inode that was listed. Used by `image build` and
// `rkt export`; the caller decides mtimes, owners and whether device nodes are kept.
import fs, { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type tar from 'tar-stream';
import { RktError } from '../../common/errors.js';

export interface PackPolicy {
  /** `zero`: every mtime is the epoch (reproducible builds); `keep`: the tree's own. */
  mtimes: 'zero' | 'keep';
  /** `keep`: char/block devices become tar entries; `skip`: they are left out and reported to onSkip. */
  devices: 'keep' | 'skip';
  /** Maps an on-disk owner to the one recorded in the tar (throw an RktError to refuse the entry). */
  owner?: (uid: number, gid: number, entryName: string) => { uid: number; gid: number };
  /** Told about entries left out (sockets; device nodes under `devices: 'skip'`). */
  onSkip?: (entryName: string, why: 'socket' | 'device node') => void;
  /** Told about every device node kept. */
  onDevice?: (entryName: string) => void;
}

/** What tar-stream takes for one entry: its name and any other header fields. */
export type EntryHeader = Partial<tar.Header> & { name: string };

/** Largest uid/gid a ustar header holds (7 octal digits). */
export const TAR_MAX_ID = 0o777777;
const EPOCH = new Date(0);

/** Adds one entry and waits until tar-stream has taken it. */
export async function addEntry(pack: tar.Pack, header: EntryHeader, body?: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (body) pack.entry(header, body, cb);
    else pack.entry(header, cb);
  });
}

/** Linux's dev_t split (glibc's gnu_dev_major/minor). */
function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const big = BigInt(rdev);
  const major = ((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn);
  const minor = (big & 0xffn) | ((big >> 12n) & ~0xffn);
  return { devmajor: Number(major), devminor: Number(minor) };
}

interface Walk {
  readonly pack: tar.Pack;
  readonly policy: PackPolicy;
  /** dev:ino of regular files with several links -> the entry name that holds their content. */
  readonly inodes: Map<string, string>;
}

function baseHeader(w: Walk, st: fs.Stats, full: string, name: string): EntryHeader {
  const ids = w.policy.owner ? w.policy.owner(st.uid, st.gid, name) : { uid: st.uid, gid: st.gid };
  if (ids.uid > TAR_MAX_ID || ids.gid > TAR_MAX_ID || ids.uid < 0 || ids.gid < 0) {
    throw new RktError('IMAGE_INVALID', `cannot write image: ${full} is owned by ${ids.uid}:${ids.gid}, outside the tar limit of 0..${TAR_MAX_ID}`);
  }
  const mtime = w.policy.mtimes === 'zero' ? EPOCH : new Date(Math.floor(st.mtimeMs / 1000) * 1000);
  return { name, mode: st.mode & 0o7777, uid: ids.uid, gid: ids.gid, mtime, uname: '', gname: '' };
}

/**
 * Streams a regular file's content: opened without following a symlink and without blocking on a fifo,
 * and refused unless it is still the regular file lstat saw (a tree changed under us is not exported).
 */
async function addFile(w: Walk, header: EntryHeader, full: string, st: fs.Stats): Promise<void> {
  const fh = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const now = await fh.stat();
    if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev || now.size !== st.size) {
      throw new RktError('IMAGE_INVALID', `cannot write image: ${full} changed while it was read`, { hint: 'make sure nothing writes to the tree, then retry' });
    }
    await new Promise<void>((resolve, reject) => {
      const sink = w.pack.entry({ ...header, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
      if (st.size === 0) {
        sink.end(Buffer.alloc(0));
        return;
      }
      const rs = fh.createReadStream({ start: 0, end: st.size - 1, autoClose: false });
      rs.on('error', (e) => {
        sink.destroy(e);
        reject(e);
      });
      rs.pipe(sink);
    });
  } finally {
    await fh.close();
  }
}

async function addPath(w: Walk, full: string, name: string): Promise<void> {
  const st = await lstat(full);
  const header = baseHeader(w, st, full, name);
  if (st.isDirectory()) {
    await addEntry(w.pack, { ...header, type: 'directory' });
    for (const child of (await readdir(full)).sort()) await addPath(w, path.join(full, child), `${name}/${child}`);
  } else if (st.isSymbolicLink()) {
    await addEntry(w.pack, { ...header, type: 'symlink', linkname: await readlink(full) });
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1 ? w.inodes.get(key) : undefined;
    if (first !== undefined) {
      await addEntry(w.pack, { ...header, type: 'link', linkname: first });
      return;
    }
    if (st.nlink > 1) w.inodes.set(key, name);
    await addFile(w, header, full, st);
  } else if (st.isFIFO()) {
    await addEntry(w.pack, { ...header, type: 'fifo' });
  } else if ((st.isCharacterDevice() || st.isBlockDevice()) && w.policy.devices === 'keep') {
    w.policy.onDevice?.(name);
    await addEntry(w.pack, { ...header, type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
  } else {
    w.policy.onSkip?.(name, st.isSocket() ? 'socket' : 'device node');
  }
}

/** Writes `rootfs` (the directory `dir` itself) and everything below it, depth first in sorted order. */
export async function packRootfs(pack: tar.Pack, dir: string, policy: PackPolicy): Promise<void> {
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new RktError('IMAGE_INVALID', `cannot write image: ${dir} is not a directory`);
  await addPath({ pack, policy, inodes: new Map() }, dir, 'rootfs');
}
