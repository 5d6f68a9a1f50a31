// The validated description of one pod VM: everything qemu-argv/ needs, nothing it has to look up.
import path from 'node:path';
import { RktError } from '../../common/errors.js';
import type { Accel } from './accel.js';
import { MAX_VCPUS, VM_MIN_MEMORY_MIB } from './resources.js';

/** A host directory exported to the guest over virtio-9p. */
export interface Share {
  /** QEMU object id (fsdev), unique in the VM. */
  id: string;
  /** The 9p mount tag the guest mounts by; must not start with "/dev/" (6.x kernels strip it). */
  tag: string;
  /** What QEMU opens: a host path, or /proc/self/fd/N of a directory fd the launcher pre-opened. */
  path: string;
  readOnly: boolean;
}

export interface VmSpec {
  /** Machine name, `rkt-<uuid>`; also QEMU's -name. */
  name: string;
  accel: Accel;
  vcpus: number;
  memoryMiB: number;
  /** Guest kernel (an ELF vmlinux with a PVH note boots without decompression; a bzImage works too). */
  kernel: string;
  cmdline: string[];
  /** The stage1 tree, the guest's root filesystem. */
  root: Share;
  /** Pod volumes, mounted by the guest under /rkt/volumes/<name>. */
  volumes: Share[];
  /** Interactive: the serial console is the app's terminal (no ^C to QEMU). */
  interactive: boolean;
  /** QMP server socket path as QEMU sees it. */
  qmpSocket: string;
  /** Guest agent channel (virtio-serial port `rkt.agent`) socket path as QEMU sees it. */
  agentSocket: string;
}

const TAG = /^[A-Za-z0-9_.-]{1,31}$/;
const ID = /^[A-Za-z][A-Za-z0-9_-]{0,30}$/;

function bad(what: string, why: string): RktError {
  return new RktError('STAGE1', `invalid vm spec: ${what}: ${why}`);
}

export function validateVmSpec(spec: VmSpec): VmSpec {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(spec.name)) throw bad('name', `expected [A-Za-z0-9_.-]{1,64}, got "${spec.name}"`);
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > MAX_VCPUS) {
    throw bad('vcpus', `expected 1..${MAX_VCPUS}, got ${spec.vcpus}`);
  }
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < VM_MIN_MEMORY_MIB) {
    throw bad('memory', `expected at least ${VM_MIN_MEMORY_MIB} MiB, got ${spec.memoryMiB}`);
  }
  if (!path.isAbsolute(spec.kernel)) throw bad('kernel', `expected an absolute path, got "${spec.kernel}"`);
  for (const t of spec.cmdline) {
    if (t === '' || /[\s"]/.test(t)) throw bad('kernel cmdline', `token ${JSON.stringify(t)} is empty or has blanks/quotes`);
  }
  const ids = new Set<string>();
  const tags = new Set<string>();
  for (const s of [spec.root, ...spec.volumes]) {
    if (!ID.test(s.id)) throw bad(`share ${s.id}`, 'id must be a letter then [A-Za-z0-9_-], at most 31 characters');
    if (!TAG.test(s.tag) || s.tag.startsWith('/dev/')) throw bad(`share ${s.id}`, `mount tag "${s.tag}" is not [A-Za-z0-9_.-]{1,31}`);
    if (!path.isAbsolute(s.path)) throw bad(`share ${s.id}`, `expected an absolute path, got "${s.path}"`);
    if (ids.has(s.id)) throw bad(`share ${s.id}`, 'duplicate id');
    if (tags.has(s.tag)) throw bad(`share ${s.id}`, `duplicate mount tag "${s.tag}"`);
    ids.add(s.id);
    tags.add(s.tag);
  }
  if (spec.qmpSocket === '' || spec.agentSocket === '') throw bad('sockets', 'qmp and agent socket paths are required');
  return spec;
}
