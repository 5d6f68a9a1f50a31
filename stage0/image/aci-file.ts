// Writes an ACI file as one atomic step: the tar (manifest, then rootfs/ from a tree) goes to a temp file
// beside OUT, which then replaces OUT (--overwrite) or is linked in only where OUT does not exist, so a
// crash or kill never leaves a half-written OUT and an OUT made meanwhile is never clobbered.
import fs from 'node:fs';
import { link, lstat, rename, rm } from 'node:fs/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { RktError, describeCause, errnoCode } from '../../common/errors.js';
import { addEntry, packRootfs, type PackPolicy } from './pack-tree.js';

export interface AciFileOptions {
  /** The manifest's bytes, stored as given. */
  manifest: Buffer;
  /** The directory that becomes `rootfs/`. */
  rootfs: string;
  compression: 'none' | 'gzip';
  overwrite: boolean;
  policy: PackPolicy;
}

function exists(out: string): RktError {
  return new RktError('USAGE', `${out} already exists`, { hint: 'use --overwrite to replace it', exitCode: 254 });
}

/** Refuses an existing OUT unless overwriting: call it before any slow work, writeAciFile checks again. */
export async function refuseExistingOutput(out: string, overwrite: boolean): Promise<void> {
  if (!overwrite && (await lstat(out).catch(() => undefined))) throw exists(out);
}

/** Puts the finished temp file in place of OUT. */
async function commit(tmp: string, out: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(tmp, out);
    return;
  }
  try {
    await link(tmp, out);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw exists(out);
    // a file system without hardlinks: the check-then-rename is the best it allows
    if (errnoCode(err) !== 'EPERM' && errnoCode(err) !== 'ENOTSUP' && errnoCode(err) !== 'EOPNOTSUPP') throw err;
    await refuseExistingOutput(out, false);
    await rename(tmp, out);
    return;
  }
  await rm(tmp, { force: true });
}

export async function writeAciFile(out: string, o: AciFileOptions): Promise<void> {
  await refuseExistingOutput(out, o.overwrite);
  const tmp = `${out}.tmp-${process.pid}`;
  const file = fs.createWriteStream(tmp, { mode: 0o644 });
  const pack = tar.pack();
  const sinkDone = new Promise<void>((resolve, reject) => {
    file.on('error', reject);
    file.on('close', resolve);
    pack.on('error', reject);
  });
  // the promise is awaited only on success; a failure below must not also surface as unhandled
  sinkDone.catch(() => undefined);
  if (o.compression === 'gzip') {
    // Node's gzip header carries no mtime or file name, so the same tar gives the same bytes.
    const gz = zlib.createGzip({ level: 9 });
    gz.on('error', (e) => file.destroy(e));
    pack.pipe(gz).pipe(file);
  } else {
    pack.pipe(file);
  }
  try {
    await addEntry(pack, { name: 'manifest', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: o.manifest.length }, o.manifest);
    await packRootfs(pack, o.rootfs, o.policy);
    pack.finalize();
    await sinkDone;
    await commit(tmp, out, o.overwrite);
  } catch (err) {
    pack.destroy();
    file.destroy();
    await rm(tmp, { force: true });
    if (err instanceof RktError) throw err;
    throw new RktError('IMAGE_INVALID', `cannot write ${out}: ${describeCause(err)}`, { cause: err });
  }
}
