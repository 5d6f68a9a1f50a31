// Round trips of the stage1 argv builders and parsers, and the interface-version gating.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildEnterArgs, buildGcArgs, buildRunArgs, buildStopArgs, parseEnterArgs, parseGcArgs, parseRunArgs, parseStopArgs,
  readStage1Entrypoints, type RunArgs,
} from './stage1-contract.js';

const U = '0f2c7b8e-1111-4222-8333-444455556666';

const full: RunArgs = {
  debug: true, net: ['host'], interactive: true, privateUsers: { shift: 65536 * 3, count: 65536 }, localConfig: '/etc/rkt',
  hostname: 'h', dnsConfMode: { resolv: 'stage0', hosts: 'default' }, disableCapabilities: true, disablePaths: false,
  disableSeccomp: true, mutable: false, uuid: U,
};

test('run argv: rkt order, round trip at version 5', () => {
  const argv = buildRunArgs(full, 5);
  assert.deepEqual(argv, [
    '--debug', '--net=host', '--interactive', '--private-users=196608:65536', '--local-config=/etc/rkt', '--hostname=h',
    '--dns-conf-mode=resolv=stage0,hosts=default', '--disable-capabilities-restriction', '--disable-seccomp', U,
  ]);
  assert.deepEqual(parseRunArgs(argv), full);
});

test('run argv: version 1 drops hostname, dns mode and insecure flags', () => {
  const argv = buildRunArgs(full, 1);
  assert.ok(!argv.some((a) => a.startsWith('--hostname') || a.startsWith('--dns-conf-mode') || a.startsWith('--disable')));
});

test('parseRunArgs: defaults, space-separated values, unknown flags rejected', () => {
  const r = parseRunArgs(['--net', 'none', U]);
  assert.deepEqual(r.net, ['none']);
  assert.equal(r.debug, false);
  assert.deepEqual(parseRunArgs([U]).net, ['default']);
  assert.throws(() => parseRunArgs(['--bogus', U]), /unknown flag --bogus/);
  assert.throws(() => parseRunArgs(['--net=host']), /exactly one pod uuid/);
  assert.throws(() => parseRunArgs(['--private-users=1:x', U]), /--private-users/);
});

test('enter, stop and gc argv round trip', () => {
  const e = { pid: 42, appName: 'web', command: ['/bin/sh', '-c', 'echo --pid=1'] };
  assert.deepEqual(parseEnterArgs(buildEnterArgs(e)), e);
  assert.deepEqual(parseStopArgs(buildStopArgs({ force: true, uuid: U })), { force: true, uuid: U });
  assert.deepEqual(buildGcArgs({ debug: true, localConfig: '/etc/rkt', uuid: U }, 5), ['--debug', '--local-config', '/etc/rkt', U]);
  assert.deepEqual(buildGcArgs({ debug: false, localConfig: '/etc/rkt', uuid: U }, 4), [U]);
  assert.deepEqual(parseGcArgs(['--debug', '--local-config', '/x', U]), { debug: true, localConfig: '/x', uuid: U });
  assert.throws(() => parseEnterArgs(['--appname=a', '--', 'ls']), /--pid/);
  const timed = { ...e, timeoutS: 5 };
  assert.deepEqual(parseEnterArgs(buildEnterArgs(timed)), timed);
  assert.throws(() => parseEnterArgs(['--pid=1', '--appname=a', '--timeout=1.5', '--', 'ls']), /--timeout: expected whole seconds/);
});

test('entrypoints from annotations; version defaults to 1; bad values rejected', () => {
  const eps = readStage1Entrypoints([
    { name: 'coreos.com/rkt/stage1/run', value: '/init' },
    { name: 'coreos.com/rkt/stage1/enter', value: '/enter' },
  ]);
  assert.deepEqual(eps, { interfaceVersion: 1, run: '/init', enter: '/enter' });
  assert.throws(() => readStage1Entrypoints([{ name: 'coreos.com/rkt/stage1/interface-version', value: 'five' }]), /positive decimal/);
  assert.throws(() => readStage1Entrypoints([{ name: 'coreos.com/rkt/stage1/run', value: '/../../bin/sh' }]), /not a path inside/);
});
