// Reads files of an app image from the host side without letting the image's symlinks escape its root:
// every path is resolved component by component as if the root were "/" (like chroot would).
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from './errors.js';
import { replacePodFile } from './pod-written-file.js';

const MAX_SYMLINKS = 40;

/**
 * Resolves `p` (absolute, inside the image) to a host path under `root`, following symlinks inside
 * the root only. Returns undefined when a component does not exist.
 */
export async function resolveInRoot(root: string, p: string): Promise<string | undefined> {
  const pending = p.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift() as string;
    if (c === '..') {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, c);
    let st;
    try {
      st = await fs.lstat(host);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    if (!st.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) return undefined;
    const target = await fs.readlink(host);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
  }
  return path.join(root, ...done);
}

/** Reads a text file of the image, or returns undefined when it is missing. */
export async function readFileInRoot(root: string, p: string): Promise<string | undefined> {
  const host = await resolveInRoot(root, p);
  if (host === undefined) return undefined;
  try {
    return await fs.readFile(host, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'EISDIR') return undefined;
    throw err;
  }
}

/** Owner of a path of the image (not following a final symlink out of the root). */
export async function statInRoot(root: string, p: string): Promise<{ uid: number; gid: number } | undefined> {
  const host = await resolveInRoot(root, p);
  if (host === undefined) return undefined;
  const st = await fs.lstat(host);
  return { uid: st.uid, gid: st.gid };
}

/**
 * Creates directory `p` of the image (mode 0755, like a volume's mount point), each missing component under
 * its parent as resolved inside the root, so a symlink in the image cannot send the mkdir out of it.
 */
export async function ensureDirInRoot(root: string, p: string): Promise<void> {
  let parent = root;
  let sofar = '';
  for (const part of p.split('/').filter((x) => x !== '' && x !== '.')) {
    if (part === '..') throw new Error(`path "${p}" leaves the image`);
    sofar += `/${part}`;
    const found = await resolveInRoot(root, sofar);
    if (found !== undefined) {
      parent = found;
      continue;
    }
    const made = path.join(parent, part);
    await fs.mkdir(made, { mode: 0o755 });
    parent = made;
  }
}

/** Like ensureDirInRoot, but the last component is an empty file (a mount point for a file). */
export async function ensureFileInRoot(root: string, p: string): Promise<void> {
  if ((await resolveInRoot(root, p)) !== undefined) return;
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  const name = parts.pop();
  if (name === undefined || name === '..') throw new Error(`path "${p}" names no file in the image`);
  const dir = `/${parts.join('/')}`;
  await ensureDirInRoot(root, dir);
  const parent = (await resolveInRoot(root, dir)) ?? root;
  await fs.writeFile(path.join(parent, name), '', { flag: 'a', mode: 0o644 });
}

/**
 * Writes `content` to `rel` under a pod's tree with exactly `mode`, creating parent directories. Whatever
 * was there is removed first, so a symlink the image or stage1 carries (resolv.conf often is one) is
 * replaced, never written through.
 */
export async function replaceFileInRoot(root: string, rel: string, content: string, mode = 0o644): Promise<void> {
  await replacePodFile(root, path.join(root, rel), content, mode);
}
