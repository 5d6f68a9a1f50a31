// Image garbage collection: drop rendered trees and images that no pod references and that have not
// been used within the grace period. Pods are read from <dataDir>/pods/<state>/<uuid>/ (tolerantly).
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { podDirIn, podManifestPath, stage1ImageIdPath, overlayLayersPath, type PodStateDir } from '../../common/pod-layout.js';
import type { Store } from './index.js';
import { LAYER_DIR_RE, TREE_ID_RE, layerLockFile, ociBlobFile, treeRenderedFile } from './layout.js';
import { readLayerRecord } from './oci.js';
import { digestHex } from '../oci/digest.js';
import { removeViaTmp } from './fsutil.js';
import { tryWithLock } from './locks.js';
import { withPrepareLock } from './prepare-lock.js';
import { listTrees, removeTree } from './trees.js';

/** Pod states whose pods may still use their images or trees (garbage pods never ran). */
const LIVE_STATES: readonly PodStateDir[] = ['embryo', 'prepare', 'prepared', 'run', 'exited-garbage'];

export interface PodReferences {
  readonly images: Set<string>;
  readonly trees: Set<string>;
  /** OCI layer dirs (sha256-<hex>) that pods mount as overlay lowers. */
  readonly layers: Set<string>;
}

async function readText(p: string): Promise<string | undefined> {
  return readFile(p, 'utf8').catch(() => undefined);
}

function jsonOrUndefined(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The store entry an overlay lower dir names: `.../trees/<treeId>/rootfs` or `.../layers/sha256-<hex>/rootfs`.
 * Matched by the last path components rather than by this store's absolute path, so a pod prepared
 * through another spelling of --dir (a symlink, a relative path) still protects what it mounts; a
 * lower from some other store can at worst keep an entry of the same ID here.
 */
export function lowerRef(lower: string): { kind: 'tree' | 'layer'; dir: string } | undefined {
  const parts = path.normalize(lower).split(path.sep).filter((x) => x !== '');
  const [kindDir, dir, rootfs] = parts.slice(-3);
  if (rootfs !== 'rootfs' || dir === undefined) return undefined;
  if (kindDir === 'trees' && TREE_ID_RE.test(dir)) return { kind: 'tree', dir };
  if (kindDir === 'layers' && LAYER_DIR_RE.test(dir)) return { kind: 'layer', dir };
  return undefined;
}

/** Image IDs and tree IDs referenced by any pod directory. */
export async function podReferences(store: Store): Promise<PodReferences> {
  const refs: PodReferences = { images: new Set(), trees: new Set(), layers: new Set() };
  const addLowerPath = (p: string): void => {
    const ref = lowerRef(p);
    if (ref?.kind === 'tree') refs.trees.add(ref.dir);
    if (ref?.kind === 'layer') refs.layers.add(ref.dir);
  };
  for (const state of LIVE_STATES) {
    const uuids = await readdir(path.join(store.dataDir, 'pods', state)).catch(() => [] as string[]);
    for (const uuid of uuids) {
      const pod = podDirIn(store.dataDir, state, uuid);
      const manifest = jsonOrUndefined(await readText(podManifestPath(pod)));
      if (isRecord(manifest) && Array.isArray(manifest['apps'])) {
        for (const app of manifest['apps']) {
          const img = isRecord(app) ? app['image'] : undefined;
          if (isRecord(img) && typeof img['id'] === 'string') refs.images.add(img['id']);
        }
      }
      const s1 = (await readText(stage1ImageIdPath(pod)))?.trim();
      if (s1) refs.images.add(s1);
      const legacyTree = (await readText(path.join(pod, 'stage1TreeStoreID')))?.trim();
      if (legacyTree) refs.trees.add(legacyTree);
      const layers = jsonOrUndefined(await readText(overlayLayersPath(pod)));
      if (Array.isArray(layers)) {
        for (const l of layers) {
          if (!isRecord(l)) continue;
          if (typeof l['lower'] === 'string') addLowerPath(l['lower']);
          if (Array.isArray(l['lowers'])) for (const x of l['lowers']) if (typeof x === 'string') addLowerPath(x);
        }
      }
    }
  }
  return refs;
}

export interface GcResult {
  removedTrees: string[];
  removedImages: string[];
  removedLayers: string[];
}

export interface GcOptions {
  readonly gracePeriodMs: number;
  /** Gets a line when gc has to wait for the prepare lock (prepares in progress). */
  readonly onWait: (line: string) => void;
  /** Runs once the lock is held, before anything is read (the test pause). */
  readonly whenLocked?: () => Promise<void>;
  /** The clock gc compares last uses against; read after the lock is taken when absent. */
  readonly now?: Date;
}

/**
 * Holds the store's prepare lock exclusive from reading the pods to the last removal: a prepare either
 * finished recording what it uses before gc looked, or starts resolving images after gc is done.
 */
export async function collectImageGarbage(store: Store, o: GcOptions): Promise<GcResult> {
  return withPrepareLock(store.layout, 'exclusive', o.onWait, async () => {
    await o.whenLocked?.();
    return collectLocked(store, o.gracePeriodMs, o.now ?? new Date());
  });
}

async function collectLocked(store: Store, gracePeriodMs: number, now: Date): Promise<GcResult> {
  const refs = await podReferences(store);
  const cutoff = now.getTime() - gracePeriodMs;
  const images = await store.listImages();
  const present = new Set(images.map((i) => i.id));
  const result: GcResult = { removedTrees: [], removedImages: [], removedLayers: [] };

  for (const t of await listTrees(store.layout)) {
    if (refs.trees.has(t.treeId)) {
      // A tree in use keeps every image layered into it.
      for (const d of t.deps) refs.images.add(d);
      continue;
    }
    const rendered = await stat(treeRenderedFile(store.layout, t.treeId)).catch(() => undefined);
    const stale = !rendered || rendered.mtimeMs <= cutoff || t.imageId === undefined || !present.has(t.imageId);
    if (stale && (await removeTree(store.layout, t.treeId))) result.removedTrees.push(t.treeId);
  }
  for (const img of images) {
    if (refs.images.has(img.id) || img.lastUsed.getTime() > cutoff) continue;
    try {
      await store.removeImage(img.id);
      result.removedImages.push(img.id);
    } catch {
      // removed concurrently: nothing to do
    }
  }
  result.removedLayers = await collectLayers(store, refs, cutoff);
  return result;
}

/**
 * OCI layer trees and blobs that no remaining image lists and no pod mounts. A layer newer than the grace
 * period is kept: a fetch may have unpacked it and not yet published the image that lists it.
 */
async function collectLayers(store: Store, refs: PodReferences, cutoff: number): Promise<string[]> {
  const used = new Set<string>(refs.layers);
  const usedBlobs = new Set<string>();
  for (const img of await store.listImages()) {
    for (const l of img.oci?.layers ?? []) {
      used.add(`sha256-${digestHex(l.diffId)}`);
      usedBlobs.add(digestHex(l.digest));
    }
  }
  const removed: string[] = [];
  for (const dir of await readdir(store.layout.layers).catch(() => [] as string[])) {
    if (!LAYER_DIR_RE.test(dir) || used.has(dir)) continue;
    const full = path.join(store.layout.layers, dir);
    const st = await stat(full).catch(() => undefined);
    if (!st || st.mtimeMs > cutoff) continue;
    const rec = await readLayerRecord(store.layout, dir.slice('sha256-'.length));
    const gone = await tryWithLock(layerLockFile(store.layout, dir.slice('sha256-'.length)), 'exclusive', async (lock) => {
      const r = await removeViaTmp(full, store.layout.tmp);
      await lock.unlinkFile();
      return r;
    });
    if (gone !== true) continue;
    removed.push(dir);
    if (rec && !usedBlobs.has(digestHex(rec.digest))) {
      await rm(ociBlobFile(store.layout, digestHex(rec.digest)), { force: true });
    }
  }
  return removed;
}
