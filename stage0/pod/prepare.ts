// Prepare a pod: new uuid, pod dir in prepare/ under an exclusive lock, images fetched and rendered,
// manifests written, trees laid out. On failure nothing stays half-done: mounts are undone and the pod
// goes to garbage/. The caller decides what comes next (prepared/ for `prepare`, run/ for `run`).
import fs from 'node:fs/promises';
import { parsePodManifest, serializeImageManifest, serializePodManifest, type ImageManifest, type PodManifest, type RuntimeApp } from '../../common/appc/index.js';
import { describeCause, errnoCode, RktError } from '../../common/errors.js';
import {
  appRootfsPath, appImageManifestPath, appInfoDir, appInfoManifestPath, appDir, podCreatedPath, podManifestPath, stage1Dir, stage1ImageIdPath,
  stage1ManifestPath, appStatusDir,
} from '../../common/pod-layout.js';
import type { AppArg, PodArgs } from './pod-args.js';
import type { CommandContext } from '../context/context.js';
import { fetchImage } from '../fetch/index.js';
import { openStore, type Store } from '../store/index.js';
import { withPrepareLock } from '../store/prepare-lock.js';
import { pauseForTest } from '../context/test-pause.js';
import { selectStage1 } from '../stage1/select.js';
import { effectiveIsolators, unenforceableLimitsWarning } from '../stage1/host-cgroup-limits.js';
import { generatePodManifest, checkVolumes, type ResolvedApp } from './manifest-gen.js';
import { unmountAllUnder } from './mounts.js';
import { allocatePrivateUsers, checkUsernsSupport } from './private-users.js';
import { createPod, movePod, podLockDir, releasePod, type PodLock } from './transitions.js';
import { layoutTrees, type TreeSources } from './trees.js';
import { maxLowerDirsPerMount } from '../../common/overlay-options.js';
import { resolveOciUser } from './oci-user.js';
import { annotationOf, OCI_ANNOTATION } from '../oci/config-to-app.js';
import { newPodUuid } from './uuid.js';

export interface PreparedPod {
  lock: PodLock;
  uuid: string;
  manifest: PodManifest;
}

async function readPodManifestArg(store: Store, file: string): Promise<PodManifest> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('USAGE', `cannot read --pod-manifest ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  const m = parsePodManifest(text);
  if (m.apps.length === 0) throw new RktError('MANIFEST_INVALID', `invalid pod manifest ${file}: pod must contain at least one application`);
  for (const a of m.apps) a.image.id = await store.resolveImageId(a.image.id);
  checkVolumes(m.volumes, m.apps);
  return m;
}

async function resolveApps(ctx: CommandContext, store: Store, p: PodArgs): Promise<ResolvedApp[]> {
  const out: ResolvedApp[] = [];
  for (const arg of p.apps) {
    ctx.output.progress(`fetching ${arg.image}`);
    const opts = arg.signature === undefined ? { pullPolicy: p.pullPolicy } : { pullPolicy: p.pullPolicy, signature: arg.signature };
    const imageId = await fetchImage(ctx, store, arg.image, opts);
    out.push({ arg, imageId, manifest: await store.getImageManifest(imageId) });
  }
  return out;
}

/**
 * The store's prepare lock is held shared from the first image lookup until the pod dir names every image,
 * tree and layer the pod uses and its overlays are mounted, so `image gc` and `image rm` (exclusive) never
 * remove something this pod has picked but not yet recorded. Past that point gc finds the pod's references.
 */
async function fill(ctx: CommandContext, p: PodArgs, lock: PodLock): Promise<PodManifest> {
  const store = await openStore(ctx.globals.dir);
  return withPrepareLock(store.layout, 'shared', (line) => ctx.output.debug(line), () => fillLocked(ctx, store, p, lock));
}

async function fillLocked(ctx: CommandContext, store: Store, p: PodArgs, lock: PodLock): Promise<PodManifest> {
  const podDir = podLockDir(ctx.globals.dir, lock);
  const manifest = p.podManifest !== undefined
    ? await readPodManifestArg(store, p.podManifest)
    : await generatePodManifest(p, await resolveApps(ctx, store, p), process.env);
  const stage1 = await selectStage1(ctx, store, p.stage1);
  ctx.output.debug(`stage1: ${stage1.why} -> ${stage1.imageId}`);
  ctx.clock.mark('images and stage1 found in the store');
  await pauseForTest('prepare-images-resolved', ctx.output);

  await fs.writeFile(podManifestPath(podDir), serializePodManifest(manifest));
  await fs.writeFile(podCreatedPath(podDir), '');
  await fs.mkdir(stage1Dir(podDir), { recursive: true });
  const s1Manifest = await store.getImageManifest(stage1.imageId);
  await fs.writeFile(stage1ManifestPath(podDir), serializeImageManifest(s1Manifest));
  await fs.writeFile(stage1ImageIdPath(podDir), stage1.imageId + '\n');

  ctx.output.progress('rendering images');
  const s1Tree = await store.renderTree(stage1.imageId);
  const apps: TreeSources['apps'] = [];
  const images = new Map<string, ImageManifest>();
  for (const a of manifest.apps) {
    apps.push(await appTree(ctx, store, a.name, a.image.id, p.noOverlay));
    await fs.mkdir(appInfoDir(podDir, a.name), { recursive: true });
    const image = await store.getImageManifest(a.image.id);
    images.set(a.image.id, image);
    await fs.writeFile(appInfoManifestPath(podDir, a.name), serializeImageManifest(image));
  }
  const limits = unenforceableLimitsWarning(s1Manifest, effectiveIsolators(manifest, images));
  if (limits !== undefined) ctx.output.warn(limits);
  await layoutTrees(podDir, { stage1Rootfs: s1Tree.rootfs, apps }, !p.noOverlay);
  ctx.clock.mark(p.noOverlay ? 'trees rendered and copied' : 'trees rendered and overlays mounted');
  if (await applyOciUsers(ctx, store, podDir, manifest, p)) await fs.writeFile(podManifestPath(podDir), serializePodManifest(manifest));
  for (const a of manifest.apps) {
    await fs.mkdir(appDir(podDir, a.name), { recursive: true });
    await fs.copyFile(appInfoManifestPath(podDir, a.name), appImageManifestPath(podDir, a.name));
  }
  // The status dir is stage1's, but creating it now puts it in the overlay's upper dir, where exit codes
  // stay readable after the overlay is unmounted.
  await fs.mkdir(appStatusDir(podDir), { recursive: true });
  if (p.privateUsers) {
    await checkUsernsSupport();
    const r = await allocatePrivateUsers(ctx.globals.dir, podDir);
    ctx.output.debug(`private users: uid/gid range ${r.shift}:${r.count}`);
  }
  for (const id of [stage1.imageId, ...manifest.apps.map((a) => a.image.id)]) await store.touchLastUsed(id).catch(() => undefined);
  ctx.clock.mark('pod files written');
  return manifest;
}

/**
 * Mount-option bytes kept for an app overlay's upperdir= and workdir= (paths in the pod dir, whose state
 * directory name changes as the pod moves) and the commas: generous, since a mount made at prepare is
 * made again by run-prepared or gc from a longer state path.
 */
const UPPER_WORK_RESERVE = 727;

/**
 * Where an app's tree comes from. OCI images are mounted as their layer stack (each layer shared with
 * every image and pod that has it); a stack too long for one mount's options, an image without layers,
 * and --no-overlay copies use the image flattened into one tree instead.
 */
async function appTree(ctx: CommandContext, store: Store, name: string, imageId: string, noOverlay: boolean): Promise<TreeSources['apps'][number]> {
  const info = await store.getImageInfo(imageId);
  if (info.oci && !noOverlay) {
    const lowers = await store.layerStack(imageId);
    if (lowers.length > 0 && maxLowerDirsPerMount(lowers, UPPER_WORK_RESERVE) === lowers.length) {
      ctx.output.debug(`app ${name}: ${lowers.length} OCI layer trees as overlay lower dirs`);
      return { name, rootfs: lowers[0] as string, lowers };
    }
    ctx.output.debug(`app ${name}: ${lowers.length} layers do not fit one overlay mount; using the image flattened into one tree`);
  }
  return { name, rootfs: (await store.renderTree(imageId)).rootfs };
}

/**
 * OCI images name their user the Docker way (names, uid without gid, group memberships); the names are
 * resolved now in the app's laid-out rootfs and written into the pod manifest as numbers. --user/--group
 * on the command line win. Returns whether the app changed. `rkt app add` applies the same rule.
 */
export async function applyOciUser(ctx: CommandContext, store: Store, podDir: string, a: RuntimeApp, arg: AppArg | undefined): Promise<boolean> {
  const img = await store.getImageManifest(a.image.id);
  const user = annotationOf(img, OCI_ANNOTATION.user);
  if (user === undefined || !a.app || arg?.user !== undefined || arg?.group !== undefined) return false;
  const id = await resolveOciUser(appRootfsPath(podDir, a.name), user, a.name, img.name);
  ctx.output.debug(`app ${a.name}: image user "${user}" is uid ${id.uid} gid ${id.gid} groups [${id.supplementaryGids.join(',')}]`);
  a.app.user = String(id.uid);
  a.app.group = String(id.gid);
  if (arg?.supplementaryGids === undefined) a.app.supplementaryGIDs = id.supplementaryGids;
  return true;
}

async function applyOciUsers(ctx: CommandContext, store: Store, podDir: string, manifest: PodManifest, p: PodArgs): Promise<boolean> {
  let changed = false;
  for (const [i, a] of manifest.apps.entries()) {
    if (await applyOciUser(ctx, store, podDir, a, p.apps[i])) changed = true;
  }
  return changed;
}

/** Prepares a pod; returns it still in prepare/ with its exclusive lock held. */
export async function preparePod(ctx: CommandContext, p: PodArgs): Promise<PreparedPod> {
  const uuid = newPodUuid();
  // Written before anything else so `rkt rm --uuid-file` can clean up a failed prepare.
  if (p.uuidFileSave !== undefined) await writeUuidFile(p.uuidFileSave, uuid);
  const lock = await createPod(ctx.globals.dir, uuid);
  ctx.output.debug(`pod ${uuid}: preparing in ${podLockDir(ctx.globals.dir, lock)}`);
  try {
    const manifest = await fill(ctx, p, lock);
    return { lock, uuid, manifest };
  } catch (err) {
    await abandon(ctx, lock);
    throw err;
  }
}

/** Undo a failed prepare: unmount, move to garbage/ (gc deletes it), release. */
export async function abandon(ctx: CommandContext, lock: PodLock): Promise<void> {
  const podDir = podLockDir(ctx.globals.dir, lock);
  try {
    const busy = await unmountAllUnder(podDir);
    if (busy.length > 0) ctx.output.warn(`could not unmount ${busy.join(', ')}`);
    await movePod(ctx.globals.dir, lock, 'garbage');
  } catch (err) {
    ctx.output.warn(`cleaning up pod ${lock.uuid} failed: ${describeCause(err)}`);
  } finally {
    await releasePod(lock);
  }
}

async function writeUuidFile(file: string, uuid: string): Promise<void> {
  try {
    await fs.writeFile(file, uuid);
  } catch (err) {
    throw new RktError('USAGE', `cannot write --uuid-file-save ${file}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
}
