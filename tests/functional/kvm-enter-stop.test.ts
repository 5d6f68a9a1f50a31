// The kvm stage1's control paths, with a real VM (TCG here): rkt enter through the guest agent (no SSH),
// confined like the app; graceful rkt stop records the app's status; a QEMU killed with SIGKILL leaves an
// exited pod that gc cleans (no QEMU, cgroup or socket left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { rktBin } from '../harness/aci.js';
import { journalMessages, makeKvmHarness, qemuCgroups, qemuProcesses, skipReason } from './kvm-helpers.js';

const skip = skipReason();
const APP = 'trap "exit 3" TERM; grep CapBnd /proc/self/status; echo app-up; while true; do sleep 1; done';

test('kvm: enter runs in the app (same caps, exit code back, a pty for a terminal); graceful stop records the status; gc cleans', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('svc', ['/bin/sh', '-c', APP]);
    const pod = await h.startPod([img]);
    const e = await h.rkt(['enter', '--app=svc', pod.uuid, '/bin/sh', '-c', 'echo in-app; grep CapBnd /proc/self/status; cat /proc/1/comm >/dev/null; exit 7']);
    assert.equal(e.exitCode, 7, e.stderr);
    assert.match(e.stdout, /in-app/);
    const podDir = h.findPodDir(pod.uuid);
    const appCaps = (await journalMessages(podDir, pod.uuid, 'svc')).find((l) => l.startsWith('CapBnd:'));
    const enterCaps = e.stdout.split('\n').find((l) => l.startsWith('CapBnd:'));
    assert.ok(appCaps !== undefined && enterCaps !== undefined, `${String(appCaps)} / ${e.stdout}`);
    assert.equal(enterCaps, appCaps);
    // with a terminal on stdin, the command gets a pty in the guest
    const tcmd = [process.execPath, rktBin(), ...h.dirs.globalArgs(), '--insecure-options=image', 'enter', '--app=svc', pod.uuid,
      '/bin/sh', '-c', 'tty; exit 4'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const t = await execa('script', ['-qec', tcmd, '/dev/null'], { reject: false, timeout: 60_000 });
    assert.equal(t.exitCode, 4, String(t.stdout));
    assert.match(String(t.stdout), /\/dev\/pts\/[0-9]+/);

    const stop = await h.rkt(['stop', pod.uuid]);
    assert.equal(stop.exitCode, 0, stop.stderr);
    const done = await pod.done;
    assert.equal(done.exitCode, 3);
    assert.equal(fs.readFileSync(path.join(h.findPodDir(pod.uuid), 'stage1/rootfs/rkt/status/svc'), 'utf8').trim(), '3');
    assert.deepEqual(qemuProcesses(pod.uuid), []);
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.deepEqual(qemuCgroups(pod.uuid), []);
  } finally {
    await h.teardown();
  }
});

test('kvm: a QEMU killed with SIGKILL ends as an exited pod that gc removes without leftovers', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('victim', ['/bin/sh', '-c', 'while true; do sleep 1; done']);
    const pod = await h.startPod([img]);
    const pids = qemuProcesses(pod.uuid);
    assert.equal(pids.length, 1);
    process.kill(pids[0] ?? 0, 'SIGKILL');
    const done = await pod.done;
    assert.equal(done.exitCode, 254);
    const st = await h.rkt(['status', pod.uuid]);
    assert.match(st.stdout, /state=exited/);
    const gc = await h.rkt(['gc', '--grace-period=0s']);
    assert.equal(gc.exitCode, 0, gc.stderr);
    assert.deepEqual(qemuCgroups(pod.uuid), []);
    assert.deepEqual(qemuProcesses(pod.uuid), []);
    assert.equal(fs.existsSync(h.findPodDir(pod.uuid)), false);
  } finally {
    await h.teardown();
  }
});
