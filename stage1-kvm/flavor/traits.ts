// The kvm flavor as every entrypoint sees it: its section of the record (what run chose and what stop,
// enter, gc and app/* act on) and where the pod's volumes are inside the guest.
import path from 'node:path';
import type { FlavorTraits } from '../../stage1-shared/flavor-traits.js';
import type { FlavorRecordCodec } from '../../stage1-shared/record/stage1-record.js';
import { guestVolumePath } from '../launch/guest-files.js';

/** The pod-dir folder holding QEMU's sockets (owned by QEMU's uid). */
export const KVM_RUN_DIR = 'kvm';

export interface KvmState {
  /** The accelerator QEMU runs with, and why. */
  accel: 'kvm' | 'tcg';
  accelReason: string;
  vcpus: number;
  memoryMiB: number;
  /** RAM the apps may use together (the VM's minus its overhead): app/add refuses an app whose limit does not fit. */
  appMemoryMiB: number;
  kernel: string;
  /** Pod-dir-relative paths of QEMU's sockets. */
  qmpSocket: string;
  agentSocket: string;
  /** Cgroup directories made for QEMU (absolute). */
  cgroups: string[];
  /** How QEMU's privileges were dropped. */
  qemuUser: { userns: { shift: number; count: number } } | { uid: number };
}

export const kvmRecord: FlavorRecordCodec<KvmState> = {
  flavor: 'kvm',
  parseState(f) {
    const qu = f.obj('qemuUser');
    const userns = qu.optObj('userns');
    return {
      accel: f.oneOf('accel', ['kvm', 'tcg'] as const), accelReason: f.str('accelReason'),
      vcpus: f.count('vcpus'), memoryMiB: f.count('memoryMiB'), appMemoryMiB: f.count('appMemoryMiB'), kernel: f.str('kernel'),
      qmpSocket: f.str('qmpSocket'), agentSocket: f.str('agentSocket'),
      cgroups: f.strList('cgroups', (c) => path.isAbsolute(c), 'a list of absolute paths'),
      qemuUser: userns ? { userns: { shift: userns.count('shift'), count: userns.count('count') } } : { uid: qu.count('uid') },
    };
  },
};

export const kvmTraits: FlavorTraits<KvmState> = { record: kvmRecord, volumePath: guestVolumePath };
