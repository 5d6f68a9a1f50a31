// Named networks from net.d: two pods on one bridge talk to each other; several networks at once
// (eth0, eth1); CNI_ARGS reach the plugin (IP=); default-restricted has no default route; none is lo only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { setupPodNetworks, teardownPodNetworks } from '../../stage1-shared/networking/index.js';
import { fakePod, inNetns, listenInNetns, netSkipReason, tcpGet, type FakePod } from './net-helpers.js';

const skip = await netSkipReason();
const tag = randomBytes(3).toString('hex');
const bridge = `rkttbr${tag}`;
const octet = randomBytes(1)[0] ?? 9;
const subnetPrefix = `198.18.${octet}`;
let cfg: FakePod;
const pods: FakePod[] = [];

async function newPod(): Promise<FakePod> {
  const p = await fakePod();
  pods.push(p);
  return p;
}

before(async () => {
  if (skip !== undefined) return;
  cfg = await fakePod();
  await mkdir(path.join(cfg.root, 'net.d'));
  await writeFile(path.join(cfg.root, 'net.d', '10-testbr.conf'), JSON.stringify({
    cniVersion: '0.4.0',
    name: 'testbr',
    type: 'bridge',
    bridge,
    isGateway: true,
    ipMasq: false,
    // Leases in the test's own dir: nothing under /var/lib/cni to clean up.
    ipam: { type: 'host-local', subnet: `${subnetPrefix}.0/24`, dataDir: path.join(cfg.root, 'ipam') },
  }));
});

after(async () => {
  if (skip !== undefined) return;
  for (const p of pods) {
    await teardownPodNetworks(p.podDir);
    await p.cleanup();
  }
  // The bridge plugin never deletes its bridge (other pods may share it); this one is ours.
  await execa('ip', ['link', 'del', bridge], { reject: false });
  await cfg.cleanup();
});

test('two pods on a bridge network reach each other', { skip }, async () => {
  const a = await newPod();
  const b = await newPod();
  const ra = await setupPodNetworks({ podDir: a.podDir, uuid: a.uuid, net: 'testbr', localConfigDir: cfg.root });
  const rb = await setupPodNetworks({ podDir: b.podDir, uuid: b.uuid, net: 'testbr', localConfigDir: cfg.root });
  const ipA = ra.netInfo[0]?.ip ?? '';
  const ipB = rb.netInfo[0]?.ip ?? '';
  assert.ok(ipA.startsWith(`${subnetPrefix}.`) && ipB.startsWith(`${subnetPrefix}.`));
  assert.equal(ra.netInfo[0]?.netConf, path.join(a.podDir, 'net', '00-testbr.json'));
  const l = await listenInNetns(ra.netnsPath ?? '', 'pod-a');
  try {
    assert.equal(await tcpGet(ipA, l.port, rb.netnsPath), `pod-a from ${ipB}`);
  } finally {
    await l.stop();
  }
  await teardownPodNetworks(b.podDir);
  const ports = await execa('ip', ['-o', 'link', 'show', 'master', bridge]);
  assert.equal(String(ports.stdout).trim().split('\n').filter((x) => x !== '').length, 1, 'only pod a is still on the bridge');
});

test('several networks: eth0 on default, eth1 on the bridge with a requested IP', { skip }, async () => {
  const p = await newPod();
  const want = `${subnetPrefix}.77`;
  const r = await setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: `default,testbr:IP=${want}`, localConfigDir: cfg.root });
  assert.deepEqual(r.netInfo.map((n) => [n.netName, n.ifName]), [['default', 'eth0'], ['testbr', 'eth1']]);
  assert.equal(r.netInfo[1]?.ip, want);
  assert.equal(r.netInfo[1]?.args, `IP=${want}`);
  const addrs = await inNetns(r.netnsPath ?? '', ['ip', '-o', '-4', 'addr']);
  assert.match(addrs.stdout, /eth0\s+inet 172\.16\.28\./);
  assert.match(addrs.stdout, new RegExp(`eth1\\s+inet ${want.replace(/\./g, '\\.')}/24`));
});

test('default-restricted: an address in 172.31.0.0/16, the host reachable, no default route', { skip }, async () => {
  const p = await newPod();
  const r = await setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default-restricted' });
  const info = r.netInfo[0];
  assert.match(info?.ip ?? '', /^172\.31\.\d+\.\d+$/);
  assert.equal(info?.mask, '255.255.0.0');
  const routes = await inNetns(r.netnsPath ?? '', ['ip', '-4', 'route']);
  assert.doesNotMatch(routes.stdout, /default/);
  const l = await listenInNetns(r.netnsPath ?? '', 'restricted');
  try {
    assert.equal(await tcpGet(info?.ip ?? '', l.port), `restricted from ${info?.hostIP ?? ''}`);
  } finally {
    await l.stop();
  }
});

test('--net=none gives a netns with loopback only; --net=host none at all', { skip }, async () => {
  const p = await newPod();
  const r = await setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'none' });
  assert.deepEqual(r.netInfo, []);
  const links = await inNetns(r.netnsPath ?? '', ['ip', '-o', 'link']);
  assert.deepEqual(links.stdout.trim().split('\n').map((l) => l.split(':')[1]?.trim()), ['lo']);
  const h = await newPod();
  assert.equal((await setupPodNetworks({ podDir: h.podDir, uuid: h.uuid, net: 'host' })).netnsPath, undefined);
});
