// --private-users on overlay trees without chowning: the pod's overlays are re-made over ID-mapped binds
// of their lower layers (the image trees in the store appear owned by the pod's range; nothing on disk
// changes), their small upper dirs are shifted, and nspawn runs with --private-users-ownership=off.
// nspawn 252 cannot do this itself (it refuses to ID-map an overlayfs mount).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { RktError, errnoCode } from '../../common/errors.js';
import { isMountPoint } from '../../common/mountinfo.js';
import { escapeOverlayPath, lowerdirOption } from '../../common/overlay-options.js';
import { overlayDir, overlayIdmappedPath, overlayLayersPath, overlayUpperPath, overlayWorkPath } from '../../common/pod-layout.js';

const run = promisify(execFile);

interface Layer {
  name: string;
  /** Relative to the pod dir. */
  target: string;
  /** Absolute lower dirs, upper first: one for a rendered tree, an OCI image's layers otherwise. */
  lowers: string[];
}

/** Where each lower of a layer is ID-mapped; a single lower keeps the path it always had. */
function mappedLowers(podDir: string, l: Layer): string[] {
  return l.lowers.length === 1 ? [overlayIdmappedPath(podDir, l.name)] : l.lowers.map((_, i) => overlayIdmappedPath(podDir, l.name, i));
}

async function readLayers(podDir: string): Promise<Layer[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(overlayLayersPath(podDir), 'utf8'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw new RktError('POD_INVALID', `cannot read ${overlayLayersPath(podDir)}`, { cause: err });
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((e: unknown): Layer[] => {
    const r = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const { name, target, lower, lowers } = r;
    if (typeof name !== 'string' || typeof target !== 'string' || typeof lower !== 'string' || target.split('/').includes('..')) return [];
    if (lowers === undefined) return [{ name, target, lowers: [lower] }];
    // a malformed list fails the start rather than silently mounting fewer layers than stage0 recorded
    if (!Array.isArray(lowers) || lowers.length === 0 || !lowers.every((x): x is string => typeof x === 'string' && path.isAbsolute(x))) {
      throw new RktError('POD_INVALID', `${overlayLayersPath(podDir)}: overlay ${name} has a malformed lowers list`);
    }
    return [{ name, target, lowers }];
  });
}

/** Moves every id below `count` up by `shift` (lchown, never following links); ids already shifted stay. */
async function shiftTree(dir: string, shift: number, count: number): Promise<void> {
  const st = await fs.lstat(dir);
  const uid = st.uid < count ? st.uid + shift : st.uid;
  const gid = st.gid < count ? st.gid + shift : st.gid;
  if (uid !== st.uid || gid !== st.gid) await fs.lchown(dir, uid, gid);
  if (!st.isDirectory()) return;
  for (const e of await fs.readdir(dir)) await shiftTree(path.join(dir, e), shift, count);
}

async function unmountLayers(podDir: string, layers: readonly Layer[]): Promise<void> {
  for (const l of [...layers].sort((a, b) => b.target.length - a.target.length)) {
    const target = path.join(podDir, l.target);
    if (!(await isMountPoint(target))) continue;
    // lazily if something still maps a file of the tree (the native addon): the detached mount then only
    // serves that mapping until the exec
    await run('umount', [target]).catch(() => run('umount', ['-l', target]));
  }
}

async function mountLayers(podDir: string, layers: readonly Layer[]): Promise<void> {
  for (const l of layers) {
    const mapped = mappedLowers(podDir, l);
    const dir = overlayDir(podDir, l.name);
    // Several lowers are named relative to the overlay's dir (the kernel resolves them against the
    // mounting process's cwd): a long layer stack then still fits in the one page of mount options.
    const opts = mapped.length === 1
      ? `${lowerdirOption(mapped)},upperdir=${escapeOverlayPath(overlayUpperPath(podDir, l.name))},workdir=${escapeOverlayPath(overlayWorkPath(podDir, l.name))}`
      : `${lowerdirOption(mapped.map((m) => path.relative(dir, m)))},upperdir=upper,workdir=work`;
    try {
      await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, path.join(podDir, l.target)], { cwd: dir });
    } catch (err) {
      throw new RktError('STAGE1', `cannot mount the ID-mapped overlay ${l.target}: ${String(err)}`, {
        hint: 'the kernel needs overlayfs over ID-mapped layers (Linux >= 5.19); or run with --no-overlay',
      });
    }
  }
}

/** The stage1's idmap-bind, from the upper-most of its lower dirs that has one. */
async function findHelper(lowers: readonly string[]): Promise<string | undefined> {
  for (const lower of lowers) {
    const helper = path.join(lower, 'stage1', 'bin', 'idmap-bind');
    if (await fs.access(helper).then(() => true, () => false)) return helper;
  }
  return undefined;
}

/**
 * Re-mounts the pod's overlays over ID-mapped lower layers (call it before anything maps a file of the
 * stage1 tree, such as the native addon). Returns false (nothing changed) when the pod has no overlays or
 * this stage1 lacks its idmap-bind helper. finishIdmappedOverlays() must follow the last write.
 */
export async function idmapPodOverlays(podDir: string, shift: number, count: number): Promise<boolean> {
  const layers = await readLayers(podDir);
  const stage1 = layers.find((l) => l.name === 'stage1');
  if (!stage1) return false;
  // The helper is taken from the stage1's image tree, which stays in place while the overlays are re-made.
  const helper = await findHelper(stage1.lowers);
  if (helper === undefined) return false;
  await unmountLayers(podDir, layers);
  for (const l of layers) {
    const mapped = mappedLowers(podDir, l);
    for (const [i, lower] of l.lowers.entries()) {
      const m = mapped[i] as string;
      await fs.mkdir(m, { recursive: true });
      if (!(await isMountPoint(m))) await run(helper, [lower, m, String(shift), String(count)]);
    }
  }
  await mountLayers(podDir, layers);
  return true;
}

/**
 * What stage0 and this stage1 wrote through the overlays landed in the upper dirs as host root; shift it
 * into the pod's range with the overlays unmounted (an overlay caches its upper inodes' owners), then
 * mount them again.
 */
export async function finishIdmappedOverlays(podDir: string, shift: number, count: number): Promise<void> {
  const layers = await readLayers(podDir);
  await unmountLayers(podDir, layers);
  for (const l of layers) await shiftTree(overlayUpperPath(podDir, l.name), shift, count);
  await mountLayers(podDir, layers);
}
