// A running mutable pod (`rkt app sandbox`), the only kind `rkt app add/start/stop/rm` change: found by
// uuid, running, marked mutable in its manifest, and run by a stage1 that has the four app entrypoints.
import { type PodManifest } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { supportsMutablePods } from '../../common/stage1-contract.js';
import { readPodManifestFile } from '../pod/info.js';
import { isMutablePod } from '../pod/mutable.js';
import { requirePod, type PodSnapshot } from '../pod/state.js';
import { readPodStage1, type PodStage1 } from '../stage1/pod-stage1.js';

export interface MutablePod {
  snap: PodSnapshot;
  manifest: PodManifest;
  stage1: PodStage1;
}

/** `verb` names the refused operation in errors ("add an app to", "start an app in"). */
export async function openMutablePod(dataDir: string, uuid: string, verb: string): Promise<MutablePod> {
  const snap = await requirePod(dataDir, uuid);
  if (snap.state !== 'running') {
    throw new RktError('POD_STATE', `cannot ${verb} pod ${uuid}: it is ${snap.state}, not running`, {
      hint: 'apps are added to running sandboxes: start one with rkt app sandbox',
    });
  }
  const manifest = await readPodManifestFile(snap.dir);
  if (manifest === undefined) throw new RktError('POD_INVALID', `cannot ${verb} pod ${uuid}: it has no pod manifest`);
  if (!isMutablePod(manifest)) {
    throw new RktError('POD_STATE', `cannot ${verb} pod ${uuid}: it is not a mutable pod (started by rkt run, not rkt app sandbox)`, {
      hint: 'start a pod that takes apps later with rkt app sandbox',
    });
  }
  const stage1 = await readPodStage1(snap.dir);
  if (!supportsMutablePods(stage1.entrypoints)) {
    throw new RktError('STAGE1', `cannot ${verb} pod ${uuid}: its stage1 ${stage1.manifest.name} has no app entrypoints`, {
      hint: 'use a stage1 that supports rkt app (nspawn or kvm)',
    });
  }
  return { snap, manifest, stage1 };
}

/** The app's manifest entry, or a one-line error listing the apps there are. */
export function requireApp(pod: MutablePod, name: string): PodManifest['apps'][number] {
  const app = pod.manifest.apps.find((a) => a.name === name);
  if (app === undefined) {
    const names = pod.manifest.apps.map((a) => a.name);
    throw new RktError('APP_NOT_FOUND', `pod ${pod.snap.uuid} has no app "${name}" (apps: ${names.length > 0 ? names.join(', ') : 'none'})`, {
      hint: 'see the pod\'s apps with: rkt app list <uuid>',
    });
  }
  return app;
}
