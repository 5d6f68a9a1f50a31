// The guest kernel command line, token by token, each with the reason it is there.
export interface CmdlineOptions {
  /** 9p mount tag of the root share. */
  rootTag: string;
  debug: boolean;
  /** microvm has no PCI bus: skip probing it. */
  pci: boolean;
  /** TCG only: the host TSC rate in kHz (the guest's TSC runs at it). */
  tscKhz?: number;
  /** A mutable pod: the host adds and removes apps' files in the tree while the guest runs. */
  mutable?: boolean;
}

export function kernelCmdline(o: CmdlineOptions): string[] {
  const t: string[] = [
    'console=ttyS0', // microvm's only console is the ISA serial port, wired to rkt's stdio
    '8250.nr_uarts=1', // probe one UART, not four
    'panic=-1', // a guest panic reboots at once; with -no-reboot QEMU then exits instead of hanging
    'reboot=t', // reboot by triple fault: works on every machine type, QEMU exits (-no-reboot)
    'tsc=reliable', // TCG's TSC jitters; the clocksource watchdog would otherwise demote it and warn
    `root=${o.rootTag}`, // the 9p mount tag of the pod's stage1 tree (not /dev/...: the kernel strips that)
    'rootfstype=9p',
    // loose cache where the host does not change the tree under a running guest: the guest may cache
    // lookups and pages (boot is ~25% faster than cache=mmap). A mutable pod's tree changes (apps added,
    // removed, re-added under the same name), which a loose cache would hide. msize 512 KiB, not 8 KiB.
    `rootflags=trans=virtio,version=9p2000.L,cache=${o.mutable === true ? 'mmap' : 'loose'},msize=524288`,
    'rw',
    'init=/lib/systemd/systemd', // systemd is the pod's PID 1, as under nspawn
    'systemd.unified_cgroup_hierarchy=1', // cgroup v2 in the guest: the app units' limits and BPF device rules
  ];
  // TSC calibration against the PIT fails when the host is busy (TCG time is jittery); the kernel then has
  // no usable clock and hangs. Given the rate, it skips the calibration.
  if (o.tscKhz !== undefined) t.push(`tsc_early_khz=${o.tscKhz}`);
  if (!o.pci) t.push('pci=off'); // microvm has no PCI bus: skip probing it
  if (o.debug) {
    t.push('loglevel=7', 'systemd.show_status=true', 'systemd.log_level=debug', 'systemd.log_target=console');
  } else {
    // The console carries the apps' output (StandardOutput=journal+console), not the kernel's: loglevel=0
    // mutes even its emergency level, where "reboot: Power down" ends every pod (systemd-shutdown raises the
    // level again; the image's system-shutdown/rkt-console-level puts it back). A panic still prints:
    // panic() raises the level itself.
    t.push('quiet', 'loglevel=0', 'systemd.show_status=false', 'systemd.log_level=warning', 'udev.log_level=3');
  }
  return t;
}
