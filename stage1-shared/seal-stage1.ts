// Keeps a pod from rewriting what the host later runs as root. stage0 executes the stage1's enter, stop
// and gc entrypoints (and the JS and addon behind them) from <stage1 rootfs>/stage1, a directory inside
// the pod's own root (the kvm guest's 9p root, the nspawn container's root). A read-only bind mount of it
// on the host makes writes there fail with EROFS: in QEMU whatever the guest kernel does, and in an nspawn
// container with --private-users, where the mount is locked; stage0's pod removal unmounts it.
import path from 'node:path';
import { RktError } from '../common/errors.js';
import { mountOptionsAt } from '../common/mountinfo.js';
import { capture } from './subprocess.js';

const SEALED_DIR = 'stage1';

export async function sealStage1Dir(stage1Rootfs: string): Promise<void> {
  const dir = path.join(stage1Rootfs, SEALED_DIR);
  if ((await mountOptionsAt(dir))?.includes('ro')) return; // run-prepared after an earlier run attempt
  for (const argv of [['--bind', dir, dir], ['-o', 'remount,bind,ro,nosuid,nodev', dir]]) {
    const r = await capture('mount', argv, { timeoutMs: 10_000 });
    if (r.exitCode !== 0) {
      throw new RktError('STAGE1', `cannot make ${dir} read-only for the pod: mount ${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    }
  }
}
