// Files the kvm stage1 writes into the pod's stage1 tree before boot: identity (machine-id, hostname),
// the volume shares in /etc/fstab, the apps' resolv.conf/hosts, and the guest agent's unit. The app units
// come from stage1-shared/units.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CniDns } from '../../stage1-shared/networking/cni-result.js';
import { writePodEtc, type PodEtcBinds } from '../../stage1-shared/networking/pod-etc.js';
import { stage1RootfsPath } from '../../common/pod-layout.js';
import type { DnsConfMode } from '../../common/stage1-contract.js';
import { replaceFileInRoot } from '../../stage1-shared/units/index.js';

export interface GuestVolume {
  name: string;
  tag: string;
  readOnly: boolean;
}

/** Where a pod volume is mounted inside the guest (the app units bind it from there). */
export function guestVolumePath(name: string): string {
  return `/rkt/volumes/${name}`;
}

export const VOLUME_MOUNT_OPTIONS = 'trans=virtio,version=9p2000.L,cache=mmap,msize=524288';

export function fstabLines(volumes: readonly GuestVolume[]): string {
  const lines = ['# written by the rkt kvm stage1: pod volumes shared over virtio-9p'];
  for (const v of volumes) {
    lines.push(`${v.tag} ${guestVolumePath(v.name)} 9p ${VOLUME_MOUNT_OPTIONS}${v.readOnly ? ',ro' : ''} 0 0`);
  }
  return `${lines.join('\n')}\n`;
}

export async function writeGuestFiles(
  podDir: string,
  o: { machineId: string; hostname: string; volumes: readonly GuestVolume[] },
): Promise<void> {
  const root = stage1RootfsPath(podDir);
  await replaceFileInRoot(root, 'etc/machine-id', `${o.machineId}\n`, 0o444);
  await replaceFileInRoot(root, 'etc/hostname', `${o.hostname}\n`);
  await replaceFileInRoot(root, 'etc/fstab', fstabLines(o.volumes));
  for (const v of o.volumes) await fs.mkdir(path.join(root, guestVolumePath(v.name)), { recursive: true });
  await fs.mkdir(path.join(root, 'var/log/journal', o.machineId), { recursive: true, mode: 0o2755 });
  await fs.mkdir(path.join(root, 'rkt/status'), { recursive: true });
  await fs.mkdir(path.join(root, 'rkt/env'), { recursive: true });
}

/**
 * The apps' /etc/resolv.conf, /etc/hosts and /etc/hostname, decided as for nspawn pods (stage1-shared/networking's
 * writePodEtc): CNI DNS by default, --dns/--hosts-entry files from stage0, or the host's files. A VM never
 * shares the host's network.
 */
export async function writeGuestEtc(
  podDir: string, o: { mode: DnsConfMode | undefined; hostname: string; cniDns: CniDns | undefined },
): Promise<PodEtcBinds> {
  return writePodEtc(podDir, { ...o, hostNetwork: false });
}
