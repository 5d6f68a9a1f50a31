// The launch plan (fds QEMU gets, supervisor env, privilege mode), cgroup placement, id shifting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcCgroup, qemuCgroupDirs } from './cgroup.js';
import { shiftId } from './ownership.js';
import { makePlan, qemuUidFor } from './plan.js';

const uuid = '0d6c0e8e-1a2b-4c3d-8e9f-001122334455';
const base = {
  podDir: '/var/lib/rkt/pods/run/x', uuid, apps: ['a', 'b'], mutable: false, accel: { accel: 'tcg' as const, reason: 'test' },
  resources: { vcpus: 1, memoryMiB: 256 }, kernel: '/k/vmlinux', debug: false, interactive: false, cgroups: ['/sys/fs/cgroup/pids/rkt-kvm-x'],
  fds: { root: 21, kernel: 22, runDir: 23, volumes: [24] },
};

test('plan: QEMU gets its trees, kernel and sockets through inherited fds; host volumes become shares, empty ones do not', () => {
  const p = makePlan({
    ...base, tscKhz: 2600000,
    volumes: [{ name: 'data', kind: 'host', source: '/srv/data', readOnly: true }, { name: 'scratch', kind: 'empty' }],
  });
  assert.deepEqual(p.spec.root.path, '/proc/self/fd/21');
  assert.deepEqual(p.spec.volumes.map((v) => v.path), ['/proc/self/fd/24']);
  assert.equal(p.spec.qmpSocket, '/proc/self/fd/23/qmp.sock');
  assert.deepEqual(p.guestVolumes, [{ name: 'data', tag: 'rktvol0', readOnly: true }]);
  assert.equal(p.env['RKT_KVM_APPS'], 'a b');
  assert.equal(p.qemu[0], 'qemu-system-x86_64');
  assert.ok(p.qemu.includes('/proc/self/fd/22'));
  assert.ok(p.spec.cmdline.includes('tsc_early_khz=2600000'));
  assert.equal(p.env['RKT_KVM_UID'], String(qemuUidFor(uuid)));
  assert.equal(p.env['RKT_KVM_USERNS'], undefined);
  // QEMU starts chrooted in its private root (machined reads the journal under the leader's root)
  assert.equal(p.env['RKT_KVM_QEMU_ROOT'], '/run/rkt-kvm-root');
  assert.equal(p.env['RKT_KVM_DEVICES'], '', 'TCG needs no /dev/kvm');
  assert.equal(p.env['RKT_KVM_REGISTER'], 'none');
  assert.equal(makePlan({ ...base, volumes: [], registration: 'create' }).env['RKT_KVM_REGISTER'], 'create');
});

test('plan: --private-users runs QEMU as root of a user namespace on the pod range', () => {
  const p = makePlan({ ...base, volumes: [], privateUsers: { shift: 524288, count: 65536 } });
  assert.equal(p.env['RKT_KVM_USERNS'], '524288 65536');
  assert.equal(p.env['RKT_KVM_UID'], undefined);
  assert.equal(p.qemuHostUid, 524288);
  assert.equal(qemuUidFor(uuid), 0x60000000 + 0x0d6c);
});

test('cgroups: v1 controllers under rkt\'s own cgroup, or one v2 directory', async () => {
  const own = parseProcCgroup('4:memory:/a/b\n8:pids:/\n1:name=systemd:/s\n0::/u\n');
  assert.equal(own.get('memory'), '/a/b');
  assert.equal(own.get(''), '/u');
  const dirs = await qemuCgroupDirs(uuid, '/nonexistent-cgroup-root', '0::/x\n');
  assert.deepEqual(dirs, []);
});

test('ownership: ids shift into the range once; ids the range cannot hold become its nobody', () => {
  const r = { shift: 100000, count: 65536 };
  assert.equal(shiftId(0, r), 100000);
  assert.equal(shiftId(1000, r), 101000);
  assert.equal(shiftId(101000, r), 101000);
  assert.equal(shiftId(70000, r), 165534);
});
