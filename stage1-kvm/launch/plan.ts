// Turns the pod directory and the run flags into a launch plan: the VmSpec, the QEMU argv and the
// environment of the kvm-supervise script. Pure apart from what the inputs say (tested without QEMU).
import path from 'node:path';
import type { Volume } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';
import { stage1RootfsPath } from '../../common/pod-layout.js';
import { QEMU_BINARY, qemuArgv } from '../qemu-argv/index.js';
import { netArgv, type QemuNic } from '../qemu-argv/net.js';
import type { AccelDecision } from '../vm-config/accel.js';
import { kernelCmdline } from '../vm-config/cmdline.js';
import type { VmResources } from '../vm-config/resources.js';
import { validateVmSpec, type Share, type VmSpec } from '../vm-config/spec.js';
import type { GuestVolume } from './guest-files.js';
import type { MachineRegistration } from '../../stage1-shared/machined.js';

/** The 9p mount tag of the guest root (not "/dev/...": 6.x kernels strip that prefix). */
export const ROOT_TAG = 'rktroot';
/**
 * Descriptors the run entrypoint opened (as root, before any privilege drop) and QEMU inherits: it is
 * given /proc/self/fd/<n>, so it needs no search permission on the pod dir or a volume's parents.
 */
export interface LaunchFds {
  root: number;
  kernel: number;
  runDir: number;
  /** Per host volume, in the order of PlanInput.volumes' host volumes. */
  volumes: number[];
}
/**
 * Where QEMU's private root is mounted, inside its own mount namespace only, and what QEMU is started
 * chrooted in (kvm-qemu-root builds it: /usr read-only, a private /proc, a few device nodes, the pod's
 * journal). One empty directory on the host serves every pod.
 */
export const QEMU_ROOT_DIR = '/run/rkt-kvm-root';
/** Base of the uids QEMU runs as when the pod has no --private-users range (one uid per pod, from its uuid). */
export const QEMU_UID_BASE = 0x60000000;

export interface PlanInput {
  podDir: string;
  uuid: string;
  apps: string[];
  /** A mutable pod: its apps change while it runs, so kvm-supervise gets no app list. */
  mutable: boolean;
  volumes: readonly Volume[];
  accel: AccelDecision;
  resources: VmResources;
  kernel: string;
  /** Host TSC rate, passed to a TCG guest (see cmdline.ts). */
  tscKhz?: number;
  debug: boolean;
  interactive: boolean;
  privateUsers?: { shift: number; count: number };
  cgroups: string[];
  fds: LaunchFds;
  /** The pod netns QEMU runs in, and the guest NICs on its taps (none: the VM has no network). */
  netnsPath?: string;
  nics?: readonly QemuNic[];
  /** How kvm-supervise registers the VM with systemd-machined (none without it). */
  registration?: MachineRegistration;
}

export interface LaunchPlan {
  spec: VmSpec;
  /** Host volumes shared as separate 9p exports (empty volumes live inside the root tree). */
  guestVolumes: GuestVolume[];
  qemu: string[];
  env: Record<string, string>;
  /** uid QEMU runs as on the host (the range's first id with --private-users). */
  qemuHostUid: number;
}

export function qemuUidFor(uuid: string): number {
  return QEMU_UID_BASE + parseInt(uuid.replace(/-/g, '').slice(0, 4), 16);
}

export function makePlan(i: PlanInput): LaunchPlan {
  const volumes: Share[] = [];
  const guestVolumes: GuestVolume[] = [];
  let n = 0;
  for (const v of i.volumes) {
    if (v.kind !== 'host' || v.source === undefined) continue;
    const fd = i.fds.volumes[n];
    if (fd === undefined) throw new RktError('INTERNAL', `no descriptor for volume ${v.name}`);
    const share: Share = { id: `vol${n}`, tag: `rktvol${n}`, path: `/proc/self/fd/${fd}`, readOnly: v.readOnly === true };
    volumes.push(share);
    guestVolumes.push({ name: v.name, tag: share.tag, readOnly: share.readOnly });
    n++;
  }
  const spec: VmSpec = validateVmSpec({
    name: `rkt-${i.uuid}`,
    accel: i.accel.accel,
    vcpus: i.resources.vcpus,
    memoryMiB: i.resources.memoryMiB,
    kernel: `/proc/self/fd/${i.fds.kernel}`,
    cmdline: kernelCmdline({
      rootTag: ROOT_TAG, debug: i.debug, pci: false, mutable: i.mutable, ...(i.accel.accel === 'tcg' && i.tscKhz ? { tscKhz: i.tscKhz } : {}),
    }),
    root: { id: 'root', tag: ROOT_TAG, path: `/proc/self/fd/${i.fds.root}`, readOnly: false },
    volumes,
    interactive: i.interactive,
    qmpSocket: `/proc/self/fd/${i.fds.runDir}/qmp.sock`,
    agentSocket: `/proc/self/fd/${i.fds.runDir}/agent.sock`,
  });
  const env: Record<string, string> = {
    RKT_KVM_CGROUPS: i.cgroups.join('\n'),
    RKT_KVM_STATUS_DIR: path.join(stage1RootfsPath(i.podDir), 'rkt', 'status'),
    RKT_KVM_INTERACTIVE: i.interactive ? '1' : '0',
    RKT_KVM_DEBUG: i.debug ? '1' : '0',
    RKT_KVM_MACHINE: `rkt-${i.uuid}`,
    RKT_KVM_MACHINE_ID: i.uuid.replace(/-/g, ''),
    RKT_KVM_REGISTER: i.registration ?? 'none',
    RKT_KVM_QEMU_ROOT: QEMU_ROOT_DIR,
    RKT_KVM_DEVICES: i.accel.accel === 'kvm' ? '/dev/kvm' : '',
  };
  if (i.mutable) env['RKT_KVM_MUTABLE'] = '1';
  else env['RKT_KVM_APPS'] = i.apps.join(' ');
  if (i.netnsPath !== undefined) env['RKT_KVM_NETNS'] = i.netnsPath;
  let qemuHostUid: number;
  if (i.privateUsers) {
    env['RKT_KVM_USERNS'] = `${i.privateUsers.shift} ${i.privateUsers.count}`;
    qemuHostUid = i.privateUsers.shift;
  } else {
    qemuHostUid = qemuUidFor(i.uuid);
    env['RKT_KVM_UID'] = String(qemuHostUid);
  }
  return { spec, guestVolumes, qemu: [QEMU_BINARY, ...qemuArgv(spec), ...netArgv(i.nics ?? [])], env, qemuHostUid };
}
