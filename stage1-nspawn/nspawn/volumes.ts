// Pod volumes as nspawn binds: each volume is made visible at /rkt/volumes/<name> inside the pod, and the
// app units bind it from there to their mount targets (so read-only-ness is per app mount).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { PodManifest } from '../../common/appc/index.js';
import { RktError, errnoCode } from '../../common/errors.js';
import { podVolumeSeeds, podVolumes, prepareEmptyVolume, type IdRange } from '../../stage1-shared/units/index.js';
import type { NspawnBind } from './argv.js';

/** Where the pod's volumes are, inside the pod. */
export const VOLUMES_IN_POD = '/rkt/volumes';

export function volumeInPod(name: string): string {
  return `${VOLUMES_IN_POD}/${name}`;
}

/** Backing directory of an `empty` volume, inside the pod dir (removed with it). */
export function sharedVolumePath(podDir: string, name: string): string {
  return path.join(podDir, 'sharedVolumes', name);
}

/**
 * `ids`: the pod's --private-users range (empty volumes, seeded copies of image content included, are
 * created owned as the pod sees its ids).
 */
export async function prepareVolumes(podDir: string, pod: PodManifest, ids?: IdRange): Promise<NspawnBind[]> {
  // Every volume, not only those named by a mount: image mount points take pod volumes by name too.
  const binds: NspawnBind[] = [];
  const seeds = podVolumeSeeds(pod);
  for (const [name, v] of podVolumes(pod)) {
    let source: string;
    if (v.kind === 'host') {
      if (v.source === undefined || !v.source.startsWith('/')) {
        throw new RktError('POD_INVALID', `volume "${name}": a host volume needs an absolute source`);
      }
      source = v.source;
      try {
        await fs.stat(source);
      } catch (err) {
        throw new RktError('POD_INVALID', `volume "${name}": source ${source}: ${errnoCode(err) ?? 'not accessible'}`, {
          hint: 'create the host directory or fix --volume ...,source=',
        });
      }
    } else {
      source = sharedVolumePath(podDir, name);
      await prepareEmptyVolume({ podDir, dir: source, volume: v, seeds, ...(ids !== undefined ? { ids } : {}) });
    }
    binds.push({ source, target: volumeInPod(name), readOnly: v.readOnly === true, recursive: v.recursive !== false });
  }
  return binds;
}
