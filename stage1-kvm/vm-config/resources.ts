// Sizes the VM from the apps' resource isolators: vCPUs from resource/cpu, RAM from resource/memory.
import { findIsolator, parseResourceQuantity, type PodManifest } from '../../common/appc/index.js';

/** RAM the guest needs for its kernel, systemd, journald and the 9p caches, on top of the apps' limits. */
export const VM_OVERHEAD_MIB = 128;
/**
 * Smallest RAM given to a VM. Measured (TCG, this kernel, the trimmed stage1, one trivial app): 48 MiB boots
 * and runs cleanly, 40 MiB boots with OOM kills, 32 MiB does not boot. 128 MiB leaves room for dbus and
 * `rkt enter` sessions; guest RAM QEMU never touches costs the host nothing.
 */
export const VM_MIN_MEMORY_MIB = 128;
/** RAM assumed for an app that sets no memory limit. */
export const DEFAULT_APP_MEMORY_MIB = 128;
export const MAX_VCPUS = 64;

export interface VmResources {
  vcpus: number;
  memoryMiB: number;
}

/**
 * memory MiB = max(VM_MIN_MEMORY_MIB, VM_OVERHEAD_MIB + Σ per app (its memory limit, else DEFAULT_APP_MEMORY_MIB)),
 * rounded up to 2 MiB; vcpus = ceil(Σ per app (its cpu limit in cores, else 1)), between 1 and the host's CPUs.
 * The same limits are applied again per app inside the guest by the app units.
 */
export function vmResources(pod: PodManifest, hostCpus: number): VmResources {
  let memBytes = 0;
  let cpuMilli = 0;
  for (const app of pod.apps) {
    const isolators = [...(app.app?.isolators ?? [])];
    const mem = findIsolator(isolators, 'resource/memory');
    const memLimit = mem?.limit ?? mem?.request;
    memBytes += memLimit !== undefined ? parseResourceQuantity(memLimit).value : DEFAULT_APP_MEMORY_MIB * 1024 * 1024;
    const cpu = findIsolator(isolators, 'resource/cpu');
    const cpuLimit = cpu?.limit ?? cpu?.request;
    if (cpuLimit !== undefined) {
      cpuMilli += parseResourceQuantity(cpuLimit).milli;
    } else {
      cpuMilli += 1000;
    }
  }
  const memMiB = Math.max(VM_MIN_MEMORY_MIB, VM_OVERHEAD_MIB + Math.ceil(memBytes / (1024 * 1024)));
  const cap = Math.max(1, Math.min(MAX_VCPUS, hostCpus));
  return { vcpus: Math.max(1, Math.min(cap, Math.ceil(cpuMilli / 1000))), memoryMiB: Math.ceil(memMiB / 2) * 2 };
}
