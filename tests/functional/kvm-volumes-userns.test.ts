// Pod volumes inside the VM (9p shares; readOnly enforced by QEMU itself) and --private-users (QEMU runs
// as root of a user namespace on the pod's range; the shared tree is owned by that range on the host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeKvmHarness, qemuProcesses, skipReason } from './kvm-helpers.js';

const skip = skipReason();

test('kvm: a host volume is shared read-write, a read-only one refuses writes', { skip }, async () => {
  const h = await makeKvmHarness();
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'rkt-kvm-vol-'));
  try {
    fs.mkdirSync(path.join(host, 'in'));
    fs.mkdirSync(path.join(host, 'out'));
    fs.writeFileSync(path.join(host, 'in/hello.txt'), 'from-the-host\n');
    const script = 'cat /in/hello.txt; if touch /in/new 2>/dev/null; then exit 9; fi; cat /in/hello.txt > /out/copy.txt';
    const img = await h.image('vols', ['/bin/sh', '-c', script]);
    const r = await h.runPod([
      `--volume=in,kind=host,source=${path.join(host, 'in')},readOnly=true`, `--volume=out,kind=host,source=${path.join(host, 'out')}`,
      img, '--mount=volume=in,target=/in', '--mount=volume=out,target=/out',
    ]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /from-the-host/);
    assert.equal(fs.readFileSync(path.join(host, 'out/copy.txt'), 'utf8'), 'from-the-host\n');
    assert.equal(fs.existsSync(path.join(host, 'in/new')), false);
  } finally {
    await h.teardown();
    fs.rmSync(host, { recursive: true, force: true });
  }
});

test('kvm: --private-users: uid 0 in the guest, QEMU and the files the app writes are in the pod range on the host', { skip }, async () => {
  const h = await makeKvmHarness();
  try {
    const img = await h.image('userns', ['/bin/sh', '-c', 'id -u; echo data > /written; while true; do sleep 1; done']);
    const pod = await h.startPod(['--private-users', img]);
    const podDir = h.findPodDir(pod.uuid);
    const [shift] = fs.readFileSync(path.join(podDir, 'private-users-prepared'), 'utf8').trim().split(':').map(Number);
    assert.ok(shift !== undefined && shift > 0);
    const [qemu] = qemuProcesses(pod.uuid);
    const uidLine = fs.readFileSync(`/proc/${qemu ?? 0}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
    assert.equal(uidLine?.split(/\s+/)[1], String(shift));
    const written = path.join(podDir, 'stage1/rootfs/opt/stage2/userns/rootfs/written');
    for (let i = 0; i < 100 && !fs.existsSync(written); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(fs.statSync(written).uid, shift);
    assert.equal(fs.statSync(path.join(podDir, 'stage1/rootfs/etc/passwd')).uid, shift);
    const e = await h.rkt(['enter', '--app=userns', pod.uuid, '/bin/sh', '-c', 'id -u']);
    assert.equal(e.exitCode, 0, e.stderr);
    assert.equal(e.stdout.trim(), '0');
  } finally {
    await h.teardown();
  }
});
