// Files a pod writes and stage0 reads (exit statuses, run history, start marks under stage1/rootfs/rkt/):
// whoever controls the pod tree (a kvm guest through its shared root, root in an nspawn pod) may plant a
// symlink to a host file, a FIFO that blocks the reader, a device, or a huge file there. These readers
// follow no symlink below the pod directory, open nothing but regular files, never block, and read a
// bounded amount; anything else reads as absent.
import { constants as C, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, RktError } from './errors.js';

/** What a status or start file may hold; a history grows by one short line per run. */
export const STATUS_FILE_MAX = 4096;
export const HISTORY_FILE_MAX = 1 << 20;

const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENXIO', 'EISDIR', 'EACCES', 'EPERM']);

/**
 * Opens `rel` below `podDir` one component at a time, each through the directory opened before it (as
 * openat(2) would: /proc/self/fd/N names the open directory itself, so a component swapped for a symlink
 * meanwhile is still not followed). Resolves to undefined when a component is missing, a symlink or not
 * a directory, or the file is not a regular file.
 */
async function openBelow(podDir: string, rel: string): Promise<{ handle: fs.FileHandle; stat: Stats } | undefined> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new Error(`not a path below the pod: ${rel}`);
  let dir: fs.FileHandle | undefined;
  try {
    dir = await fs.open(podDir, C.O_RDONLY | C.O_DIRECTORY);
    for (const [i, name] of parts.entries()) {
      const last = i === parts.length - 1;
      const at = `/proc/self/fd/${dir.fd}/${name}`;
      // Not even opened unless it is a plain file now (opening a device can act on it); fstat below
      // catches one swapped in between.
      if (last && !(await fs.lstat(at)).isFile()) {
        await dir.close();
        return undefined;
      }
      const flags = C.O_RDONLY | C.O_NOFOLLOW | C.O_NOCTTY | C.O_NONBLOCK | (last ? 0 : C.O_DIRECTORY);
      const next = await fs.open(at, flags);
      await dir.close();
      dir = next;
    }
    const st = await dir.stat();
    if (!st.isFile()) {
      await dir.close();
      return undefined;
    }
    const handle = dir;
    dir = undefined;
    return { handle, stat: st };
  } catch (err) {
    await dir?.close().catch(() => undefined);
    if (ABSENT.has(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
}

function relativeTo(podDir: string, file: string): string {
  const rel = path.relative(podDir, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${file} is not below ${podDir}`);
  return rel;
}

/** The file's text and mtime, or undefined when it is absent, not a plain file, or over `maxBytes`. */
export async function readPodWrittenFile(podDir: string, file: string, maxBytes = STATUS_FILE_MAX): Promise<{ text: string; mtime: Date } | undefined> {
  const opened = await openBelow(podDir, relativeTo(podDir, file));
  if (opened === undefined) return undefined;
  const { handle: h, stat: st } = opened;
  try {
    if (st.size > maxBytes) return undefined;
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const r = await h.read(buf, n, buf.length - n, n);
      if (r.bytesRead === 0) break;
      n += r.bytesRead;
      if (n > maxBytes) return undefined; // it grew while read
    }
    return { text: buf.subarray(0, n).toString('utf8'), mtime: st.mtime };
  } finally {
    await h.close();
  }
}

/** The file's mtime, with readPodWrittenFile's rules (nothing followed, plain files only). */
export async function podWrittenMtime(podDir: string, file: string): Promise<Date | undefined> {
  const opened = await openBelow(podDir, relativeTo(podDir, file));
  if (opened === undefined) return undefined;
  await opened.handle.close();
  return opened.stat.mtime;
}

/**
 * Refuses to act on `rel` below `root` when a directory on the way is a symlink (or not a directory): the
 * pod may have pointed `etc/systemd/system` or `rkt/status` at a host directory, and a write, rename or
 * remove there would then land on the host. Components that do not exist yet are fine (mkdir makes real
 * ones). The last component itself is the caller's: rm and rename act on a symlink, not on its target.
 * A kvm guest racing this check between it and the operation is the one gap (node has no openat); reads
 * (readPodWrittenFile) have none.
 */
export async function refuseLinksBelow(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new RktError('INTERNAL', `not a path below the pod root: ${rel}`);
  let at = root;
  for (const name of parts.slice(0, -1)) {
    at = path.join(at, name);
    let st;
    try {
      st = await fs.lstat(at);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    if (!st.isDirectory()) {
      throw new RktError('POD_INVALID', `the pod's tree was tampered with: ${path.relative(root, at)} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}, refusing to write below it`, {
        hint: 'something inside the pod replaced it; remove the pod (rkt stop, rkt rm) and inspect what it ran',
      });
    }
  }
}

/** Writes `content` to `file` below `root` through a fresh temporary file and a rename, following no symlink. */
export async function replacePodFile(root: string, file: string, content: string, mode = 0o644): Promise<void> {
  const rel = relativeTo(root, file);
  await refuseLinksBelow(root, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await refuseLinksBelow(root, rel);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.rkt-tmp`);
  await fs.rm(tmp, { force: true }); // a planted one is unlinked, never written through
  // The file it replaces keeps its owner (a user-namespaced pod's files belong to its shifted ids).
  const old = await fs.lstat(file).catch(() => undefined);
  const h = await fs.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode);
  try {
    await h.writeFile(content);
    await h.chmod(mode); // the umask applied to open's mode
    if (old?.isFile() === true && (old.uid !== process.getuid?.() || old.gid !== process.getgid?.())) await h.chown(old.uid, old.gid);
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}
