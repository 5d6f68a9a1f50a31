// `rkt app add`: puts a new app into a running mutable pod. The image is fetched first (holding only the
// store's prepare lock), then, under the pod's app lock: the app is generated as `rkt run` would (same
// flags, same Docker rules for OCI images), its tree is copied into the pod, the manifest-to-be goes to
// pod.next, the stage1 writes the app's units, and renaming pod.next over pod commits it. Anything before
// the rename is undone on failure, and by the next `rkt app` command after a crash: an app is in the pod
// exactly when the manifest names it.
import fs from 'node:fs/promises';
import { serializeImageManifest, serializePodManifest, type PodManifest, type RuntimeApp, type Volume } from '../../common/appc/index.js';
import { RktError, errnoCode } from '../../common/errors.js';
import {
  appDir, appImageManifestPath, appInfoDir, appInfoManifestPath, appRootfsPath, podManifestNextPath, podManifestPath,
} from '../../common/pod-layout.js';
import { buildAppArgs } from '../../common/stage1-contract.js';
import type { CommandContext } from '../context/context.js';
import type { PodArgs } from '../pod/pod-args.js';
import { fetchImage } from '../fetch/index.js';
import { generatePodManifest, type ResolvedApp } from '../pod/manifest-gen.js';
import { applyOciUser } from '../pod/prepare.js';
import { copyTree } from '../pod/trees.js';
import { openStore, type Store } from '../store/index.js';
import { withPrepareLock } from '../store/prepare-lock.js';
import { runAppEntrypoint } from '../stage1/invoke.js';
import { entrypointPath } from '../stage1/pod-stage1.js';
import { effectiveIsolators, unenforceableLimitsWarning } from '../stage1/host-cgroup-limits.js';
import { withAppsLock } from './apps-lock.js';
import { openMutablePod, type MutablePod } from './mutable-pod.js';

/**
 * The host volumes the pod gains with this app (--mnt-volume): new names only, sources that exist, taken by
 * their real path (a symlinked source is bound as what it points at).
 */
async function gainedVolumes(pod: PodManifest, r: ResolvedApp): Promise<Volume[]> {
  const out: Volume[] = [];
  for (const { volume } of r.arg.mntVolumes) {
    if (pod.volumes.some((v) => v.name === volume.name) || out.some((v) => v.name === volume.name)) {
      throw new RktError('POD_STATE', `the pod already has a volume named "${volume.name}"`, {
        hint: 'give --mnt-volume another name=, or mount the existing volume with --mount volume=NAME,target=PATH',
      });
    }
    const source = volume.source ?? '';
    let real: string;
    try {
      real = await fs.realpath(source);
    } catch (err) {
      throw new RktError('POD_INVALID', `volume "${volume.name}": source ${source}: ${errnoCode(err) ?? 'not accessible'}`, {
        hint: 'create the host path or fix --mnt-volume ...,source=',
      });
    }
    out.push({ ...volume, source: real });
  }
  return out;
}

/**
 * The app as `rkt run` would generate it, in this pod: mounts may name only the pod's volumes and those it
 * gains with the app. Other OCI VOLUMEs stay ordinary directories of the app's own tree (they are not made
 * pod volumes, as they are for apps given to `rkt run`).
 */
async function generateApp(p: PodArgs, pod: PodManifest, r: ResolvedApp, gained: readonly Volume[]): Promise<RuntimeApp> {
  const volumes = [...pod.volumes, ...gained];
  const arg = { ...r.arg, mounts: [...r.arg.mounts, ...r.arg.mntVolumes.map((m) => ({ volume: m.volume.name, target: m.target }))] };
  const generated = await generatePodManifest({ ...p, volumes }, [{ ...r, arg }], process.env);
  const ra = generated.apps[0];
  if (ra === undefined) throw new RktError('INTERNAL', 'generating the app gave no app');
  if (ra.app) {
    const mounted = new Set(ra.mounts.map((m) => m.volume));
    const declared = new Set(volumes.map((v) => v.name));
    ra.app.mountPoints = ra.app.mountPoints.filter((mp) => mounted.has(mp.name) || declared.has(mp.name));
  }
  return ra;
}

async function layOutApp(ctx: CommandContext, store: Store, podDir: string, ra: RuntimeApp): Promise<void> {
  // A copy, not an overlay: mounts made on the host now would not reach the running pod's mount namespace
  // (nspawn) or the VM's 9p view (kvm), while files in the stage1 tree reach both.
  const tree = await store.renderTree(ra.image.id);
  ctx.output.progress(`copying the image of app ${ra.name} into the pod`);
  await copyTree(tree.rootfs, appRootfsPath(podDir, ra.name));
  const manifest = serializeImageManifest(await store.getImageManifest(ra.image.id));
  await fs.writeFile(appImageManifestPath(podDir, ra.name), manifest);
  await fs.mkdir(appInfoDir(podDir, ra.name), { recursive: true });
  await fs.writeFile(appInfoManifestPath(podDir, ra.name), manifest);
}

async function addLocked(ctx: CommandContext, store: Store, pod: MutablePod, p: PodArgs, r: ResolvedApp): Promise<string> {
  const podDir = pod.snap.dir;
  // Re-read under the lock: another add may have committed while we fetched.
  const current = { ...pod, manifest: (await openMutablePod(ctx.globals.dir, pod.snap.uuid, 'add an app to')).manifest };
  const gained = await gainedVolumes(current.manifest, r);
  const ra = await generateApp(p, current.manifest, r, gained);
  if (current.manifest.apps.some((a) => a.name === ra.name)) {
    throw new RktError('APP_EXISTS', `pod ${pod.snap.uuid} already has an app named "${ra.name}"`, {
      hint: 'give the new app another --name, or remove the old one with rkt app rm',
    });
  }
  const limits = unenforceableLimitsWarning(current.stage1.manifest, effectiveIsolators({ ...current.manifest, apps: [ra] }, new Map([[r.imageId, r.manifest]])));
  if (limits !== undefined) ctx.output.warn(limits);
  try {
    await layOutApp(ctx, store, podDir, ra);
    await applyOciUser(ctx, store, podDir, ra, p.apps[0]);
    const next: PodManifest = { ...current.manifest, volumes: [...current.manifest.volumes, ...gained], apps: [...current.manifest.apps, ra] };
    await fs.writeFile(podManifestNextPath(podDir), serializePodManifest(next));
    const ep = entrypointPath(podDir, current.stage1, 'app-add');
    await runAppEntrypoint(podDir, ep, buildAppArgs({ debug: ctx.globals.debug, app: ra.name, uuid: pod.snap.uuid }), ctx.output, ctx.globals.debug);
    await fs.rename(podManifestNextPath(podDir), podManifestPath(podDir));
  } catch (err) {
    await fs.rm(podManifestNextPath(podDir), { force: true });
    await fs.rm(appDir(podDir, ra.name), { recursive: true, force: true });
    await fs.rm(appInfoDir(podDir, ra.name), { recursive: true, force: true });
    throw err;
  }
  await store.touchLastUsed(ra.image.id).catch(() => undefined);
  return ra.name;
}

/** Adds the one app of `p` to pod `uuid`; returns its name. The app is not started. */
export async function addApp(ctx: CommandContext, uuid: string, p: PodArgs): Promise<string> {
  const arg = p.apps[0];
  if (arg === undefined || p.apps.length !== 1) throw new RktError('USAGE', 'rkt app add takes exactly one image');
  const pod = await openMutablePod(ctx.globals.dir, uuid, 'add an app to');
  const store = await openStore(ctx.globals.dir);
  // Shared prepare lock from the image lookup to the commit, as for a prepare: image gc and rm wait
  // until the pod manifest names the image (the copied tree needs nothing from the store after that).
  // Taken before the app lock, as every holder of both does.
  return withPrepareLock(store.layout, 'shared', (line) => ctx.output.debug(line), async () => {
    ctx.output.progress(`fetching ${arg.image}`);
    const opts = arg.signature === undefined ? { pullPolicy: p.pullPolicy } : { pullPolicy: p.pullPolicy, signature: arg.signature };
    const imageId = await fetchImage(ctx, store, arg.image, opts);
    const r: ResolvedApp = { arg, imageId, manifest: await store.getImageManifest(imageId) };
    return withAppsLock(pod.snap.dir, ctx.output, () => addLocked(ctx, store, pod, p, r));
  });
}
