// Fetches an image's dependencies, depth first, by name and labels (store first, then
// discovery), checking a pinned imageID when the manifest gives one.
import { RktError } from '../../common/errors.js';
import { labelsToRecord, type ImageManifest } from '../../common/appc/index.js';
import type { FetchEnv } from './env.js';
import { fetchByName } from './name.js';

const MAX_DEPTH = 32;

async function pinned(env: FetchEnv, imageID: string | undefined): Promise<string | undefined> {
  if (!imageID) return undefined;
  try {
    return await env.store.resolveImageId(imageID);
  } catch {
    return undefined;
  }
}

function matchesPin(id: string, imageID: string): boolean {
  return id.startsWith(imageID) || imageID.startsWith(id);
}

export async function fetchDependencies(env: FetchEnv, manifest: ImageManifest, chain: readonly string[] = []): Promise<void> {
  const here = [...chain, manifest.name];
  if (here.length > MAX_DEPTH) {
    throw new RktError('IMAGE_INVALID', `image dependencies nest deeper than ${MAX_DEPTH}: ${here.join(' -> ')}`);
  }
  for (const dep of manifest.dependencies) {
    if (here.includes(dep.imageName)) {
      throw new RktError('IMAGE_INVALID', `dependency cycle: ${[...here, dep.imageName].join(' -> ')}`);
    }
    const have = await pinned(env, dep.imageID);
    let depManifest: ImageManifest;
    if (have) {
      env.ctx.output.debug(`dependency ${dep.imageName} is in the store as ${have}`);
      depManifest = await env.store.getImageManifest(have);
    } else {
      const got = await fetchByName(env, { name: dep.imageName, labels: labelsToRecord(dep.labels) }, 'new');
      if (dep.imageID && !matchesPin(got.id, dep.imageID)) {
        throw new RktError('IMAGE_INVALID', `dependency ${dep.imageName} of ${manifest.name} resolved to ${got.id}, but the manifest pins ${dep.imageID}`, {
          hint: 'the dependency changed since the image was built; rebuild the image or fetch the pinned dependency',
        });
      }
      depManifest = got.manifest;
    }
    await fetchDependencies(env, depManifest, here);
  }
}
