// The content-addressed image store under <dataDir>/cas/: no database, one directory per image, flock'ed
// lock files, every write temp+rename. Safe with several rkt processes at once and with kill -9 anywhere.
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';
import type { Dependency, ImageManifest } from '../../common/appc/index.js';
import { parseManifestBytes } from '../image/scan.js';
import { extractLayers } from '../image/extract.js';
import { sweepWorkDirs, removeViaTmp, writeFileAtomic } from './fsutil.js';
import { withLock } from './locks.js';
import { importAci, type ImportMeta } from './import.js';
import { readInfo, serializeInfo, type ImageInfo } from './info.js';
import { blobFile, imageDir, imageLockFile, infoFile, manifestFile, storeLayout, type StoreLayout } from './layout.js';
import { listImageIds, parseNameRef, pickByName, resolveImageId } from './resolve.js';
import { layersOf, planLayers, renderTree, type DepSource, type RenderedTree } from './render.js';
import { ensureLayer, hasLayer, importOciImage, layerStack, type LayerRecordJson, type OciImport } from './oci.js';
import { renderOciTree, extractOciImage } from './oci-render.js';

export type { ImageInfo, OciImageInfo, OciLayerInfo } from './info.js';
export type { OciImport } from './oci.js';
export type { ImportMeta } from './import.js';
export type { RenderedTree } from './render.js';

export interface Store {
  readonly dataDir: string;
  readonly layout: StoreLayout;
  importAci(aciPath: string, meta: ImportMeta): Promise<string>;
  resolveImageId(idOrPrefix: string): Promise<string>;
  /** An ID, unique ID prefix, or name[:version] as typed on the command line. */
  resolveImageRef(ref: string): Promise<string>;
  findImageByName(name: string, labels?: Record<string, string>): Promise<ImageInfo | undefined>;
  getImageInfo(id: string): Promise<ImageInfo>;
  getImageManifest(id: string): Promise<ImageManifest>;
  /** The manifest's bytes as stored, with what they parse to. */
  readImageManifest(id: string): Promise<{ raw: Buffer; manifest: ImageManifest }>;
  renderTree(id: string): Promise<RenderedTree>;
  /** Writes the image (with its dependencies when `withDeps`) to `dir`: manifest + rootfs/, or the rootfs only. */
  extractImage(id: string, dir: string, opts: { rootfsOnly: boolean; withDeps: boolean }): Promise<void>;
  touchLastUsed(id: string): Promise<void>;
  listImages(): Promise<ImageInfo[]>;
  removeImage(id: string): Promise<void>;
  blobPath(id: string): string;
  /** OCI: whether the layer tree for this diff_id is in the store. */
  hasLayer(diffId: string): Promise<boolean>;
  /** OCI: unpacks a layer once (under its lock) unless it is already there. */
  ensureLayer(diffId: string, produce: (work: { rootfs: string; blobTmp: string }) => Promise<Omit<LayerRecordJson, 'diffId'>>): Promise<'present' | 'unpacked'>;
  importOciImage(imp: OciImport): Promise<string>;
  /** OCI: the image's layer trees, upper first. */
  layerStack(id: string): Promise<string[]>;
}

function notFound(id: string): RktError {
  return new RktError('IMAGE_NOT_FOUND', `image ${id} not found in the store`, { hint: 'see "rkt image list"' });
}

export async function openStore(dataDir: string): Promise<Store> {
  const layout = storeLayout(path.resolve(dataDir));
  try {
    await mkdir(layout.cas, { recursive: true, mode: 0o755 });
    await mkdir(layout.images, { recursive: true, mode: 0o755 });
    await mkdir(layout.locks, { recursive: true, mode: 0o755 });
    // Rendered trees and work dirs may hold setuid files: keep host users out of them.
    await mkdir(layout.trees, { recursive: true, mode: 0o700 });
    await mkdir(layout.tmp, { recursive: true, mode: 0o700 });
    await chmod(layout.trees, 0o700);
    await chmod(layout.tmp, 0o700);
  } catch (err) {
    throw new RktError('STORE', `cannot open store in ${layout.cas}: ${errnoCode(err) ?? describeCause(err)}`, {
      hint: 'check --dir and that rkt may write there (run as root for /var/lib/rkt)',
      cause: err,
    });
  }
  await sweepWorkDirs(layout.tmp);

  const getImageInfo = async (id: string): Promise<ImageInfo> => {
    const info = await readInfo(infoFile(layout, id));
    if (!info) throw notFound(id);
    return info;
  };

  const readImageManifest = async (id: string): Promise<{ raw: Buffer; manifest: ImageManifest }> => {
    let raw: Buffer;
    try {
      raw = await readFile(manifestFile(layout, id));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw notFound(id);
      throw err;
    }
    return { raw, manifest: parseManifestBytes(raw, manifestFile(layout, id)) };
  };
  const getImageManifest = async (id: string): Promise<ImageManifest> => (await readImageManifest(id)).manifest;

  const listImages = async (): Promise<ImageInfo[]> => {
    const ids = await listImageIds(layout);
    const infos = await Promise.all(ids.map((id) => readInfo(infoFile(layout, id))));
    return infos.filter((i): i is ImageInfo => i !== undefined);
  };

  const findImageByName = async (name: string, labels?: Record<string, string>): Promise<ImageInfo | undefined> =>
    pickByName(await listImages(), name, labels);

  const deps: DepSource = {
    manifest: getImageManifest,
    async resolveDependency(dep: Dependency, parentId: string): Promise<string> {
      if (dep.imageID) {
        const id = dep.imageID.toLowerCase().slice(0, 'sha512-'.length + 64);
        if (await readInfo(infoFile(layout, id))) return id;
      } else {
        const labels: Record<string, string> = {};
        for (const l of dep.labels) labels[l.name] = l.value;
        const hit = pickByName(await listImages(), dep.imageName, labels);
        if (hit) return hit.id;
      }
      throw new RktError('IMAGE_NOT_FOUND', `dependency ${dep.imageName}${dep.imageID ? ` (${dep.imageID})` : ''} of ${parentId} is not in the store`, {
        hint: 'fetch the dependency first',
      });
    },
  };

  const store: Store = {
    dataDir: layout.dataDir,
    layout,
    importAci: (aciPath, meta) => importAci(layout, aciPath, meta),
    resolveImageId: (input) => resolveImageId(layout, input),
    async resolveImageRef(ref) {
      if (ref.toLowerCase().startsWith('sha512-')) return resolveImageId(layout, ref);
      const { name, labels } = parseNameRef(ref);
      const hit = await findImageByName(name, labels);
      if (!hit) throw new RktError('IMAGE_NOT_FOUND', `no image named "${ref}" in the store`, { hint: 'see "rkt image list"' });
      return hit.id;
    },
    findImageByName,
    getImageInfo,
    getImageManifest,
    readImageManifest,
    async renderTree(id) {
      const info = await readInfo(infoFile(layout, id));
      if (info?.oci) return renderOciTree(layout, info);
      return renderTree(layout, deps, id);
    },
    async extractImage(id, dir, opts) {
      const info = await readInfo(infoFile(layout, id));
      if (info?.oci) {
        await extractOciImage(layout, info, dir, opts.rootfsOnly);
        return;
      }
      const plan = opts.withDeps ? await planLayers(deps, id) : [{ id, whitelists: [], top: true }];
      const layers = layersOf(layout, plan);
      if (opts.rootfsOnly) await extractLayers(layers, dir);
      else {
        await mkdir(dir, { recursive: true });
        await extractLayers(layers, path.join(dir, 'rootfs'), { manifestOut: path.join(dir, 'manifest') });
      }
    },
    async touchLastUsed(id) {
      await withLock(imageLockFile(layout, id), 'exclusive', async () => {
        const info = await getImageInfo(id);
        info.lastUsed = new Date();
        await writeFileAtomic(infoFile(layout, id), serializeInfo(info));
      });
    },
    listImages,
    async removeImage(id) {
      const gone = await withLock(imageLockFile(layout, id), 'exclusive', async (lock) => {
        const removed = await removeViaTmp(imageDir(layout, id), layout.tmp);
        await lock.unlinkFile();
        return removed;
      });
      if (!gone) throw notFound(id);
    },
    blobPath: (id) => blobFile(layout, id),
    hasLayer: (diffId) => hasLayer(layout, diffId),
    ensureLayer: (diffId, produce) => ensureLayer(layout, diffId, produce),
    importOciImage: (imp) => importOciImage(layout, imp),
    async layerStack(id) {
      return layerStack(layout, await getImageInfo(id));
    },
  };
  return store;
}
