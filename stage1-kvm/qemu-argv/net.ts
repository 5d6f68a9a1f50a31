// Guest NICs: one virtio-net (mmio) device per pod interface, backed by a tap QEMU opens by name, so
// QEMU must run inside the pod's netns (kvm-supervise enters it).
import { RktError } from '../../common/errors.js';
import { opts } from './escape.js';

export interface QemuNic {
  /** Tap device name inside the pod netns. */
  tapName: string;
  /** MAC the guest NIC gets (the CNI interface's, so ARP and net-info agree). */
  mac: string;
}

const TAP_RE = /^[a-zA-Z0-9_.-]{1,15}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** argv for the NICs, in order: the guest kernel names them eth0, eth1, ... */
export function netArgv(nics: readonly QemuNic[]): string[] {
  const argv: string[] = [];
  for (const [i, n] of nics.entries()) {
    if (!TAP_RE.test(n.tapName)) throw new RktError('INTERNAL', `invalid tap device name ${JSON.stringify(n.tapName)}`);
    if (!MAC_RE.test(n.mac)) throw new RktError('INTERNAL', `invalid mac address ${JSON.stringify(n.mac)}`);
    argv.push(
      '-netdev', opts('tap', [['id', `n${i}`], ['ifname', n.tapName], ['script', 'no'], ['downscript', 'no']]),
      '-device', opts('virtio-net-device', [['netdev', `n${i}`], ['mac', n.mac.toLowerCase()]]),
    );
  }
  return argv;
}
