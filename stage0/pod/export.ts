// `rkt export`: one app of an exited pod, its tree as the pod left it, written as a flattened ACI. The pod
// is held by a shared lock throughout (no rm or gc can delete it meanwhile, and it still reads as exited)
// and named through that lock's fd, so a gc moving it to exited-garbage does not lose it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseImageManifest, serializeImageManifest, type ImageManifest, type RuntimeApp } from '../../common/appc/index.js';
import { RktError, errnoCode } from '../../common/errors.js';
import { appInfoManifestPath } from '../../common/pod-layout.js';
import type { CommandContext } from '../context/context.js';
import { refuseExistingOutput, writeAciFile } from '../image/aci-file.js';
import { openStore } from '../store/index.js';
import { exportedManifest, pickApp, unshiftOwner } from './export-plan.js';
import { openAppView } from './export-view.js';
import { readPodManifestFile } from './info.js';
import { readPrivateUsers } from './private-users.js';
import { requirePod, type PodStateName } from './state.js';
import { releasePod, trySharedLockPod, type PodLock } from './transitions.js';

export interface ExportRequest {
  uuid: string;
  /** --app; the pod's only app when absent. */
  app?: string;
  out: string;
  overwrite: boolean;
}

const NOT_EXPORTABLE: Partial<Record<PodStateName, string>> = {
  running: 'stop it first with "rkt stop"',
  prepared: 'a prepared pod has not run; its tree is still its image\'s',
  'aborted prepare': 'its prepare failed; there is nothing to export',
  preparing: 'it is being prepared',
  embryo: 'it is being created',
  'exited deleting': 'it is being removed',
  garbage: 'it is being removed',
  deleting: 'it is being removed',
};

function notExited(uuid: string, state: PodStateName): RktError {
  return new RktError('POD_STATE', `cannot export pod ${uuid}: it is ${state}, only an exited pod can be exported`, {
    hint: NOT_EXPORTABLE[state] ?? 'see "rkt status"',
  });
}

/** A shared lock on an exited pod; the probe is repeated when the pod moves between probe and open. */
async function lockExitedPod(dataDir: string, uuid: string): Promise<PodLock> {
  for (let attempt = 0; ; attempt++) {
    const snap = await requirePod(dataDir, uuid);
    if (snap.state !== 'exited' && snap.state !== 'exited garbage') throw notExited(uuid, snap.state);
    let lock: PodLock | undefined;
    try {
      lock = await trySharedLockPod(dataDir, uuid, snap.stateDir);
    } catch (err) {
      if ((errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') && attempt < 3) continue;
      throw new RktError('POD_INVALID', `cannot open pod ${uuid}: ${errnoCode(err) ?? String(err)}`, { cause: err });
    }
    // Exited pods are never locked exclusively again but by rm and gc, on their way to deleting it.
    if (!lock) throw new RktError('POD_STATE', `cannot export pod ${uuid}: it is being removed`);
    return lock;
  }
}

/** stage0's own copy of the app's image manifest (it outlives the image), else the store's. */
async function appImageManifest(dataDir: string, podDir: string, app: RuntimeApp): Promise<ImageManifest> {
  let text: string;
  try {
    text = await fs.readFile(appInfoManifestPath(podDir, app.name), 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    return (await openStore(dataDir)).getImageManifest(app.image.id);
  }
  return parseImageManifest(text);
}

export async function exportPodApp(ctx: CommandContext, req: ExportRequest): Promise<void> {
  if (path.extname(req.out) !== '.aci') {
    throw new RktError('USAGE', `extension must be .aci (given ${req.out})`, { hint: 'name the output file NAME.aci', exitCode: 254 });
  }
  await refuseExistingOutput(req.out, req.overwrite);
  const dataDir = ctx.globals.dir;
  const lock = await lockExitedPod(dataDir, req.uuid);
  try {
    // The fd's /proc name follows the directory wherever it is renamed to (mount(8) resolves it too).
    const podDir = `/proc/${process.pid}/fd/${lock.fd}`;
    const pod = await readPodManifestFile(podDir);
    if (!pod) throw new RktError('POD_INVALID', `pod ${req.uuid} has no pod manifest`);
    const app = pickApp(pod, req.uuid, req.app);
    const manifest = Buffer.from(serializeImageManifest(exportedManifest(await appImageManifest(dataDir, podDir, app), app)));
    const range = await readPrivateUsers(podDir);
    const view = await openAppView(podDir, app.name);
    ctx.output.debug(`app ${app.name}: exporting its tree through a ${view.kind} view${range ? `, owners shifted back by ${range.shift}` : ''}`);
    try {
      await writeAciFile(req.out, {
        manifest, rootfs: view.root, compression: 'gzip', overwrite: req.overwrite,
        policy: {
          mtimes: 'keep',
          devices: 'keep',
          ...(range ? { owner: unshiftOwner(range) } : {}),
          onSkip: (name, why) => ctx.output.warn(`leaving out ${name}: a ${why} cannot be stored in an ACI`),
          onDevice: (name) => ctx.output.warn(`${name} is a device node: "rkt fetch" refuses images that hold one`),
        },
      });
    } finally {
      await view.close((line) => ctx.output.warn(line));
    }
  } finally {
    await releasePod(lock);
  }
}
