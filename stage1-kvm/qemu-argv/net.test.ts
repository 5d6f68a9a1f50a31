// Unit tests of the NIC argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netArgv } from './net.js';

test('net: one tap netdev and one virtio-net-device per NIC, with the MAC', () => {
  assert.deepEqual(netArgv([]), []);
  assert.deepEqual(netArgv([{ tapName: 'tap0', mac: '0A:58:AC:10:1C:05' }, { tapName: 'tap1', mac: '0a:58:ac:10:1d:06' }]), [
    '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no',
    '-device', 'virtio-net-device,netdev=n0,mac=0a:58:ac:10:1c:05',
    '-netdev', 'tap,id=n1,ifname=tap1,script=no,downscript=no',
    '-device', 'virtio-net-device,netdev=n1,mac=0a:58:ac:10:1d:06',
  ]);
});

test('net: names that could smuggle options are refused', () => {
  assert.throws(() => netArgv([{ tapName: 'tap0,script=/x', mac: '0a:58:ac:10:1c:05' }]));
  assert.throws(() => netArgv([{ tapName: 'tap0', mac: 'zz' }]));
});
