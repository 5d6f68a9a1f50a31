// Published figures that the report puts beside ours (sources: shared/research/peer-anchors.md).
export interface Anchor {
  text: string;
  /** Which accelerator the anchor was measured with; KVM anchors are never compared to TCG figures. */
  accel: 'kvm' | 'n/a';
}

export const ANCHORS: Record<string, Anchor[]> = {
  'kvm-start-vs-raw-qemu': [
    { text: 'Firecracker: <=125 ms InstanceStart to guest init (SPECIFICATION.md, KVM)', accel: 'kvm' },
    { text: 'Kata Containers: 0.39-0.71 s to workload (KVM)', accel: 'kvm' },
  ],
  'kvm-vmm-overhead-mib': [
    { text: 'Firecracker: 2.5 MiB VMM overhead (NSDI\'20 data, KVM)', accel: 'kvm' },
    { text: 'QEMU: ~131 MiB VMM overhead (NSDI\'20 data, KVM)', accel: 'kvm' },
  ],
  'nspawn-start-vs-raw-nspawn': [{ text: "rkt's nspawn stage1: ~2.5 s to app output (rkt-monitor, laptop)", accel: 'n/a' }],
  'nspawn-pod-pss-mib': [{ text: "rkt's nspawn stage1: 12-13 MB per pod (systemd + journald + nspawn RSS)", accel: 'n/a' }],
  'density-kvm': [{ text: 'Kata Containers: ~123 MB per pod', accel: 'kvm' }],
};
