// Reads what run needs from the pod directory: the pod manifest and each app's effective App section.
import fs from 'node:fs/promises';
import { parseImageManifest, parsePodManifest, type App, type PodManifest } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { appImageManifestPath, podManifestPath } from '../../common/pod-layout.js';

export interface PodApps {
  pod: PodManifest;
  /** The App each app runs: the pod manifest's override, else its image's. */
  apps: Map<string, App>;
}

export async function readPod(podDir: string): Promise<PodApps> {
  const file = podManifestPath(podDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('POD_INVALID', `cannot read pod manifest ${file}: ${String(err)}`, { cause: err });
  }
  const pod = parsePodManifest(text);
  const apps = new Map<string, App>();
  for (const ra of pod.apps) {
    let app = ra.app;
    if (app === undefined) {
      const im = parseImageManifest(await fs.readFile(appImageManifestPath(podDir, ra.name), 'utf8'));
      app = im.app;
    }
    if (app === undefined) throw new RktError('POD_INVALID', `app ${ra.name} has no app section (no exec)`);
    apps.set(ra.name, app);
  }
  return { pod, apps };
}

/** The pod manifest with each app's effective App filled in (what resource sizing reads). */
export function withEffectiveApps(p: PodApps): PodManifest {
  return { ...p.pod, apps: p.pod.apps.map((ra) => ({ ...ra, app: p.apps.get(ra.name) ?? ra.app })) };
}
