// Writes the rootfs of one or more stored (uncompressed) ACI tars into an empty directory, upper layer
// first: the first layer to provide a path wins, pathWhitelists filter, and nothing is ever written
// through a symlink or outside the target (every entry is re-checked with the import rules).
import fs from 'node:fs';
import { mkdir, open, symlink, link, lutimes, lchown, chmod, chown, utimes } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { RktError, describeCause } from '../../common/errors.js';
import { EntryChecker, type CheckedEntry, type EntryKind } from './entry-rules.js';
import { DEFAULT_LIMITS, extractedMode, type ImageLimits } from './limits.js';

const execFileP = promisify(execFile);

export interface Layer {
  /** Path of the uncompressed ACI tar. */
  readonly tarPath: string;
  /** Whitelists on this layer's branch (its own and its ancestors'), each a set of absolute paths. */
  readonly whitelists: readonly ReadonlySet<string>[];
  /** True for the image being rendered itself (directories are never filtered out of it). */
  readonly top: boolean;
}

export interface ExtractOptions {
  limits?: ImageLimits;
  /** Also write the top layer's manifest to this path. */
  manifestOut?: string;
}

interface DirMeta {
  readonly dest: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Date;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Extracts `layers` (upper first) so that `rootfsDir` (created, must not exist or be empty) holds the result. */
export async function extractLayers(layers: readonly Layer[], rootfsDir: string, opts: ExtractOptions = {}): Promise<void> {
  await mkdir(rootfsDir, { recursive: true, mode: 0o755 });
  const present = new Map<string, EntryKind>([['', 'directory']]);
  const dirs: DirMeta[] = [];
  for (const layer of layers) {
    await extractOne(layer, rootfsDir, present, dirs, opts);
  }
  // Directory metadata last, deepest first, so writing children did not disturb mtimes or permissions.
  dirs.sort((a, b) => b.dest.length - a.dest.length);
  for (const d of dirs) {
    if (asRoot) await chown(d.dest, d.uid, d.gid);
    await chmod(d.dest, extractedMode(d.mode, asRoot));
    await utimes(d.dest, d.mtime, d.mtime);
  }
}

function allowed(layer: Layer, rel: string, kind: EntryKind): boolean {
  if (layer.whitelists.length === 0) return true;
  if (layer.top && kind === 'directory') return true;
  const abs = `/${rel}`;
  return layer.whitelists.every((w) => w.size === 0 || w.has(abs));
}

async function extractOne(layer: Layer, root: string, present: Map<string, EntryKind>, dirs: DirMeta[], opts: ExtractOptions): Promise<void> {
  const checker = new EntryChecker(opts.limits ?? DEFAULT_LIMITS);
  const extract = tar.extract();
  const src = fs.createReadStream(layer.tarPath);
  src.on('error', (e) => extract.destroy(e));
  src.pipe(extract);
  try {
    for await (const entry of extract) {
      const e = checker.check(entry.header);
      if (e.name === 'manifest' || e.name === 'rootfs') {
        if (e.name === 'manifest' && layer.top && opts.manifestOut) await writeStream(entry, opts.manifestOut, 0o644);
        else entry.resume();
        continue;
      }
      const rel = e.name.slice('rootfs/'.length);
      if (present.has(rel) || !allowed(layer, rel, e.kind) || !(await ensureParents(root, rel, present))) {
        entry.resume();
        continue;
      }
      const dest = path.join(root, rel);
      await writeEntry(e, rel, dest, entry, root, present, dirs);
    }
    checker.finish();
  } catch (err) {
    src.destroy();
    if (err instanceof RktError) throw err;
    throw new RktError('STORE', `cannot extract image ${layer.tarPath}: ${describeCause(err)}`, { cause: err });
  }
}

/** Creates missing ancestors as plain directories; false when an ancestor is not a directory. */
async function ensureParents(root: string, rel: string, present: Map<string, EntryKind>): Promise<boolean> {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const anc = parts.slice(0, i).join('/');
    const k = present.get(anc);
    if (k === 'directory') continue;
    if (k !== undefined) return false;
    await mkdir(path.join(root, anc), { mode: 0o755 });
    present.set(anc, 'directory');
  }
  return true;
}

async function writeStream(entry: AsyncIterable<unknown>, dest: string, mode: number): Promise<void> {
  const fh = await open(dest, 'wx', mode);
  try {
    for await (const chunk of entry) await fh.write(chunk as Buffer);
  } finally {
    await fh.close();
  }
}

async function writeEntry(
  e: CheckedEntry,
  rel: string,
  dest: string,
  entry: AsyncIterable<unknown> & { resume(): unknown },
  root: string,
  present: Map<string, EntryKind>,
  dirs: DirMeta[],
): Promise<void> {
  const mode = extractedMode(e.mode, asRoot);
  switch (e.kind) {
    case 'directory':
      entry.resume();
      await mkdir(dest, { mode: 0o700 });
      dirs.push({ dest, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime });
      break;
    case 'file': {
      // "wx" is O_CREAT|O_EXCL: never follows or reuses an existing path.
      const fh = await open(dest, 'wx', 0o600);
      try {
        for await (const chunk of entry) await fh.write(chunk as Buffer);
        if (asRoot) await fh.chown(e.uid, e.gid);
        await fh.chmod(mode);
        await fh.utimes(e.mtime, e.mtime);
      } finally {
        await fh.close();
      }
      break;
    }
    case 'symlink':
      entry.resume();
      await symlink(e.linkname, dest);
      if (asRoot) await lchown(dest, e.uid, e.gid);
      await lutimes(dest, e.mtime, e.mtime);
      break;
    case 'link': {
      entry.resume();
      const targetRel = e.linkname.slice('rootfs/'.length);
      if (present.get(targetRel) !== 'file') return; // target filtered out or shadowed by a non-file
      await link(path.join(root, targetRel), dest);
      break;
    }
    case 'fifo':
      entry.resume();
      await execFileP('mkfifo', ['-m', (mode & 0o777).toString(8), '--', dest]);
      if (asRoot) await lchown(dest, e.uid, e.gid);
      break;
  }
  present.set(rel, e.kind === 'link' ? 'file' : e.kind);
}
