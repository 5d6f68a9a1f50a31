// Unit tests for the guest-side network config rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestNetworkCommands, guestNetworkScript, kernelIpParam, type GuestNic } from './kvm-guest.js';

const nic: GuestNic = {
  index: 0, netName: 'default', tapName: 'tap0', guestIfName: 'eth0', mac: 'de:75:2f:3b:95:1e', mtu: 1500,
  ip: '172.16.28.3', prefixLength: 24, mask: '255.255.255.0', gateway: '172.16.28.1',
  routes: [
    { dst: '172.16.28.1', scope: 'link', src: '172.16.28.3' },
    { dst: 'default', gateway: '172.16.28.1' },
    { dst: '172.16.28.0/24', gateway: '172.16.28.1', src: '172.16.28.3' },
  ],
};

test('guest commands mirror the netns config', () => {
  assert.deepEqual(guestNetworkCommands([nic]).map((c) => c.join(' ')), [
    'ip link set lo up',
    'ip link set dev eth0 address de:75:2f:3b:95:1e mtu 1500 up',
    'ip address add 172.16.28.3/24 dev eth0 noprefixroute',
    'ip route add 172.16.28.1 dev eth0 scope link src 172.16.28.3',
    'ip route add default via 172.16.28.1 dev eth0',
    'ip route add 172.16.28.0/24 via 172.16.28.1 dev eth0 src 172.16.28.3',
  ]);
  assert.match(guestNetworkScript([nic]), /^#!\/bin\/sh\n[^]*set -e\nip link set lo up\n/);
});

test('kernel ip= parameter', () => {
  assert.equal(kernelIpParam(nic, 'rkt-x'), 'ip=172.16.28.3::172.16.28.1:255.255.255.0:rkt-x:eth0:off');
});
