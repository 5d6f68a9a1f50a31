// rkt run with the real kvm stage1 (a QEMU micro-VM, TCG here): the app's exit code leaves the VM
// (rkt's kvm flavor lost it), statuses, rkt status, the guest journal read on the host, the accelerator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeKvmHarness, qemuCgroups, qemuProcesses, skipReason } from './kvm-helpers.js';
import { assertStartPhases, firstFailingAppBody, singleAppExitBody } from './shared-bodies.js';
import { mountOptionsAt } from '../../common/mountinfo.js';

const skip = skipReason();

test('kvm: a single app exiting 42 makes rkt run exit 42; status, rkt status, journal, accelerator recorded', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    await singleAppExitBody(h, (images) => h.runPod(images, { globals: ['--debug'] }), async (r, podDir) => {
      assert.match(r.stderr, /accelerator: (tcg|kvm) \(/);
      assertStartPhases(r.stderr);
      const flavor = JSON.parse(fs.readFileSync(path.join(podDir, 'stage1-flavor.json'), 'utf8')) as { flavor: string; flavorState: { accel: string } };
      assert.equal(flavor.flavor, 'kvm');
      assert.ok(flavor.flavorState.accel === 'tcg' || flavor.flavorState.accel === 'kvm');
      assert.deepEqual(qemuProcesses(r.uuid), []);
      // the entrypoints stage0 later runs as root are out of the guest's reach (read-only under its 9p root)
      const sealed = await mountOptionsAt(path.join(fs.realpathSync(podDir), 'stage1/rootfs/stage1'));
      assert.ok(sealed?.includes('ro'), `stage1/rootfs/stage1 mount options: ${String(sealed)}`);
    });
  } finally {
    await h.teardown();
  }
});

test('kvm: apps exiting 0, 5, 6 in one VM: rkt run exits 5, each status recorded; gc leaves nothing', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const r = await firstFailingAppBody(h);
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.deepEqual(qemuCgroups(r.uuid), []);
    assert.equal(fs.existsSync(h.findPodDir(r.uuid)), false);
  } finally {
    await h.teardown();
  }
});

test('kvm without --debug: the terminal shows the app\'s output and none of the guest kernel\'s, not even its "reboot: Power down"', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('quietboot', ['/bin/sh', '-c', 'echo out-of-the-app; echo err-of-the-app >&2']);
    const r = await h.runPod([img]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const terminal = `${r.stdout}\n${r.stderr}`;
    assert.match(terminal, /out-of-the-app/);
    assert.match(terminal, /err-of-the-app/);
    assert.doesNotMatch(terminal, /Power down|reboot: /, terminal);
  } finally {
    await h.teardown();
  }
});
