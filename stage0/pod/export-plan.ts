// The decisions of `rkt export` that need no disk: which app of the pod, the manifest its ACI carries, and
// how owners in a --private-users pod's tree map back to the image's ids.
import { isACName, type ImageManifest, type PodManifest, type RuntimeApp } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { OCI_ANNOTATION } from '../oci/config-to-app.js';
import type { UidRange } from './private-users.js';

/** The app named by --app, else the pod's only app. */
export function pickApp(pod: PodManifest, uuid: string, wanted: string | undefined): RuntimeApp {
  const names = pod.apps.map((a) => a.name).join(', ');
  if (wanted !== undefined) {
    if (!isACName(wanted)) throw new RktError('USAGE', `invalid --app "${wanted}": an app name is lower case letters, digits and dashes`);
    const hit = pod.apps.find((a) => a.name === wanted);
    if (!hit) throw new RktError('APP_NOT_FOUND', `pod ${uuid} has no app "${wanted}"`, { hint: names === '' ? 'the pod has no apps' : `its apps: ${names}` });
    return hit;
  }
  const [only, ...more] = pod.apps;
  if (only === undefined) throw new RktError('POD_INVALID', `pod ${uuid} has no apps to export`);
  if (more.length > 0) {
    throw new RktError('USAGE', `pod ${uuid} has ${pod.apps.length} apps (${names})`, { hint: 'name the one to export with --app=NAME', exitCode: 254 });
  }
  return only;
}

/**
 * Annotations that describe where an OCI image came from, or the OCI user name that prepare resolves
 * anew over the app's user: the exported tree is neither that image nor unresolved, so they are dropped.
 */
const SOURCE_ANNOTATIONS: ReadonlySet<string> = new Set([
  OCI_ANNOTATION.reference, OCI_ANNOTATION.manifestDigest, OCI_ANNOTATION.configDigest, OCI_ANNOTATION.user,
]);

/**
 * The exported image's manifest: the app's image manifest (name, labels, other annotations kept) with the
 * app section the pod ran (the runtime app's, else the image's). The tree is flattened, so it has no
 * dependencies, and no path whitelist (it would hide what the app wrote outside it).
 */
export function exportedManifest(image: ImageManifest, app: RuntimeApp): ImageManifest {
  const out: ImageManifest = {
    acKind: 'ImageManifest',
    acVersion: image.acVersion,
    name: image.name,
    labels: image.labels.map((l) => ({ ...l })),
    annotations: image.annotations.filter((a) => !SOURCE_ANNOTATIONS.has(a.name)).map((a) => ({ ...a })),
    dependencies: [],
    pathWhitelist: [],
  };
  const section = app.app ?? image.app;
  if (section !== undefined) out.app = section;
  return out;
}

/**
 * Owners back to image ids for a --private-users pod. Its tree mixes ids in the pod's range (written
 * from inside the user namespace, or chowned by nspawn) with ids below the range's size (image layers
 * seen through an unshifted mount, files stage0 wrote): the first are shifted back, the second kept.
 * Anything else could only come from outside the pod, and is refused rather than exported as is.
 */
export function unshiftOwner(range: UidRange): (uid: number, gid: number, entryName: string) => { uid: number; gid: number } {
  const one = (id: number, what: string, entryName: string): number => {
    if (id >= range.shift && id < range.shift + range.count) return id - range.shift;
    if (id < range.count) return id;
    throw new RktError('POD_INVALID', `cannot export ${entryName}: its ${what} ${id} is outside the pod's user range ${range.shift}:${range.count}`, {
      hint: 'a process outside the pod changed the file; give it an owner in the range (or below its size) and retry',
    });
  };
  return (uid, gid, entryName) => ({ uid: one(uid, 'uid', entryName), gid: one(gid, 'gid', entryName) });
}
