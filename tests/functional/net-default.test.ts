// The `default` network for a fake pod dir with real CNI plugins: the pod's interface and address,
// net-info.json, host <-> pod TCP, and a teardown that leaves the host as it was.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { readNetInfo, setupPodNetworks, teardownPodNetworks, type PodNetworks } from '../../stage1-shared/networking/index.js';
import { fakePod, hostListener, hostNetState, inNetns, listenInNetns, netSkipReason, tcpGet, type FakePod, type HostNetState } from './net-helpers.js';

const skip = await netSkipReason();
let pod: FakePod;
let res: PodNetworks;
let before0: HostNetState;

before(async () => {
  if (skip !== undefined) return;
  before0 = await hostNetState();
  pod = await fakePod();
  res = await setupPodNetworks({ podDir: pod.podDir, uuid: pod.uuid, net: 'default' });
});

after(async () => {
  if (skip !== undefined) return;
  await teardownPodNetworks(pod.podDir);
  await pod.cleanup();
});

test('the pod gets eth0 with an address from 172.16.28.0/24 in its own netns', { skip }, async () => {
  assert.equal(res.netnsPath, `/run/netns/rkt-${pod.uuid}`);
  assert.equal((await readFile(`${pod.podDir}/netns`, 'utf8')).trim(), res.netnsPath);
  const info = res.netInfo[0];
  assert.ok(info);
  assert.equal(res.netInfo.length, 1);
  assert.equal(info.netName, 'default');
  assert.equal(info.ifName, 'eth0');
  assert.match(info.ip, /^172\.16\.28\.\d+$/);
  assert.equal(info.mask, '255.255.255.0');
  assert.equal(info.hostIP, '172.16.28.1');
  assert.equal(info.pluginPath, '/usr/lib/cni/ptp');
  const addr = await inNetns(res.netnsPath ?? '', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
  assert.match(addr.stdout, new RegExp(`inet ${info.ip.replace(/\./g, '\\.')}/24`));
  const lo = await inNetns(res.netnsPath ?? '', ['ip', '-o', 'link', 'show', 'lo']);
  assert.match(lo.stdout, /UP/);
  const route = await inNetns(res.netnsPath ?? '', ['ip', '-4', 'route', 'show', 'default']);
  assert.match(route.stdout, /default via 172\.16\.28\.1 dev eth0/);
  assert.deepEqual(await readNetInfo(pod.podDir), res.netInfo);
});

test('host reaches a TCP listener in the pod', { skip }, async () => {
  const l = await listenInNetns(res.netnsPath ?? '', 'pod-hello');
  try {
    assert.match(await tcpGet(res.netInfo[0]?.ip ?? '', l.port), /^pod-hello from 172\.16\.28\.1$/);
  } finally {
    await l.stop();
  }
});

test('pod reaches a TCP listener on the host', { skip }, async () => {
  const l = await hostListener('172.16.28.1', 'host-hello');
  try {
    const got = await tcpGet('172.16.28.1', l.port, res.netnsPath);
    assert.equal(got, `host-hello from ${res.netInfo[0]?.ip ?? ''}`);
  } finally {
    await l.stop();
  }
});

test('teardown removes netns, veth, masquerade and lease, and can run twice', { skip }, async () => {
  const p2 = await fakePod();
  try {
    const r2 = await setupPodNetworks({ podDir: p2.podDir, uuid: p2.uuid, net: ['default'] });
    assert.notEqual(r2.netInfo[0]?.ip, res.netInfo[0]?.ip);
    const during = await hostNetState();
    assert.ok(during.iptables.includes(p2.uuid), 'ptp installed its masquerade rule');
    assert.ok(during.netns.includes(`rkt-${p2.uuid}`));
    await teardownPodNetworks(p2.podDir);
    await teardownPodNetworks(p2.podDir);
    const now = await hostNetState();
    assert.ok(!now.iptables.includes(p2.uuid));
    assert.ok(!now.netns.includes(`rkt-${p2.uuid}`));
    assert.ok(!now.leases.includes(`default/${r2.netInfo[0]?.ip ?? ''}`));
    assert.ok(!now.links.includes(`rkt-${p2.uuid}`));
  } finally {
    await p2.cleanup();
  }
});

test('the host has exactly one extra netns and lease while the first pod runs', { skip }, async () => {
  const now = await hostNetState();
  assert.deepEqual(now.netns.filter((n) => !before0.netns.includes(n)), [`rkt-${pod.uuid}`]);
  assert.deepEqual(now.leases.filter((n) => !before0.leases.includes(n)), [`default/${res.netInfo[0]?.ip ?? ''}`]);
});
