// Machine, accelerator, CPU, memory, kernel and QEMU's own hardening: the argv that makes the VM exist.
import type { VmSpec } from '../vm-config/spec.js';
import { optValue } from './escape.js';

/** QEMU's seccomp sandbox with every optional deny: no exec, no setuid, no obsolete syscalls, no affinity games. */
export const SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';

export function machineArgv(spec: Pick<VmSpec, 'name' | 'accel' | 'vcpus' | 'memoryMiB' | 'kernel' | 'cmdline'>): string[] {
  return [
    '-name', `${optValue(spec.name)},process=${optValue(spec.name)}`,
    // microvm: virtio-mmio only, no PCI/firmware enumeration; ACPI for power-off and the power button; a CMOS
    // RTC so the guest starts with the host's wall-clock time (journal timestamps).
    '-machine', `microvm,accel=${spec.accel},acpi=on,rtc=on,isa-serial=on`,
    // TCG: every feature QEMU can emulate; KVM: the host CPU as is.
    '-cpu', spec.accel === 'kvm' ? 'host' : 'max',
    '-smp', String(spec.vcpus),
    '-m', `${spec.memoryMiB}M`,
    '-kernel', spec.kernel,
    '-append', spec.cmdline.join(' '),
    // no default devices, no config files, no display: only what this file and its siblings add
    '-nodefaults', '-no-user-config', '-display', 'none',
    // a guest reboot (or panic) ends QEMU: a pod never restarts itself
    '-no-reboot',
    '-sandbox', SANDBOX,
  ];
}
