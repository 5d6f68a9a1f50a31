// The pod's overlay mounts as a record (`overlay-layers.json`, paths relative to the pod dir because the
// pod dir is renamed between states) so run, run-prepared and gc can re-make them after a reboot.
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, RktError } from '../../common/errors.js';
import { overlayLayersPath, overlayPreparedPath, overlayUpperPath, overlayWorkPath } from '../../common/pod-layout.js';
import { isMountPoint } from '../../common/mountinfo.js';
import { mountOverlay } from './mounts.js';

export interface LayerRecord {
  /** Overlay name (`stage1`, `app-<name>`): upper/work live in overlay/<name>/. */
  name: string;
  /** Mount point relative to the pod dir. */
  target: string;
  /** Absolute lower dir: the rendered tree's rootfs, or the upper-most layer of an OCI image. */
  lower: string;
  /** OCI images: every layer tree, upper first (lowers[0] === lower). Absent for a single lower. */
  lowers?: string[];
}

/** Every lower dir of a record, upper first. */
export function lowersOf(l: LayerRecord): string[] {
  return l.lowers ?? [l.lower];
}

export async function writeLayerRecords(podDir: string, layers: LayerRecord[]): Promise<void> {
  await fs.writeFile(overlayLayersPath(podDir), JSON.stringify(layers, null, 2) + '\n');
  await fs.writeFile(overlayPreparedPath(podDir), '');
}

export async function readLayerRecords(podDir: string): Promise<LayerRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(overlayLayersPath(podDir), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RktError('POD_INVALID', `invalid ${overlayLayersPath(podDir)}: not JSON`, { cause: err });
  }
  if (!Array.isArray(parsed)) throw new RktError('POD_INVALID', `invalid ${overlayLayersPath(podDir)}: expected an array`);
  return parsed.map((e: unknown, i): LayerRecord => {
    const r = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const name = r['name'];
    const target = r['target'];
    const lower = r['lower'];
    const lowers = r['lowers'];
    if (typeof name !== 'string' || typeof target !== 'string' || typeof lower !== 'string' || target.split('/').includes('..')) {
      throw new RktError('POD_INVALID', `invalid ${overlayLayersPath(podDir)}: entry ${i} needs name, target, lower`);
    }
    if (lowers !== undefined && (!Array.isArray(lowers) || lowers.length === 0 || !lowers.every((x) => typeof x === 'string' && path.isAbsolute(x)))) {
      throw new RktError('POD_INVALID', `invalid ${overlayLayersPath(podDir)}: entry ${i} has a malformed lowers list`);
    }
    return lowers === undefined ? { name, target, lower } : { name, target, lower, lowers: lowers as string[] };
  });
}

/** Mounts one recorded layer at its target in this pod dir. */
export async function mountLayer(podDir: string, l: LayerRecord): Promise<void> {
  await mountOverlay({
    target: path.join(podDir, l.target),
    lowers: lowersOf(l),
    upper: overlayUpperPath(podDir, l.name),
    work: overlayWorkPath(podDir, l.name),
  });
}

/** Mounts the recorded layers that are not mounted (in record order: stage1 first, then apps inside it). */
export async function ensureOverlaysMounted(podDir: string): Promise<void> {
  for (const l of await readLayerRecords(podDir)) {
    if (await isMountPoint(path.join(podDir, l.target))) continue;
    try {
      for (const lower of lowersOf(l)) await fs.access(lower);
    } catch {
      throw new RktError('POD_INVALID', `cannot mount ${l.target}: its image tree ${l.lower} is gone from the store`, {
        hint: 'the image was removed after the pod was prepared; prepare the pod again',
      });
    }
    await mountLayer(podDir, l);
  }
}
