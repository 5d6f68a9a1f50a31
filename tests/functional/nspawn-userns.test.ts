// rkt run --private-users with the real nspawn stage1: inside, root is 0 and files look owned as in the
// image; on the host, the pod's processes (and, for chowned overlay trees, its files) are in the pod's range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { makeNspawnHarness, mountsUnder, podCgroups, podPayloadProcesses, skipReason } from './nspawn-helpers.js';

const skip = skipReason();
const LOOP = 'echo started; while true; do sleep 0.1; done';

function hostUid(pid: number): number {
  const m = /^Uid:\s+([0-9]+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

for (const mode of ['overlay', 'no-overlay'] as const) {
  test(`--private-users (${mode}): uid 0 inside, the pod's range on the host, enter joins the user namespace`, { skip }, async () => {
    const h = await makeNspawnHarness();
    try {
      const img = await h.image(`userns-${mode}`, ['/bin/sh', '-c', LOOP]);
      const pod = await h.startPod([
        '--private-users', ...(mode === 'no-overlay' ? ['--no-overlay'] : []), '--volume=scratch,kind=empty',
        img, '--mount=volume=scratch,target=/scratch',
      ]);
      const podDir = h.findPodDir(pod.uuid);
      const [shift, count] = fs.readFileSync(path.join(podDir, 'private-users-prepared'), 'utf8').trim().split(':').map(Number);
      assert.ok(shift !== undefined && shift > 0 && count === 65536);

      const inside = await h.rkt(['enter', pod.uuid, '/bin/sh', '-c', 'cat /proc/self/uid_map; id -u; stat -c %u:%g /bin/busybox /']);
      assert.equal(inside.exitCode, 0, inside.stderr);
      const [map = '', uid, owners1, owners2] = inside.stdout.trim().split('\n');
      assert.deepEqual(map.trim().split(/\s+/).map(Number), [0, shift, 65536]);
      assert.equal(uid, '0');
      assert.deepEqual([owners1, owners2], ['0:0', '0:0']);
      const vol = await h.rkt(['enter', pod.uuid, '/bin/sh', '-c', 'echo x > /scratch/f && stat -c %u /scratch/f']);
      assert.equal(vol.stdout.trim(), '0', vol.stderr);

      // every process of the pod runs as a host uid of its range
      const procs = podPayloadProcesses(pod.uuid);
      assert.ok(procs.length >= 3, `pod processes: ${procs.join(' ')}`); // systemd, journald, the app at least
      for (const pid of procs) {
        const u = hostUid(pid);
        assert.ok(u >= shift && u < shift + 65536, `pid ${pid} runs as host uid ${u}, outside ${shift}:65536`);
      }
      // overlays: re-made over ID-mapped lower layers, so the pod's tree shows the range while the image
      // tree in the store keeps its ownership (nothing chowned); copies: an ID-mapped mount inside nspawn
      const flavor = JSON.parse(fs.readFileSync(path.join(podDir, 'stage1-flavor.json'), 'utf8')) as { flavorState: { ownership?: string } };
      const appBin = path.join(podDir, 'stage1', 'rootfs', 'opt', 'stage2', `userns-${mode}`, 'rootfs', 'bin', 'busybox');
      if (mode === 'overlay') {
        // the pod's own root (its systemd, in the user namespace) cannot rewrite the entrypoints stage0
        // later runs as host root: stage1/ is a read-only mount, locked in the pod's user namespace
        const pid1 = procs.find((p) => fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'systemd');
        assert.ok(pid1 !== undefined, `no systemd among ${procs.join(' ')}`);
        const tryWrite = await execa('nsenter', ['-t', String(pid1), '-m', '-U', '-r', '-w', '/bin/sh', '-c',
          'touch /stage1/bin/gc; echo "touch=$?"; mount -o remount,bind,rw /stage1; echo "remount=$?"; touch /stage1/bin/gc; echo "touch=$?"'],
        { reject: false, all: true });
        assert.match(tryWrite.stdout, /^touch=1\nremount=(?!0)\d+\ntouch=1$/m, tryWrite.all);
        assert.equal(flavor.flavorState.ownership, 'overlay-idmap');
        assert.equal(fs.statSync(appBin).uid, shift);
        const layers = JSON.parse(fs.readFileSync(path.join(podDir, 'overlay-layers.json'), 'utf8')) as { lower: string }[];
        for (const l of layers) assert.equal(fs.statSync(l.lower).uid, 0, `store tree ${l.lower} was chowned`);
      } else {
        assert.equal(flavor.flavorState.ownership, 'map');
        assert.equal(fs.statSync(appBin).uid, 0);
      }
      // rm leaves nothing mounted (overlays, ID-mapped binds) and no cgroup
      assert.equal((await h.rkt(['stop', pod.uuid])).exitCode, 0);
      await pod.done;
      const rm = await h.rkt(['rm', pod.uuid]);
      assert.equal(rm.exitCode, 0, rm.stderr);
      assert.deepEqual(mountsUnder(podDir), []);
      assert.deepEqual(podCgroups(pod.uuid), []);
    } finally {
      await h.teardown();
    }
  });
}
