// The QEMU argv as a pure function of the VmSpec: hardening flags, microvm, shares, escaping, validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VmSpec } from '../vm-config/spec.js';
import { qemuArgv } from './index.js';
import { optValue } from './escape.js';

function spec(over: Partial<VmSpec> = {}): VmSpec {
  return {
    name: 'rkt-0d6c0e8e-1a2b-4c3d-8e9f-001122334455', accel: 'tcg', vcpus: 2, memoryMiB: 256, kernel: '/proc/self/fd/6',
    cmdline: ['console=ttyS0', 'root=rktroot'], root: { id: 'root', tag: 'rktroot', path: '/proc/self/fd/5', readOnly: false },
    volumes: [], interactive: false, qmpSocket: '/proc/self/fd/7/qmp.sock', agentSocket: '/proc/self/fd/7/agent.sock', ...over,
  };
}

function after(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] ?? ''] : []));
}

test('machine: microvm with the chosen accelerator, no defaults, full seccomp sandbox, no reboot', () => {
  const a = qemuArgv(spec());
  assert.deepEqual(after(a, '-machine'), ['microvm,accel=tcg,acpi=on,rtc=on,isa-serial=on']);
  assert.deepEqual(after(a, '-cpu'), ['max']);
  assert.deepEqual(after(a, '-smp'), ['2']);
  assert.deepEqual(after(a, '-m'), ['256M']);
  assert.deepEqual(after(a, '-sandbox'), ['on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny']);
  for (const f of ['-nodefaults', '-no-user-config', '-no-reboot']) assert.ok(a.includes(f), f);
  assert.deepEqual(after(a, '-append'), ['console=ttyS0 root=rktroot']);
  assert.deepEqual(after(qemuArgv(spec({ accel: 'kvm' })), '-cpu'), ['host']);
});

test('console: ^C reaches QEMU only when not interactive', () => {
  assert.deepEqual(after(qemuArgv(spec()), '-chardev')[0], 'stdio,id=console,signal=on');
  assert.deepEqual(after(qemuArgv(spec({ interactive: true })), '-chardev')[0], 'stdio,id=console,signal=off');
});

test('shares: root read-write, volumes read-only when asked, passthrough with remapped inodes', () => {
  const a = qemuArgv(spec({ volumes: [{ id: 'vol0', tag: 'rktvol0', path: '/srv/a,b', readOnly: true }] }));
  assert.deepEqual(after(a, '-fsdev'), [
    'local,id=root,path=/proc/self/fd/5,security_model=passthrough,multidevs=remap',
    'local,id=vol0,path=/srv/a,,b,security_model=passthrough,multidevs=remap,readonly=on',
  ]);
  assert.ok(after(a, '-device').includes('virtio-9p-device,fsdev=vol0,mount_tag=rktvol0'));
  assert.ok(after(a, '-device').includes('virtserialport,chardev=agent,name=rkt.agent'));
  assert.equal(optValue('a,b,,c'), 'a,,b,,,,c');
});

test('validation: bad tags, duplicate ids, too little memory, blanks in the cmdline', () => {
  assert.throws(() => qemuArgv(spec({ root: { id: 'root', tag: '/dev/root', path: '/x', readOnly: false } })), /mount tag/);
  assert.throws(() => qemuArgv(spec({ volumes: [{ id: 'root', tag: 'v', path: '/v', readOnly: false }] })), /duplicate id/);
  assert.throws(() => qemuArgv(spec({ memoryMiB: 64 })), /memory: expected at least/);
  assert.throws(() => qemuArgv(spec({ cmdline: ['a b'] })), /kernel cmdline/);
  assert.throws(() => qemuArgv(spec({ vcpus: 0 })), /vcpus/);
});
