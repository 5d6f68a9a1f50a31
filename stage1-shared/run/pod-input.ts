// What the run pipeline reads from the pod directory before it changes anything: the pod manifest and
// each app's image manifest, in pod-manifest order.
import fs from 'node:fs/promises';
import { parseImageManifest, parsePodManifest, type App, type ImageManifest, type PodManifest } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { appImageManifestPath, podManifestPath } from '../../common/pod-layout.js';

export interface PodInput {
  pod: PodManifest;
  /** images[i] belongs to pod.apps[i]. */
  images: ImageManifest[];
}

export async function readPodInput(podDir: string): Promise<PodInput> {
  const file = podManifestPath(podDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('POD_INVALID', `${podDir} is not a pod directory (cannot read ${file})`, { cause: err });
  }
  const pod = parsePodManifest(text);
  const images = await Promise.all(pod.apps.map(async (a) => parseImageManifest(await fs.readFile(appImageManifestPath(podDir, a.name), 'utf8'))));
  return { pod, images };
}

/** The App each app runs: the pod manifest's override, else its image's. */
export function effectiveApps(p: PodInput): App[] {
  return p.pod.apps.map((ra, i) => {
    const app = ra.app ?? p.images[i]?.app;
    if (app === undefined) throw new RktError('POD_INVALID', `app ${ra.name} has no app section (no exec)`);
    return app;
  });
}

/** The pod manifest with each app's effective App filled in (what resource sizing reads). */
export function podWithEffectiveApps(p: PodInput): PodManifest {
  const apps = effectiveApps(p);
  return { ...p.pod, apps: p.pod.apps.map((ra, i) => ({ ...ra, app: apps[i] })) };
}
