// OCI images in the store: layer trees keyed by diff_id and shared by every image that has the layer,
// compressed blobs beside them, and the image dir (synthesised appc manifest, the OCI manifest and
// config as served, info.json). Same rules as ACIs: work dir + one rename, under flocks.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';
import { serializeImageManifest, type ImageManifest } from '../../common/appc/index.js';
import { digestHex as hexOf } from '../oci/digest.js';
import { fsyncPath, makeWorkDir, pathExists, removeViaTmp, writeFileAtomic } from './fsutil.js';
import { withLock } from './locks.js';
import { readInfo, serializeInfo, type ImageAlias, type ImageInfo, type OciImageInfo } from './info.js';
import {
  imageDir, imageLockFile, infoFile, layerDir, layerInfoFile, layerLockFile, layerRootfs, ociBlobFile, type StoreLayout,
} from './layout.js';

/** The store key of an OCI image: rkt's sha512- form over the manifest bytes, so IDs, prefixes and pod manifests stay appc. */
export function ociImageId(manifestBytes: Buffer): string {
  return `sha512-${createHash('sha512').update(manifestBytes).digest('hex').slice(0, 64)}`;
}



export interface LayerRecordJson {
  diffId: string;
  digest: string;
  mediaType: string;
  compressedSize: number;
  uncompressedSize: number;
}

export async function hasLayer(layout: StoreLayout, diffId: string): Promise<boolean> {
  return pathExists(layerInfoFile(layout, hexOf(diffId)));
}

/**
 * Makes sure the layer tree for `diffId` is in the store. `produce` fills a work dir's rootfs (and writes
 * the compressed blob to `blobTmp`); it runs only when the layer is missing, under the layer's lock, so
 * two fetches of images that share a layer unpack it once. A failed or killed produce leaves only a
 * work dir that the next openStore sweeps.
 */
export async function ensureLayer(
  layout: StoreLayout,
  diffId: string,
  produce: (work: { rootfs: string; blobTmp: string }) => Promise<Omit<LayerRecordJson, 'diffId'>>,
): Promise<'present' | 'unpacked'> {
  const hex = hexOf(diffId);
  if (await hasLayer(layout, diffId)) return 'present';
  await mkdir(layout.layers, { recursive: true, mode: 0o700 });
  await mkdir(path.join(layout.blobs, 'sha256'), { recursive: true, mode: 0o700 });
  return withLock(layerLockFile(layout, hex), 'exclusive', async () => {
    if (await hasLayer(layout, diffId)) return 'present';
    // A layer dir is published with its layer.json; one without it is debris from an older crash.
    await removeViaTmp(layerDir(layout, hex), layout.tmp);
    const work = await makeWorkDir(layout.tmp, 'layer');
    try {
      const rootfs = path.join(work, 'rootfs');
      // The unpacker fills an existing directory (and gives it the layer's root mode when it finishes).
      await mkdir(rootfs, { mode: 0o700 });
      const blobTmp = path.join(work, 'blob');
      const rec = await produce({ rootfs, blobTmp });
      await writeFileAtomic(path.join(work, 'layer.json'), JSON.stringify({ diffId, ...rec }, null, 1) + '\n');
      if (await pathExists(blobTmp)) {
        await rename(blobTmp, ociBlobFile(layout, hexOf(rec.digest)));
      }
      await rename(work, layerDir(layout, hex));
      await fsyncPath(layout.layers);
      return 'unpacked';
    } catch (err) {
      await removeViaTmp(work, layout.tmp).catch(() => {});
      throw err;
    }
  });
}

export interface OciImport {
  manifestBytes: Buffer;
  configBytes: Buffer;
  appManifest: ImageManifest;
  oci: OciImageInfo;
  name: string;
  labels: Record<string, string>;
  verifiedBy?: string;
  signatureVerified: boolean;
}

const sameAlias = (a: ImageAlias, b: ImageAlias): boolean =>
  a.name === b.name && a.reference === b.reference && a.labels['version'] === b.labels['version'];

/**
 * The newest name becomes the image's own; the name it had joins its aliases, so a second tag or registry of
 * the same manifest keeps answering by both (docker and CRI list every tag of one image).
 */
export function renamedAliases(existing: ImageInfo, next: ImageAlias): ImageAlias[] {
  const before: ImageAlias = { name: existing.name, labels: existing.labels, ...(existing.oci ? { reference: existing.oci.reference } : {}) };
  const all = [...(existing.aliases ?? []), before].filter((a) => !sameAlias(a, next));
  return all.filter((a, i) => all.findIndex((b) => sameAlias(a, b)) === i);
}

/** Publishes an OCI image whose layers are all in the store; idempotent like importAci. */
export async function importOciImage(layout: StoreLayout, imp: OciImport): Promise<string> {
  const id = ociImageId(imp.manifestBytes);
  for (const l of imp.oci.layers) {
    if (!(await hasLayer(layout, l.diffId))) throw new RktError('INTERNAL', `layer ${l.diffId} of ${imp.oci.reference} is missing from the store`);
  }
  const now = new Date();
  const size = imp.oci.layers.reduce((n, l) => n + l.size, 0);
  const info: ImageInfo = {
    id, name: imp.name, labels: imp.labels, importTime: now, lastUsed: now, size, origin: imp.oci.reference,
    signatureVerified: imp.signatureVerified, oci: imp.oci,
    ...(imp.verifiedBy !== undefined ? { verifiedBy: imp.verifiedBy } : {}),
  };
  const work = await makeWorkDir(layout.tmp, 'import');
  try {
    await writeFileAtomic(path.join(work, 'manifest'), serializeImageManifest(imp.appManifest));
    await writeFileAtomic(path.join(work, 'oci-manifest.json'), imp.manifestBytes);
    await writeFileAtomic(path.join(work, 'oci-config.json'), imp.configBytes);
    await writeFileAtomic(path.join(work, 'info.json'), serializeInfo(info));
    await fsyncPath(work);
    await withLock(imageLockFile(layout, id), 'exclusive', async () => {
      const existing = await readInfo(infoFile(layout, id));
      if (existing) {
        // The same manifest again (another tag, or a re-pull): keep it; a verified fetch upgrades the record,
        // an unverified one never downgrades it.
        existing.aliases = renamedAliases(existing, { name: imp.name, labels: imp.labels, reference: imp.oci.reference });
        existing.origin = imp.oci.reference;
        if (existing.oci) existing.oci.reference = imp.oci.reference;
        if (imp.signatureVerified) {
          existing.signatureVerified = true;
          if (imp.verifiedBy !== undefined) existing.verifiedBy = imp.verifiedBy;
        }
        existing.labels = imp.labels;
        existing.name = imp.name;
        await writeFileAtomic(infoFile(layout, id), serializeInfo(existing));
        return;
      }
      await rm(imageDir(layout, id), { recursive: true, force: true });
      await rename(work, imageDir(layout, id));
      await fsyncPath(layout.images);
    });
    return id;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The layer trees of an OCI image, upper first (overlayfs lowerdir order). */
export async function layerStack(layout: StoreLayout, info: ImageInfo): Promise<string[]> {
  if (!info.oci) throw new RktError('INTERNAL', `image ${info.id} is not an OCI image`);
  const out: string[] = [];
  for (const l of [...info.oci.layers].reverse()) {
    const hex = hexOf(l.diffId);
    if (!(await pathExists(layerInfoFile(layout, hex)))) {
      throw new RktError('STORE', `layer ${l.diffId} of image ${info.id} is missing from the store`, {
        hint: `fetch ${info.oci.reference} again`,
      });
    }
    out.push(layerRootfs(layout, hex));
  }
  return out;
}

export async function readLayerRecord(layout: StoreLayout, diffIdHex: string): Promise<LayerRecordJson | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(layerInfoFile(layout, diffIdHex), 'utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const r = v as Record<string, unknown>;
    if (typeof r['digest'] !== 'string' || typeof r['diffId'] !== 'string') return undefined;
    return {
      diffId: r['diffId'], digest: r['digest'], mediaType: String(r['mediaType'] ?? ''),
      compressedSize: Number(r['compressedSize'] ?? 0), uncompressedSize: Number(r['uncompressedSize'] ?? 0),
    };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    return undefined;
  }
}
