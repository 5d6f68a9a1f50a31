// A private read-only view of one app's tree as the pod left it, for `rkt export`. An overlay app whose
// overlay is still mounted gets a bind of that mount; one whose overlay is not (after a reboot) gets a
// fresh overlay of its upper dir over its image layers, all as lower dirs, so nothing is written; a
// copied tree gets a bind of itself (found in the stage1 overlay's upper dir when that overlay is
// unmounted). The view is always a new mount with nothing below it, so volumes and other submounts are
// not exported, and what the pod had mounted stays as it was.
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';
import { isMountPoint } from '../../common/mountinfo.js';
import {
  appOverlayName, appRootfsPath, appRootfsUpperPath, exportViewPath, overlayUpperPath, STAGE1_OVERLAY,
} from '../../common/pod-layout.js';
import { bindReadOnly, mountReadOnlyOverlay, unmountOne } from './mounts.js';
import { lowersOf, readLayerRecords } from './overlays.js';

export interface AppView {
  /** The app's root, as the pod left it. */
  readonly root: string;
  /** How the view was made: a bind of the pod's overlay or of a copied tree, or a fresh overlay. */
  readonly kind: 'mounted overlay' | 'fresh overlay' | 'copy';
  /** Unmounts and removes the view; warns instead of failing if it stays mounted. */
  close(warn: (line: string) => void): Promise<void>;
}

async function present(dir: string): Promise<boolean> {
  return fs.access(dir).then(() => true, () => false);
}

/**
 * `lexical` (a path under the pod dir) with the pod dir resolved, or undefined when it is not there. A
 * path that leads through a symlink is refused: mounting it would export whatever the symlink names.
 */
async function treePath(podDir: string, lexical: string, app: string): Promise<string | undefined> {
  const realPod = await fs.realpath(podDir);
  const want = path.join(realPod, path.relative(podDir, lexical));
  let real: string;
  try {
    real = await fs.realpath(want);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  if (real !== want) {
    throw new RktError('POD_INVALID', `cannot export app ${app}: its tree ${path.relative(realPod, want)} leads through a symlink`, {
      hint: 'the pod directory was changed; it cannot be exported',
    });
  }
  return real;
}

/** The view's mount point, made empty and private; named by its real path in messages. */
async function viewDir(podDir: string): Promise<{ target: string; shown: string }> {
  const target = exportViewPath(podDir, process.pid);
  await fs.mkdir(target, { recursive: true, mode: 0o700 });
  return { target, shown: await fs.realpath(target) };
}

export async function openAppView(podDir: string, app: string): Promise<AppView> {
  const rel = (p: string): string => path.relative(podDir, p);
  const records = await readLayerRecords(podDir);
  const layer = records.find((l) => l.name === appOverlayName(app));
  const tree = await treePath(podDir, appRootfsPath(podDir, app), app);
  if (layer && tree !== undefined && (await isMountPoint(tree))) {
    const v = await viewDir(podDir);
    await mountOrRemove(v.target, () => bindReadOnly(tree, v.target));
    return view(v, 'mounted overlay');
  }
  if (layer) {
    const lowers = lowersOf(layer);
    for (const lower of lowers) {
      if (!(await present(lower))) {
        throw new RktError('POD_INVALID', `cannot export app ${app}: its image tree ${lower} is gone from the store`, {
          hint: 'the image was removed after the pod was prepared',
        });
      }
    }
    const upper = overlayUpperPath(podDir, appOverlayName(app));
    if (!(await present(upper))) throw new RktError('POD_INVALID', `cannot export app ${app}: its overlay upper dir ${rel(upper)} is missing`);
    const v = await viewDir(podDir);
    await mountOrRemove(v.target, () => mountReadOnlyOverlay(v.target, [upper, ...lowers]));
    return view(v, 'fresh overlay');
  }
  // A copied tree inside an unmounted stage1 overlay (an app added to a mutable pod) is in its upper dir.
  const stage1Unmounted = records.some((l) => l.name === STAGE1_OVERLAY) && tree === undefined;
  const copy = stage1Unmounted ? await treePath(podDir, appRootfsUpperPath(podDir, app), app) : tree;
  if (copy === undefined || !(await fs.lstat(copy)).isDirectory()) {
    throw new RktError('POD_INVALID', `cannot export app ${app}: its tree ${rel(appRootfsPath(podDir, app))} is missing`, {
      hint: 'the pod records no overlay for the app, and has no copied tree for it either',
    });
  }
  const v = await viewDir(podDir);
  await mountOrRemove(v.target, () => bindReadOnly(copy, v.target));
  return view(v, 'copy');
}

async function mountOrRemove(target: string, mount: () => Promise<void>): Promise<void> {
  try {
    await mount();
  } catch (err) {
    await fs.rmdir(target).catch(() => undefined);
    throw err;
  }
}

function view({ target, shown }: { target: string; shown: string }, kind: AppView['kind']): AppView {
  return {
    root: target,
    kind,
    async close(warn) {
      if (!(await unmountOne(target))) {
        warn(`could not unmount ${shown}; "rkt gc" removes it with the pod`);
        return;
      }
      await fs.rmdir(target).catch(() => undefined);
    },
  };
}
