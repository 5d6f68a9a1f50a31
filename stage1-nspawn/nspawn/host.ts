// Facts about the host that shape the nspawn command line: is systemd-machined reachable and is rkt itself
// running inside a systemd unit (stage1-shared/machined.ts), which cgroup layout, where systemd-nspawn lives.
import fs from 'node:fs';
import path from 'node:path';
import { RktError } from '../../common/errors.js';

export { insideSystemdUnit, machinedReachable } from '../../stage1-shared/machined.js';

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy';

export function cgroupLayout(): CgroupLayout {
  try {
    // statfs magic of cgroup2 is 0x63677270
    if (fs.statfsSync('/sys/fs/cgroup').type === 0x63677270) return 'unified';
  } catch {
    return 'legacy';
  }
  return fs.existsSync('/sys/fs/cgroup/unified') ? 'hybrid' : 'legacy';
}

const OVERLAYFS_MAGIC = 0x794c7630;

export function isOverlayfs(dir: string): boolean {
  try {
    return fs.statfsSync(dir).type === OVERLAYFS_MAGIC;
  } catch {
    return false;
  }
}

export function findInPath(bin: string): string {
  for (const dir of (process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (dir === '') continue;
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // try the next directory
    }
  }
  throw new RktError('STAGE1', `${bin} not found in PATH`, { hint: 'install systemd-container (run: sudo bash scripts/setup.sh)' });
}
