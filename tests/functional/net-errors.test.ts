// Bad --net names, bad net.d configs and failing plugins give clear errors and leave nothing behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setupPodNetworks, teardownPodNetworks } from '../../stage1-shared/networking/index.js';
import { RktError } from '../../common/errors.js';
import { fakePod, hostNetState, netSkipReason, type FakePod, type HostNetState } from './net-helpers.js';

const skip = await netSkipReason();
let cfg: FakePod;
let base: HostNetState;

async function writeConf(name: string, value: unknown): Promise<void> {
  await writeFile(path.join(cfg.root, 'net.d', name), typeof value === 'string' ? value : JSON.stringify(value));
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

before(async () => {
  if (skip !== undefined) return;
  cfg = await fakePod();
  await mkdir(path.join(cfg.root, 'net.d'));
  base = await hostNetState();
});

after(async () => {
  if (skip !== undefined) return;
  await cfg.cleanup();
});

test('an unknown network name is refused before anything is created', { skip }, async () => {
  const p = await fakePod();
  try {
    await assert.rejects(setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default,nosuchnet', localConfigDir: cfg.root }), (e: unknown) =>
      e instanceof RktError && e.code === 'NETWORK_CONFIG' && e.message === 'unknown network "nosuchnet"' &&
      (e.hint ?? '').includes(path.join(cfg.root, 'net.d')));
    assert.equal(await exists(path.join(p.podDir, 'netns')), false);
    assert.equal(await exists(`/run/netns/rkt-${p.uuid}`), false);
  } finally {
    await p.cleanup();
  }
});

test('a broken config file is named in the error', { skip }, async () => {
  const p = await fakePod();
  try {
    await writeConf('50-broken.conf', '{"name": "broken", "type": "bridge",');
    await assert.rejects(setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default', localConfigDir: cfg.root }),
      new RegExp(`invalid network config ${path.join(cfg.root, 'net.d', '50-broken.conf').replace(/[.]/g, '\\.')}: not valid JSON`));
    await writeConf('50-broken.conf', { name: 'broken' });
    await assert.rejects(setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default', localConfigDir: cfg.root }), /50-broken\.conf: "type" is missing/);
  } finally {
    await writeConf('50-broken.conf', { name: 'fixed', type: 'bridge', bridge: 'rktunused0' });
    await p.cleanup();
  }
});

test('a missing plugin is refused before anything is created', { skip }, async () => {
  const p = await fakePod();
  try {
    await writeConf('60-noplugin.conf', { name: 'noplugin', type: 'no-such-plugin' });
    await assert.rejects(setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'noplugin', localConfigDir: cfg.root }),
      /network "noplugin": CNI plugin "no-such-plugin" not found in \/usr\/lib\/cni/);
    assert.equal(await exists(`/run/netns/rkt-${p.uuid}`), false);
  } finally {
    await p.cleanup();
  }
});

test('a plugin failing on the second network undoes the first, leaving the host as it was', { skip }, async () => {
  const p = await fakePod();
  try {
    // host-local refuses a /33: the ADD fails after `default` was attached.
    await writeConf('70-badipam.conf', {
      name: 'badipam', type: 'ptp', ipam: { type: 'host-local', subnet: '198.18.250.0/33', dataDir: path.join(cfg.root, 'ipam') },
    });
    const setup = setupPodNetworks({ podDir: p.podDir, uuid: p.uuid, net: 'default,badipam', localConfigDir: cfg.root });
    await assert.rejects(setup, (e: unknown) =>
      e instanceof RktError && e.code === 'NETWORK' && /^network "badipam": CNI ADD with plugin ptp failed: .*198\.18\.250\.0\/33/.test(e.message));
    assert.equal(await exists(`/run/netns/rkt-${p.uuid}`), false);
    assert.equal(await exists(path.join(p.podDir, 'net')), false);
    assert.deepEqual(await hostNetState(), base);
  } finally {
    await teardownPodNetworks(p.podDir);
    await p.cleanup();
  }
});
