// The serial console: the guest's ttyS0 on rkt's stdio (the app's terminal with --interactive).
import type { VmSpec } from '../vm-config/spec.js';

export function consoleArgv(spec: Pick<VmSpec, 'interactive'>): string[] {
  // signal=off when interactive: ^C belongs to the app, not to QEMU; otherwise ^C stops the pod
  return [
    '-chardev', `stdio,id=console,signal=${spec.interactive ? 'off' : 'on'}`,
    '-serial', 'chardev:console',
  ];
}
