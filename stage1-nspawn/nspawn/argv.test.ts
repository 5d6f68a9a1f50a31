// Unit tests of the systemd-nspawn command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nspawnArgv, type NspawnOptions } from './argv.js';

const base: NspawnOptions = {
  rootfs: '/p/stage1/rootfs', machine: 'rkt-u', machineId: 'abc', register: false, keepUnit: false, netnsPath: undefined,
  binds: [], interactive: false, allCapabilities: false, debug: false,
};

test('without machined: no registration, keep the unit, no journal link', () => {
  const a = nspawnArgv(base);
  assert.deepEqual(a.slice(0, 4), ['--boot', '--machine=rkt-u', '--uuid=abc', '--directory=/p/stage1/rootfs']);
  for (const f of ['--register=no', '--link-journal=no', '--keep-unit', '--quiet', '--console=read-only']) assert.ok(a.includes(f), f);
  assert.deepEqual(a.slice(a.indexOf('--')), ['--', '--show-status=no', '--log-level=err']);
});

test('with machined: register and link the journal; user namespace, netns and binds', () => {
  const a = nspawnArgv({
    ...base, register: true, netnsPath: '/run/netns/x', privateUsers: { shift: 65536, count: 65536, ownership: 'map' },
    binds: [{ source: '/host/a:b', target: '/rkt/volumes/v', readOnly: true, recursive: false }],
  });
  for (const f of ['--register=yes', '--link-journal=try-guest', '--network-namespace-path=/run/netns/x',
    '--private-users=65536:65536', '--private-users-ownership=map', '--bind-ro=/host/a\\:b:/rkt/volumes/v:norbind']) {
    assert.ok(a.includes(f), f);
  }
  assert.equal(a.includes('--keep-unit'), false);
});
