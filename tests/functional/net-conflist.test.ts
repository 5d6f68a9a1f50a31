// CNI config lists (.conflist) with Debian's real plugins: bridge + tuning + portmap run as a chain (the
// tuning plugin's MTU and sysctl show up in the pod, so it got bridge's result), teardown DELs the whole
// chain, and a chain whose second plugin fails is rolled back completely. Only our own bridge and netns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { setupPodNetworks, teardownPodNetworks } from '../../stage1-shared/networking/index.js';
import { fakePod, inNetns, netSkipReason, type FakePod } from './net-helpers.js';
import { describeLeaks, settledLeaks, snapshotHost } from '../harness/leak-check.js';

async function pluginsMissing(): Promise<string | undefined> {
  for (const p of ['tuning', 'portmap']) {
    try {
      await access(`/usr/lib/cni/${p}`);
    } catch {
      return `needs /usr/lib/cni/${p}`;
    }
  }
  return undefined;
}

const skip = (await netSkipReason()) ?? (await pluginsMissing());
const tag = randomBytes(3).toString('hex');
const bridge = `rkttcl${tag}`;
const octet = randomBytes(1)[0] ?? 11;
const subnetPrefix = `198.18.${octet}`;
let cfg: FakePod;
let ipamDir: string;

function chain(name: string, tuning: Record<string, unknown>): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      // Leases in the test's own dir: nothing under /var/lib/cni to clean up.
      { type: 'bridge', bridge, isGateway: true, ipam: { type: 'host-local', subnet: `${subnetPrefix}.0/24`, dataDir: ipamDir } },
      { type: 'tuning', ...tuning },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

before(async () => {
  if (skip !== undefined) return;
  cfg = await fakePod();
  ipamDir = path.join(cfg.root, 'ipam');
  await mkdir(path.join(cfg.root, 'net.d'));
  await writeFile(path.join(cfg.root, 'net.d', '10-chain.conflist'), JSON.stringify(chain('chain', {
    mtu: 1400, sysctl: { 'net.ipv4.conf.eth0.arp_notify': '1' },
  })));
  // tuning fails on a sysctl that does not exist, after bridge already attached the pod
  await writeFile(path.join(cfg.root, 'net.d', '20-broken.conflist'), JSON.stringify(chain('broken', {
    sysctl: { 'net.ipv4.conf.eth0.no_such_sysctl_rkt_test': '1' },
  })));
});

after(async () => {
  if (skip !== undefined) return;
  // The bridge plugin never deletes its bridge (other pods may share it); this one is ours.
  await execa('ip', ['link', 'del', bridge], { reject: false });
  await cfg.cleanup();
});

async function leases(): Promise<string[]> {
  const files = await readdir(path.join(ipamDir, 'chain')).catch(() => [] as string[]);
  return files.filter((f) => !f.startsWith('last_reserved_ip') && f !== 'lock');
}

test('a .conflist runs its plugins as a chain and teardown removes what each did', { skip }, async () => {
  const before = await snapshotHost();
  const p = await fakePod();
  try {
    const res = await setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'chain', localConfigDir: cfg.root });
    const ns = res.netnsPath ?? '';
    assert.ok(res.netInfo[0]?.ip.startsWith(`${subnetPrefix}.`), JSON.stringify(res.netInfo));
    assert.equal(res.netInfo[0]?.pluginPath, '/usr/lib/cni/bridge');
    const link = await inNetns(ns, ['ip', '-o', 'link', 'show', 'eth0']);
    assert.match(link.stdout, /mtu 1400/, 'tuning ran on the bridge plugin\'s interface');
    const sysctl = await inNetns(ns, ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify']);
    assert.equal(sysctl.stdout.trim(), '1');
    // the pod reaches its gateway (the bridge) through the chained setup
    const ping = await inNetns(ns, ['busybox', 'ping', '-c', '1', '-W', '5', `${subnetPrefix}.1`]);
    assert.equal(ping.exitCode, 0, ping.stdout + ping.stderr);
    assert.equal((await leases()).length, 1);
    await teardownPodNetworks(p.podDir);
    assert.deepEqual(await leases(), []);
    const report = await settledLeaks(before, new Set([p.uuid]));
    // the bridge itself stays (as with every CNI runtime); everything pod-specific is gone
    const leaked = report.leaked.filter((l) => !new RegExp(`(^links: | dev )${bridge}\\b`).test(l));
    assert.deepEqual({ ...report, leaked }, { leaked: [], vanished: [] }, describeLeaks(report));
  } finally {
    await teardownPodNetworks(p.podDir).catch(() => undefined);
    await p.cleanup();
  }
});

test('a chain whose second plugin fails is rolled back: no lease, no netns, no veth', { skip }, async () => {
  const before = await snapshotHost();
  const p = await fakePod();
  try {
    await assert.rejects(
      setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'broken', localConfigDir: cfg.root }),
      /network "broken": CNI ADD with plugin tuning failed/,
    );
    assert.deepEqual(await readdir(path.join(ipamDir, 'broken')).then((f) => f.filter((x) => !x.startsWith('last_reserved_ip') && x !== 'lock')), []);
    const report = await settledLeaks(before, new Set([p.uuid]));
    const leaked = report.leaked.filter((l) => !new RegExp(`(^links: | dev )${bridge}\\b`).test(l));
    assert.deepEqual({ ...report, leaked }, { leaked: [], vanished: [] }, describeLeaks(report));
    await assert.rejects(access(`/run/netns/rkt-${p.uuid}`));
  } finally {
    await p.cleanup();
  }
});
