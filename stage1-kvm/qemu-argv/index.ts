// The whole QEMU argv for a validated VmSpec: a pure function, one part per device family.
import { validateVmSpec, type VmSpec } from '../vm-config/spec.js';
import { consoleArgv } from './console.js';
import { controlArgv } from './control.js';
import { sharesArgv } from './fs9p.js';
import { machineArgv } from './machine.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

/** argv without the binary name. */
export function qemuArgv(spec: VmSpec): string[] {
  validateVmSpec(spec);
  return [...machineArgv(spec), ...consoleArgv(spec), ...controlArgv(spec), ...sharesArgv(spec.root, spec.volumes)];
}
