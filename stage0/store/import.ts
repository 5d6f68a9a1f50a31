// Importing an ACI: scan it into a work dir (blob + manifest + info), then publish the dir with one rename
// under the image's lock. A refused or interrupted import leaves only a work dir that is swept later.
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';
import { scanAci } from '../image/scan.js';
import type { ImageLimits } from '../image/limits.js';
import { fsyncPath, makeWorkDir, writeFileAtomic } from './fsutil.js';
import { withLock } from './locks.js';
import { imageDir, imageLockFile, infoFile, type StoreLayout } from './layout.js';
import { readInfo, serializeInfo, type ImageInfo } from './info.js';

export interface ImportMeta {
  name?: string;
  origin?: string;
  etag?: string;
  cacheMaxAge?: number;
  signatureVerified?: boolean;
}

function applyMeta(info: ImageInfo, meta: ImportMeta): void {
  if (meta.origin !== undefined) info.origin = meta.origin;
  if (meta.etag !== undefined) info.etag = meta.etag;
  if (meta.cacheMaxAge !== undefined) info.cacheMaxAge = meta.cacheMaxAge;
  if (meta.signatureVerified !== undefined) info.signatureVerified = meta.signatureVerified;
}

export async function importAci(layout: StoreLayout, aciPath: string, meta: ImportMeta, limits?: ImageLimits): Promise<string> {
  const st = await stat(aciPath).catch((err: unknown) => {
    throw new RktError('IMAGE_NOT_FOUND', `cannot import ${aciPath}: ${errnoCode(err) ?? describeCause(err)}`, { cause: err });
  });
  if (!st.isFile()) throw new RktError('IMAGE_INVALID', `cannot import ${aciPath}: not a regular file`);

  const work = await makeWorkDir(layout.tmp, 'import');
  try {
    const blob = await open(path.join(work, 'blob'), 'wx', 0o600);
    let scan;
    try {
      scan = await scanAci(aciPath, limits ? { copyTo: blob, limits } : { copyTo: blob });
      await blob.sync();
    } finally {
      await blob.close();
    }
    const now = new Date();
    const labels: Record<string, string> = {};
    for (const l of scan.manifest.labels) labels[l.name] = l.value;
    const info: ImageInfo = { id: scan.id, name: meta.name ?? scan.manifest.name, labels, importTime: now, lastUsed: now, size: scan.tarBytes };
    applyMeta(info, meta);
    await writeFileAtomic(path.join(work, 'manifest'), scan.manifestRaw, 0o644);
    await writeFileAtomic(path.join(work, 'info.json'), serializeInfo(info), 0o644);
    await fsyncPath(work);

    await withLock(imageLockFile(layout, scan.id), 'exclusive', async () => {
      const existing = await readInfo(infoFile(layout, scan.id));
      if (existing) {
        // Same bytes already stored: keep the blob, refresh what the caller knows about where it came from.
        applyMeta(existing, meta);
        if (meta.name !== undefined) existing.name = meta.name;
        await writeFileAtomic(infoFile(layout, scan.id), serializeInfo(existing));
        return;
      }
      // A dir without info.json is impossible after a rename; clear any such leftover defensively.
      await rm(imageDir(layout, scan.id), { recursive: true, force: true });
      await rename(work, imageDir(layout, scan.id));
      await fsyncPath(layout.images);
    });
    return scan.id;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
