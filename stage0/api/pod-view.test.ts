// The Pod message made of what stage0/pod read: states, apps, networks, times, and the cgroup rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePodManifest } from '../../common/appc/index.js';
import type { PodInfo } from '../pod/info.js';
import { cgroupOf, podMessage } from './pod-view.js';

const ID = `sha512-${'a'.repeat(128)}`;
const manifest = parsePodManifest(JSON.stringify({
  acKind: 'PodManifest', acVersion: '0.8.11',
  apps: [{ name: 'web', image: { name: 'example.com/web', id: ID, labels: [{ name: 'version', value: '1.0' }] }, annotations: [{ name: 'a', value: 'b' }] }],
  annotations: [{ name: 'team', value: 'ops' }],
  userLabels: { tier: 'front', app: 'web' },
}));

test('an exited pod: state, app exit code, networks by family, times in ns, labels sorted', () => {
  const info: PodInfo = {
    uuid: 'u', stateDir: 'run', dir: '/nonexistent', state: 'exited', manifest,
    created: new Date(1000), started: new Date(2000),
    apps: [{ name: 'web', imageId: ID, state: 'exited', exitCode: 3 }],
    networks: [{ netName: 'default', ip: '172.16.28.2' }, { netName: 'v6', ip: 'fd00::2' }],
  };
  const p = podMessage(info);
  assert.equal(p.state, 'POD_STATE_EXITED');
  assert.equal(p.pid, -1);
  assert.equal(p.created_at, '1000000000');
  assert.equal(p.started_at, '2000000000');
  assert.equal(p.gc_marked_at, '0');
  assert.deepEqual(p.networks, [{ name: 'default', ipv4: '172.16.28.2', ipv6: '' }, { name: 'v6', ipv4: '', ipv6: 'fd00::2' }]);
  assert.deepEqual(p.annotations, [{ key: 'team', value: 'ops' }]);
  assert.deepEqual(p.user_labels, [{ key: 'app', value: 'web' }, { key: 'tier', value: 'front' }]);
  const [a] = p.apps;
  assert.equal(a?.state, 'APP_STATE_EXITED');
  assert.equal(a?.exit_code, 3);
  assert.deepEqual([a?.image.id, a?.image.name, a?.image.version], [ID, 'example.com/web', '1.0']);
  assert.deepEqual(a?.annotations, [{ key: 'a', value: 'b' }]);
});

test('a prepared pod\'s apps are undefined with exit code -1; gc states map to rkt\'s', () => {
  const base = { uuid: 'u', dir: '/x', manifest, apps: [{ name: 'web', imageId: ID, state: 'created' as const }], networks: [] };
  const p = podMessage({ ...base, stateDir: 'prepared', state: 'prepared' });
  assert.equal(p.state, 'POD_STATE_PREPARED');
  assert.deepEqual([p.apps[0]?.state, p.apps[0]?.exit_code], ['APP_STATE_UNDEFINED', -1]);
  assert.equal(podMessage({ ...base, stateDir: 'exited-garbage', state: 'exited garbage' }).state, 'POD_STATE_GARBAGE');
  assert.equal(podMessage({ ...base, stateDir: 'garbage', state: 'deleting' }).state, 'POD_STATE_DELETING');
  assert.equal(podMessage({ ...base, stateDir: 'garbage', state: 'garbage', gcMarked: new Date(5) }).gc_marked_at, '5000000');
});

test('cgroupOf: the unified entry, else systemd\'s named one, init.scope dropped', () => {
  assert.equal(cgroupOf('0::/machine.slice/machine-rkt\\x2dabc.scope/init.scope\n'), '/machine.slice/machine-rkt\\x2dabc.scope');
  assert.equal(cgroupOf('12:cpu:/x\n1:name=systemd:/machine.slice/m.scope\n'), '/machine.slice/m.scope');
  assert.equal(cgroupOf('0::/init.scope\n'), '/');
  assert.equal(cgroupOf('3:cpu:/x\n'), undefined);
});
