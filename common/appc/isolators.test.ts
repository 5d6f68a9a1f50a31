// Unit tests for isolator names, typed values, per-app rules and the CLI constructors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RktError } from '../errors.js';
import {
  capsRemoveIsolator, capsRetainIsolator, cpuIsolator, cpuSharesIsolator, memoryIsolator, noNewPrivilegesIsolator,
  oomScoreAdjIsolator, seccompIsolator, sysctlIsolator,
} from './isolator-constructors.js';
import { KNOWN_ISOLATORS, findIsolator, isIsolator, parseIsolators } from './isolators.js';

const app = (list: unknown): ReturnType<typeof parseIsolators> => parseIsolators(list, 'app.isolators', true);

test('every known isolator parses to its typed value', () => {
  const list = app([
    { name: 'resource/cpu', value: { request: '250m', limit: '500m' } },
    { name: 'resource/memory', value: { limit: '1G', default: false } },
    { name: 'resource/block-bandwidth', value: { default: true, limit: '1M' } },
    { name: 'resource/block-iops', value: { default: true, limit: '1000' } },
    { name: 'resource/network-bandwidth', value: { default: true, limit: '1G' } },
    { name: 'os/linux/capabilities-retain-set', value: { set: ['CAP_NET_BIND_SERVICE'] } },
    { name: 'os/linux/capabilities-remove-set', value: { set: ['CAP_MKNOD', 'CAP_KILL'] } },
    { name: 'os/linux/no-new-privileges', value: true },
    { name: 'os/linux/seccomp-remove-set', value: { set: ['reboot', 'clock_settime'], errno: 'EPERM' } },
    { name: 'os/linux/oom-score-adj', value: -500 },
    { name: 'os/linux/cpu-shares', value: 1024 },
    { name: 'os/linux/selinux-context', value: { user: 'system_u', role: 'system_r', type: 'svirt_lxc_net_t', level: 's0:c1,c2' } },
    { name: 'os/linux/apparmor-profile', value: { profile: 'rkt-default' } },
    { name: 'os/unix/sysctl', value: { 'net.ipv4.tcp_fin_timeout': '6' } },
  ]);
  assert.equal(list.length, 14);
  assert.deepEqual(findIsolator(list, 'resource/memory'), { limit: '1G' });
  assert.deepEqual(findIsolator(list, 'resource/block-iops'), { default: true, limit: '1000' });
  assert.deepEqual(findIsolator(list, 'os/linux/seccomp-remove-set'), { set: ['reboot', 'clock_settime'], errno: 'EPERM' });
  assert.equal(findIsolator(list, 'os/linux/oom-score-adj'), -500);
  assert.equal(findIsolator(list, 'os/linux/seccomp-retain-set'), undefined);
  const first = list[0]!;
  assert.ok(isIsolator(first, 'resource/cpu'));
  assert.equal(first.value.limit, '500m');
  assert.equal(KNOWN_ISOLATORS.length, 15);
});

test('numeric quantities are accepted as text', () => {
  assert.deepEqual(findIsolator(app([{ name: 'resource/memory', value: { limit: 1048576 } }]), 'resource/memory'), { limit: '1048576' });
});

test('unknown isolator names are invalid in an app', () => {
  assert.throws(() => app([{ name: 'resource/disk-space', value: {} }]),
    /app\.isolators\[0\]\.name "resource\/disk-space": unknown isolator \(known: resource\/cpu, /);
});

test('unknown isolator names are kept at pod level, known ones still validated', () => {
  const list = parseIsolators([{ name: 'example.com/custom', value: { x: [1] } }, { name: 'resource/memory', value: { limit: '4G' } }], 'isolators', false);
  assert.deepEqual(list[0], { name: 'example.com/custom', value: { x: [1] } });
  assert.throws(() => parseIsolators([{ name: 'resource/memory', value: { limit: '4GB' } }], 'isolators', false),
    /isolators\[0\]\.value\.limit "4GB": unknown suffix "GB"/);
  assert.throws(() => parseIsolators([{ name: 'Bad Name', value: 1 }], 'isolators', false), /isolators\[0\]\.name "Bad Name": must match/);
});

test('invalid values name the field and the rule', () => {
  const cases: [unknown, RegExp][] = [
    [{ name: 'resource/cpu', value: { default: true, limit: '1' } }, /value\.default: must be false/],
    [{ name: 'resource/memory', value: { limit: '-1G' } }, /value\.limit "-1G": must not be negative/],
    [{ name: 'resource/memory', value: '1G' }, /\[0\]\.value: must be an object, got string/],
    [{ name: 'resource/memory' }, /\[0\]\.value: is required/],
    [{ name: 'resource/network-bandwidth', value: { limit: '1M' } }, /value\.default: must be true/],
    [{ name: 'resource/block-iops', value: { default: true, request: '1' } }, /value\.request: is not supported/],
    [{ name: 'os/linux/capabilities-retain-set', value: { set: [] } }, /value\.set: must not be empty/],
    [{ name: 'os/linux/capabilities-retain-set', value: {} }, /value\.set: is required/],
    [{ name: 'os/linux/capabilities-remove-set', value: { set: ['net_admin'] } }, /value\.set\[0\] "net_admin": must be a capability name/],
    [{ name: 'os/linux/capabilities-remove-set', value: { set: ['CAP_X\nExecStart=/bin/sh'] } }, /must be a capability name/],
    [{ name: 'os/linux/no-new-privileges', value: 'true' }, /\[0\]\.value: must be a boolean, got string/],
    [{ name: 'os/linux/seccomp-retain-set', value: { set: ['read'], errno: 'eperm' } }, /value\.errno "eperm": must be an errno name/],
    [{ name: 'os/linux/seccomp-retain-set', value: { set: ['read'], errno: 'EFOO' } }, /value\.errno "EFOO": must be a Linux errno name/],
    [{ name: 'os/linux/seccomp-retain-set', value: { set: ['read;'] } }, /value\.set\[0\] "read;": must be a syscall name/],
    [{ name: 'os/linux/oom-score-adj', value: 1001 }, /must be in the range -1000-1000, got 1001/],
    [{ name: 'os/linux/oom-score-adj', value: 1.5 }, /must be an integer, got 1.5/],
    [{ name: 'os/linux/cpu-shares', value: 1 }, /must be in the range 2-262144, got 1/],
    [{ name: 'os/linux/selinux-context', value: { user: 'a:b', role: 'r', type: 't', level: 's0' } }, /value\.user "a:b": must not contain ":"/],
    [{ name: 'os/linux/selinux-context', value: { user: 'u', role: 'r', type: 't' } }, /value\.level: is required/],
    [{ name: 'os/linux/apparmor-profile', value: { profile: '' } }, /value\.profile: must not be empty/],
    [{ name: 'os/unix/sysctl', value: { 'net.core.somaxconn': 1024 } }, /must be a string, got number/],
    [{ name: 'os/unix/sysctl', value: { 'net core': '1' } }, /must be a sysctl key/],
  ];
  for (const [iso, re] of cases) assert.throws(() => app([iso]), re, JSON.stringify(iso));
});

test('multiplicity and conflicts within one app', () => {
  assert.doesNotThrow(() => app([{ name: 'resource/memory', value: { limit: '1G' } }, { name: 'resource/memory', value: { limit: '2G' } }]));
  assert.deepEqual(findIsolator(app([{ name: 'resource/memory', value: { limit: '1G' } }, { name: 'resource/memory', value: { limit: '2G' } }]), 'resource/memory'), { limit: '2G' });
  assert.throws(() => app([{ name: 'os/linux/oom-score-adj', value: 1 }, { name: 'os/linux/oom-score-adj', value: 2 }]),
    /app\.isolators\[1\]: only one "os\/linux\/oom-score-adj" isolator is allowed/);
  assert.throws(() => app([
    { name: 'os/linux/seccomp-retain-set', value: { set: ['@appc.io/all'] } },
    { name: 'os/linux/seccomp-remove-set', value: { set: ['@appc.io/empty'] } },
  ]), /"os\/linux\/seccomp-remove-set" cannot be combined with "os\/linux\/seccomp-retain-set"/);
  // appc's reference accepts both capability sets in one app; so do we.
  assert.doesNotThrow(() => app([
    { name: 'os/linux/capabilities-retain-set', value: { set: ['CAP_CHOWN'] } },
    { name: 'os/linux/capabilities-remove-set', value: { set: ['CAP_KILL'] } },
  ]));
});

test('CLI constructors build validated isolators', () => {
  assert.deepEqual(memoryIsolator('50M'), { name: 'resource/memory', value: { limit: '50M' } });
  assert.deepEqual(cpuIsolator('500m', '250m'), { name: 'resource/cpu', value: { request: '250m', limit: '500m' } });
  assert.deepEqual(cpuSharesIsolator(512), { name: 'os/linux/cpu-shares', value: 512 });
  assert.deepEqual(oomScoreAdjIsolator(-100), { name: 'os/linux/oom-score-adj', value: -100 });
  assert.deepEqual(noNewPrivilegesIsolator(), { name: 'os/linux/no-new-privileges', value: true });
  assert.deepEqual(capsRetainIsolator(['CAP_CHOWN']), { name: 'os/linux/capabilities-retain-set', value: { set: ['CAP_CHOWN'] } });
  assert.deepEqual(capsRemoveIsolator(['CAP_KILL']), { name: 'os/linux/capabilities-remove-set', value: { set: ['CAP_KILL'] } });
  assert.deepEqual(seccompIsolator('remove', ['reboot'], 'EPERM'), { name: 'os/linux/seccomp-remove-set', value: { set: ['reboot'], errno: 'EPERM' } });
  assert.deepEqual(seccompIsolator('retain', ['@rkt/default-whitelist']), { name: 'os/linux/seccomp-retain-set', value: { set: ['@rkt/default-whitelist'] } });
  assert.deepEqual(sysctlIsolator({ 'net.ipv4.ip_forward': '1' }), { name: 'os/unix/sysctl', value: { 'net.ipv4.ip_forward': '1' } });
});

test('CLI constructors reject bad values as usage errors', () => {
  const usage = (fn: () => unknown, re: RegExp): void => {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof RktError);
      assert.equal(err.code, 'USAGE');
      assert.match(err.message, re);
      return true;
    });
  };
  usage(() => memoryIsolator('2GB'), /^invalid resource\/memory isolator: value\.limit "2GB": unknown suffix "GB"/);
  usage(() => cpuIsolator('lots'), /^invalid resource\/cpu isolator: value\.limit "lots"/);
  usage(() => cpuSharesIsolator(0), /range 2-262144/);
  usage(() => oomScoreAdjIsolator(-1001), /range -1000-1000/);
  usage(() => capsRetainIsolator([]), /value\.set: must not be empty/);
  usage(() => seccompIsolator('remove', ['reboot'], 'nope'), /value\.errno "nope"/);
  usage(() => seccompIsolator('remove', ['reboot'], 'ENOTREAL'), /value\.errno "ENOTREAL": must be a Linux errno name/);
  // every real errno name passes, glibc's ENOTSUP alias included
  for (const e of ['EPERM', 'ENOSYS', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'EHWPOISON']) seccompIsolator('retain', ['read'], e);
});
