// Builds an ACI from a directory holding `manifest` and `rootfs/`, reproducibly: entries in sorted order,
// every mtime 0, numeric owners only (no user/group names), modes as on disk; same tree -> same bytes.
import fs from 'node:fs';
import { lstat, readdir, readFile, readlink, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';
import { parseManifestBytes } from './scan.js';
import { DEFAULT_LIMITS } from './limits.js';

export interface BuildOptions {
  compression: 'none' | 'gzip';
  overwrite: boolean;
  /** Told about files left out (device nodes, sockets). */
  onSkip?: (relPath: string, why: string) => void;
}

const EPOCH = new Date(0);

export async function buildAci(srcDir: string, outFile: string, opts: BuildOptions): Promise<void> {
  const manifestPath = path.join(srcDir, 'manifest');
  let raw: Buffer;
  try {
    raw = await readFile(manifestPath);
  } catch (err) {
    throw new RktError('IMAGE_INVALID', `cannot build image: cannot read ${manifestPath}: ${errnoCode(err) ?? describeCause(err)}`, {
      hint: 'the directory must hold a "manifest" file and a "rootfs/" directory',
    });
  }
  if (raw.length > DEFAULT_LIMITS.maxManifestBytes) {
    throw new RktError('IMAGE_INVALID', `cannot build image: manifest is larger than ${DEFAULT_LIMITS.maxManifestBytes} bytes`);
  }
  parseManifestBytes(raw, manifestPath);
  const rootfs = path.join(srcDir, 'rootfs');
  const rst = await lstat(rootfs).catch(() => undefined);
  if (!rst?.isDirectory()) {
    throw new RktError('IMAGE_INVALID', `cannot build image: ${rootfs} is not a directory`, {
      hint: 'the directory must hold a "manifest" file and a "rootfs/" directory',
    });
  }
  if (!opts.overwrite && (await stat(outFile).catch(() => undefined))) {
    throw new RktError('USAGE', `cannot build image: ${outFile} already exists`, { hint: 'use --overwrite to replace it', exitCode: 254 });
  }

  const tmp = `${outFile}.tmp-${process.pid}`;
  const out = fs.createWriteStream(tmp, { mode: 0o644 });
  const pack = tar.pack();
  const sinkDone = new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.on('close', resolve);
    pack.on('error', reject);
  });
  if (opts.compression === 'gzip') {
    // Node's gzip header carries no mtime or file name, so the output stays reproducible.
    const gz = zlib.createGzip({ level: 9 });
    gz.on('error', (e) => out.destroy(e));
    pack.pipe(gz).pipe(out);
  } else {
    pack.pipe(out);
  }
  try {
    await addEntry(pack, { name: 'manifest', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: EPOCH, size: raw.length }, raw);
    await addEntry(pack, { name: 'rootfs', type: 'directory', mode: rst.mode & 0o7777, uid: rst.uid, gid: rst.gid, mtime: EPOCH });
    await walk(pack, rootfs, 'rootfs', new Map(), opts);
    pack.finalize();
    await sinkDone;
    await rename(tmp, outFile);
  } catch (err) {
    pack.destroy();
    out.destroy();
    await rm(tmp, { force: true });
    if (err instanceof RktError) throw err;
    throw new RktError('IMAGE_INVALID', `cannot build image from ${srcDir}: ${describeCause(err)}`, { cause: err });
  }
}

async function addEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry(header, body, cb);
    else pack.entry(header, cb);
  });
}

async function walk(pack: tar.Pack, dir: string, name: string, inodes: Map<string, string>, opts: BuildOptions): Promise<void> {
  const children = (await readdir(dir)).sort();
  for (const child of children) {
    const full = path.join(dir, child);
    const entryName = `${name}/${child}`;
    const st = await lstat(full);
    if (st.uid > 0o777777 || st.gid > 0o777777) {
      throw new RktError('IMAGE_INVALID', `cannot build image: ${full} is owned by ${st.uid}:${st.gid}, above the tar limit of ${0o777777}`);
    }
    const base = { name: entryName, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: EPOCH, uname: '', gname: '' };
    if (st.isDirectory()) {
      await addEntry(pack, { ...base, type: 'directory' });
      await walk(pack, full, entryName, inodes, opts);
    } else if (st.isSymbolicLink()) {
      await addEntry(pack, { ...base, type: 'symlink', linkname: await readlink(full) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        await addEntry(pack, { ...base, type: 'link', linkname: first });
        continue;
      }
      if (st.nlink > 1) inodes.set(key, entryName);
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
        const rs = fs.createReadStream(full);
        rs.on('error', (e) => {
          sink.destroy(e);
          reject(e);
        });
        rs.pipe(sink);
      });
    } else if (st.isFIFO()) {
      await addEntry(pack, { ...base, type: 'fifo' });
    } else {
      opts.onSkip?.(entryName, st.isSocket() ? 'socket' : 'device node');
    }
  }
}
