// Unit tests for network config loading and validation (real files in a temp dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findNetwork, loadNetworks, parseNetConfText } from './config.js';
import { RktError } from '../../common/errors.js';

async function withNetD(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rkt-netconf-'));
  try {
    await mkdir(path.join(dir, 'net.d'));
    for (const [n, text] of Object.entries(files)) await writeFile(path.join(dir, 'net.d', n), text);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('built-in networks carry rkt\'s defaults', async () => {
  const nets = await loadNetworks(undefined);
  const d = nets.get('default');
  assert.equal(d?.type, 'ptp');
  assert.equal(d?.ipMasq, true);
  assert.deepEqual(d?.json['ipam'], { type: 'host-local', subnet: '172.16.28.0/24', routes: [{ dst: '0.0.0.0/0' }] });
  const r = nets.get('default-restricted');
  assert.equal(r?.ipMasq, false);
  assert.deepEqual(r?.json['ipam'], { type: 'host-local', subnet: '172.31.0.0/16' });
});

test('net.d files are loaded, may override a built-in, and get a cniVersion', async () => {
  await withNetD({
    '10-br.conf': JSON.stringify({ name: 'br', type: 'bridge', ipam: { type: 'host-local', subnet: '10.9.0.0/24' } }),
    '20-default.conf': JSON.stringify({ cniVersion: '0.3.1', name: 'default', type: 'ptp', ipam: { type: 'host-local', subnet: '10.8.0.0/24' } }),
    'ignored.json': '{',
  }, async (dir) => {
    const nets = await loadNetworks(dir);
    assert.equal(nets.get('br')?.json['cniVersion'], '0.4.0');
    assert.equal(nets.get('br')?.source, path.join(dir, 'net.d', '10-br.conf'));
    assert.equal(nets.get('default')?.cniVersion, '0.3.1');
    assert.ok(nets.has('default-restricted'));
  });
});

test('bad configs name the file and the problem', async () => {
  const cases: [string, RegExp][] = [
    ['{"name": "x", "type": "bridge",}', /invalid network config .*bad\.conf: not valid JSON/],
    ['{"name": "x"}', /bad\.conf: "type" is missing/],
    ['{"type": "bridge"}', /bad\.conf: "name" is missing/],
    ['[1]', /bad\.conf: expected a JSON object/],
    ['{"name": "host", "type": "bridge"}', /"name" "host" is reserved/],
    ['{"name": "x", "type": "../bin/sh"}', /"type" "..\/bin\/sh" is not a plugin name/],
    ['{"name": "x", "type": "bridge", "ipMasq": "yes"}', /"ipMasq" must be true or false/],
    ['{"name": "x", "type": "bridge", "cniVersion": 4}', /"cniVersion" must be a version string/],
    ['{"name": "x", "type": "bridge", "ipam": "host-local"}', /"ipam" must be an object/],
    ['{"name": "x", "plugins": []}', /"plugins" must be a non-empty list/],
    ['{"name": "x", "plugins": [{"type": "bridge"}, "tuning"]}', /plugins\[1\] must be an object/],
    ['{"name": "x", "plugins": [{"type": "bridge"}, {"mtu": 1400}]}', /plugins\[1\]: "type" is missing/],
    ['{"name": "x", "type": "bridge", "plugins": [{"type": "bridge"}]}', /not a top-level "type"/],
  ];
  for (const [text, re] of cases) {
    await withNetD({ 'bad.conf': text }, async (dir) => {
      await assert.rejects(loadNetworks(dir), (e: unknown) => e instanceof RktError && e.code === 'NETWORK_CONFIG' && re.test(e.message) && e.hint !== undefined);
    });
  }
});

test('two files defining one network is an error naming both', async () => {
  await withNetD({ 'a.conf': '{"name":"n","type":"ptp"}', 'b.conf': '{"name":"n","type":"bridge"}' }, async (dir) => {
    await assert.rejects(loadNetworks(dir), /b\.conf: network "n" is already defined in .*a\.conf/);
  });
});

test('unknown network names list the known ones and where to define it', async () => {
  const nets = await loadNetworks('/nonexistent-config');
  assert.throws(() => findNetwork(nets, 'nope', '/etc/rkt'), (e: unknown) =>
    e instanceof RktError && e.message === 'unknown network "nope"' && /default, default-restricted/.test(e.hint ?? '') && /\/etc\/rkt\/net\.d/.test(e.hint ?? ''));
});

test('parseNetConfText keeps unknown fields for the plugin', () => {
  const c = parseNetConfText('{"name":"m","type":"macvlan","master":"eth9","mode":"bridge"}', 'x.conf');
  assert.equal(c.json['master'], 'eth9');
  assert.equal(c.ipMasq, false);
});

test('a .conflist is a plugin chain: each plugin gets the list\'s name and cniVersion', async () => {
  const list = { cniVersion: '1.0.0', name: 'chain', plugins: [{ type: 'bridge', bridge: 'b0', ipMasq: true, ipam: { type: 'host-local', subnet: '10.9.0.0/24' } }, { type: 'portmap', name: 'ignored' }] };
  await withNetD({ '20-chain.conflist': JSON.stringify(list), '10-single.conf': '{"name":"single","type":"ptp"}' }, async (dir) => {
    const nets = await loadNetworks(dir);
    const c = nets.get('chain');
    assert.ok(c);
    assert.equal(c.type, 'bridge');
    assert.equal(c.ipMasq, true);
    assert.deepEqual(c.plugins.map((p) => [p['type'], p['name'], p['cniVersion']]), [['bridge', 'chain', '1.0.0'], ['portmap', 'chain', '1.0.0']]);
    assert.deepEqual(nets.get('single')?.plugins, [nets.get('single')?.json]);
  });
});
