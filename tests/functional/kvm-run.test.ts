// rkt run with the real kvm stage1 (a QEMU micro-VM, TCG here): the app's exit code leaves the VM
// (rkt's kvm flavor lost it), statuses, rkt status, the guest journal read on the host, the accelerator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { journalMessages, makeKvmHarness, qemuCgroups, qemuProcesses, skipReason } from './kvm-helpers.js';

const skip = skipReason();

test('kvm: a single app exiting 42 makes rkt run exit 42; status, rkt status, journal, accelerator recorded', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('exit42', ['/bin/sh', '-c', 'echo hello-from-vm; echo to-stderr >&2; exit 42']);
    const r = await h.runPod([img], { globals: ['--debug'] });
    assert.equal(r.exitCode, 42, r.stderr);
    assert.match(r.stdout, /hello-from-vm/);
    assert.match(r.stderr, /accelerator: (tcg|kvm) \(/);
    const podDir = h.findPodDir(r.uuid);
    assert.equal(fs.readFileSync(path.join(podDir, 'stage1/rootfs/rkt/status/exit42'), 'utf8').trim(), '42');
    const st = await h.rkt(['status', r.uuid]);
    assert.match(st.stdout, /app-exit42=42/);
    const journal = await journalMessages(podDir, r.uuid, 'exit42');
    assert.ok(journal.includes('hello-from-vm'), journal.join('\n'));
    assert.ok(journal.includes('to-stderr'), journal.join('\n'));
    const flavor = JSON.parse(fs.readFileSync(path.join(podDir, 'stage1-flavor.json'), 'utf8')) as { flavor: string; accel: string };
    assert.equal(flavor.flavor, 'kvm');
    assert.ok(flavor.accel === 'tcg' || flavor.accel === 'kvm');
    assert.deepEqual(qemuProcesses(r.uuid), []);
  } finally {
    await h.teardown();
  }
});

test('kvm: apps exiting 0, 5, 6 in one VM: rkt run exits 5, each status recorded; gc leaves nothing', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const a = await h.image('app-a', ['/bin/sh', '-c', 'exit 0']);
    const b = await h.image('app-b', ['/bin/sh', '-c', 'sleep 0.3; exit 5']);
    const c = await h.image('app-c', ['/bin/sh', '-c', 'exit 6']);
    const r = await h.runPod([a, b, c]);
    assert.equal(r.exitCode, 5, r.stderr);
    const podDir = h.findPodDir(r.uuid);
    const status = (app: string): string => fs.readFileSync(path.join(podDir, 'stage1/rootfs/rkt/status', app), 'utf8').trim();
    assert.deepEqual([status('app-a'), status('app-b'), status('app-c')], ['0', '5', '6']);
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.deepEqual(qemuCgroups(r.uuid), []);
    assert.equal(fs.existsSync(h.findPodDir(r.uuid)), false);
  } finally {
    await h.teardown();
  }
});
