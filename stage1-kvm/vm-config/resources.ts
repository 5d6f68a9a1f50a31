// Sizes the VM: an ordinary pod from its apps' resource isolators (vCPUs from resource/cpu, RAM from
// resource/memory); a mutable pod, whose apps are not known at boot, from its sandbox annotations.
import { findIsolator, parseResourceQuantity, type PodManifest } from '../../common/appc/index.js';
import { RktError } from '../../common/errors.js';

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

/** Pod annotations sizing a mutable pod's VM: RAM for the apps (on top of VM_OVERHEAD_MIB) and vCPUs, as quantities. */
export const SANDBOX_MEMORY_ANNOTATION = 'rkt-ts/sandbox/memory';
export const SANDBOX_CPUS_ANNOTATION = 'rkt-ts/sandbox/cpus';
export const DEFAULT_SANDBOX_MEMORY = '512Mi';
export const DEFAULT_SANDBOX_CPUS = '2';

function quantity(annotation: string, raw: string): { value: number; milli: number } {
  try {
    const q = parseResourceQuantity(raw);
    if (q.milli <= 0) throw new Error('not positive');
    return q;
  } catch (err) {
    throw new RktError('POD_INVALID', `pod annotation ${annotation}="${raw}" is not a positive resource quantity`, {
      hint: `e.g. ${annotation}=${annotation === SANDBOX_MEMORY_ANNOTATION ? '512Mi or 1G' : '2 or 1500m'}`, cause: err,
    });
  }
}

/** A mutable pod's VM: `rkt-ts/sandbox/memory` (default 512Mi) for the apps plus the overhead, `rkt-ts/sandbox/cpus` (default 2) capped by the host. */
export function sandboxResources(annotations: readonly { name: string; value: string }[], hostCpus: number): VmResources {
  const get = (name: string, dflt: string): string => annotations.find((a) => a.name === name)?.value ?? dflt;
  const mem = quantity(SANDBOX_MEMORY_ANNOTATION, get(SANDBOX_MEMORY_ANNOTATION, DEFAULT_SANDBOX_MEMORY));
  const cpus = quantity(SANDBOX_CPUS_ANNOTATION, get(SANDBOX_CPUS_ANNOTATION, DEFAULT_SANDBOX_CPUS));
  const memMiB = Math.max(VM_MIN_MEMORY_MIB, VM_OVERHEAD_MIB + Math.ceil(mem.value / (1024 * 1024)));
  const cap = Math.max(1, Math.min(MAX_VCPUS, hostCpus));
  return { vcpus: Math.max(1, Math.min(cap, Math.ceil(cpus.milli / 1000))), memoryMiB: Math.ceil(memMiB / 2) * 2 };
}

/** RAM the apps may use in total (what app/add checks a new app's memory limit against). */
export function appMemoryBudgetMiB(r: VmResources): number {
  return r.memoryMiB - VM_OVERHEAD_MIB;
}
