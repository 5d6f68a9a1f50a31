// A pod's stage1 as recorded in its directory: the manifest's entrypoints and the path of each one.
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, RktError } from '../../common/errors.js';
import { parseImageManifest, type ImageManifest } from '../../common/appc/index.js';
import { stage1ManifestPath, stage1RootfsPath } from '../../common/pod-layout.js';
import { readStage1Entrypoints, type Stage1Entrypoint, type Stage1Entrypoints } from '../../common/stage1-contract.js';

export interface PodStage1 {
  manifest: ImageManifest;
  entrypoints: Stage1Entrypoints;
}

export async function readPodStage1(podDir: string): Promise<PodStage1> {
  let text: string;
  try {
    text = await fs.readFile(stage1ManifestPath(podDir), 'utf8');
  } catch (err) {
    throw new RktError('POD_INVALID', `cannot read the pod's stage1 manifest ${stage1ManifestPath(podDir)}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  const manifest = parseImageManifest(text);
  return { manifest, entrypoints: readStage1Entrypoints(manifest.annotations) };
}

/** Absolute path of an entrypoint inside the pod's stage1 rootfs; throws if the stage1 lacks it. */
export function entrypointPath(podDir: string, s1: PodStage1, ep: Stage1Entrypoint): string {
  const rel = s1.entrypoints[ep];
  if (rel === undefined) {
    throw new RktError('STAGE1_ENTRYPOINT_MISSING', `stage1 ${s1.manifest.name} has no "${ep}" entrypoint`, {
      hint: ep === 'stop' ? `rkt ${ep} is not implemented for this pod's stage1` : 'the stage1 image does not follow the stage1 contract (docs/stage1-contract.md)',
    });
  }
  return path.join(stage1RootfsPath(podDir), rel);
}
