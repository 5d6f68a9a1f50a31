// A running pod gains a host volume (rkt app add --mnt-volume) as a bind mount made on the host at the
// volume's place in the pod root (the flavor's volumePath), before the app's units are written. The pod
// sees it because of how each flavor reads its root: the kvm guest through QEMU's 9p export, which walks
// the host's mounts below the root descriptor it was given; the nspawn pod through the shared mount its
// launcher made of the volumes folder (volumesDirIsShared), whose copy in the pod's mount namespace
// receives mounts made below it on the host. stage0's pod removal unmounts it with everything else below
// the pod dir.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Volume } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { capture } from '../subprocess.js';

async function mount(argv: readonly string[], what: string): Promise<void> {
  const r = await capture('mount', argv, { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new RktError('STAGE1', `${what}: mount ${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
}

async function umount(target: string): Promise<void> {
  const r = await capture('umount', [target], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) await capture('umount', ['-l', target], { timeoutMs: 10_000 });
}

/** The place below the pod dir where a read-only volume is made read-only before it is bound into the pod. */
const stagingDir = (podDir: string, name: string): string => path.join(podDir, 'volume-staging', name);

/**
 * Binds `v.source` at `root`+`inPod`. A read-only volume is bound read-only from the start (a staging bind,
 * remounted read-only, then bound at its place): a later remount would not reach copies the pod already
 * received, so it could write through them.
 */
export async function attachHostVolume(podDir: string, root: string, inPod: string, v: Volume): Promise<void> {
  const source = v.source;
  if (v.kind !== 'host' || source === undefined) throw new RktError('POD_INVALID', `volume "${v.name}": only host volumes can join a running pod`);
  const target = path.join(root, inPod);
  // A file is bound on a file (kubelet's /etc/hosts and termination-log are files), anything else on a directory.
  const isDir = (await fs.stat(source)).isDirectory();
  const mountPoint = async (p: string): Promise<void> => {
    if (isDir) await fs.mkdir(p, { recursive: true });
    else {
      await fs.mkdir(path.dirname(p), { recursive: true });
      await fs.writeFile(p, '', { flag: 'a' });
    }
  };
  await mountPoint(target);
  const what = `cannot give the pod volume "${v.name}"`;
  if (v.readOnly !== true) {
    await mount(['--bind', source, target], what);
    return;
  }
  const staging = stagingDir(podDir, v.name);
  await mountPoint(staging);
  try {
    await mount(['--bind', source, staging], what);
    await mount(['-o', 'remount,bind,ro,nosuid,nodev', staging], what);
    await mount(['--bind', staging, target], what);
  } finally {
    await umount(staging);
    await fs.rmdir(staging).catch(() => fs.unlink(staging)).catch(() => undefined);
  }
}

/** Undoes attachHostVolume (a failed add); the pod's copy goes with the host's. */
export async function detachHostVolume(root: string, inPod: string): Promise<void> {
  const target = path.join(root, inPod);
  await umount(target);
  // not recursive: should the unmount have failed, what is below is the host's
  await fs.rmdir(target).catch(() => fs.unlink(target)).catch(() => undefined);
}

/**
 * For the nspawn launcher of a mutable pod: makes the folder the pod's volumes live in a shared mount, so
 * that the pod's copy of it (a slave, once nspawn has made its mount namespace) receives the volumes
 * attachHostVolume binds below it later.
 */
export async function shareVolumesDir(root: string, volumesDir: string): Promise<void> {
  const dir = path.join(root, volumesDir);
  await fs.mkdir(dir, { recursive: true });
  await mount(['--bind', dir, dir], 'cannot prepare the pod for volumes added later');
  await mount(['--make-shared', dir], 'cannot prepare the pod for volumes added later');
}
