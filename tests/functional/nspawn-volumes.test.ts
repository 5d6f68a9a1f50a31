// Volumes, hostname and a read-only root with the real nspawn stage1: host volumes (rw and ro), empty
// volumes, --hostname, --readonly-rootfs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { journalMessages, makeNspawnHarness, skipReason } from './nspawn-helpers.js';

const skip = skipReason();

test('host volumes (rw and ro), an empty volume, --hostname and --readonly-rootfs', { skip }, async () => {
  const h = await makeNspawnHarness();
  try {
    const rw = path.join(h.dirs.root, 'host-rw');
    const ro = path.join(h.dirs.root, 'host-ro');
    fs.mkdirSync(rw);
    fs.mkdirSync(ro);
    fs.writeFileSync(path.join(ro, 'given.txt'), 'from-host\n');
    const script = [
      'echo written-in-pod > /rw/out.txt && echo rw-ok',
      'cat /ro/given.txt',
      'touch /ro/nope 2>/dev/null && echo ro-WRITABLE || echo ro-ok',
      'echo x > /scratch/f && cat /scratch/f >/dev/null && echo empty-ok',
      'touch /rootfs-file 2>/dev/null && echo root-WRITABLE || echo root-ro-ok',
      'echo "hostname=$(cat /etc/hostname) $(hostname)"',
    ].join('; ');
    const img = await h.image('vols', ['/bin/sh', '-c', script]);
    const r = await h.runPod([
      '--hostname=pod-host-1',
      `--volume=rw,kind=host,source=${rw}`, `--volume=ro,kind=host,source=${ro},readOnly=true`, '--volume=scratch,kind=empty',
      img, '--mount=volume=rw,target=/rw', '--mount=volume=ro,target=/ro', '--mount=volume=scratch,target=/scratch',
      '--readonly-rootfs=true',
    ]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const out = (await journalMessages(h.findPodDir(r.uuid), r.uuid, 'vols')).join('\n');
    for (const want of ['rw-ok', 'from-host', 'ro-ok', 'empty-ok', 'root-ro-ok', 'hostname=pod-host-1 pod-host-1']) {
      assert.ok(out.includes(want), `missing "${want}" in:\n${out}`);
    }
    assert.equal(fs.readFileSync(path.join(rw, 'out.txt'), 'utf8'), 'written-in-pod\n');
  } finally {
    await h.teardown();
  }
});
