// virtio-9p shares: the stage1 tree as the guest root, one share per pod volume (read-only where asked).
import type { Share } from '../vm-config/spec.js';
import { opts } from './escape.js';

/**
 * passthrough: the guest sees the host's real owners and modes (QEMU runs as root of the pod's user
 * namespace, or with file capabilities); multidevs=remap: the tree spans several host filesystems
 * (overlay, bind mounts), so inode numbers are remapped to stay unique in the guest.
 */
export function shareArgv(s: Share): string[] {
  const fsdev: Array<[string, string]> = [
    ['id', s.id],
    ['path', s.path],
    ['security_model', 'passthrough'],
    ['multidevs', 'remap'],
  ];
  if (s.readOnly) fsdev.push(['readonly', 'on']);
  return [
    '-fsdev', opts('local', fsdev),
    '-device', opts('virtio-9p-device', [['fsdev', s.id], ['mount_tag', s.tag]]),
  ];
}

export function sharesArgv(root: Share, volumes: readonly Share[]): string[] {
  return [root, ...volumes].flatMap(shareArgv);
}
