// VM sizing, the kernel command line, the accelerator rule and the stage1.d kernel key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parsePodManifest } from '../../common/appc/index.js';
import { chooseAccel } from './accel.js';
import { kernelCmdline } from './cmdline.js';
import { configuredKernel, resolveKernel } from './kernel.js';
import { appMemoryBudgetMiB, sandboxResources, vmResources } from './resources.js';

function pod(isolators: Array<Array<{ name: string; value: unknown }>>): ReturnType<typeof parsePodManifest> {
  return parsePodManifest({
    acKind: 'PodManifest', acVersion: '0.8.11',
    apps: isolators.map((iso, i) => ({
      name: `a${i}`, image: { id: `sha512-${'0'.repeat(128)}` },
      app: { exec: ['/x'], user: '0', group: '0', isolators: iso },
    })),
  });
}

test('resources: RAM = overhead + limits (default per app), floor; vCPUs = Σ cpu limits capped by the host', () => {
  assert.deepEqual(vmResources(pod([[]]), 8), { vcpus: 1, memoryMiB: 256 });
  assert.deepEqual(vmResources(pod([[{ name: 'resource/memory', value: { limit: '512Mi' } }]]), 8), { vcpus: 1, memoryMiB: 640 });
  assert.deepEqual(vmResources(pod([[{ name: 'resource/memory', value: { limit: '16Mi' } }]]), 8), { vcpus: 1, memoryMiB: 144 });
  assert.deepEqual(vmResources(pod([[{ name: 'resource/cpu', value: { limit: '2500m' } }], []]), 8).vcpus, 4);
  assert.deepEqual(vmResources(pod([[{ name: 'resource/cpu', value: { limit: '16' } }]]), 2).vcpus, 2);
});

test('cmdline: 9p root by tag, systemd as init, quiet unless debug, TSC rate only when given', () => {
  const c = kernelCmdline({ rootTag: 'rktroot', debug: false, pci: false, tscKhz: 2600000 });
  for (const t of ['root=rktroot', 'rootfstype=9p', 'init=/lib/systemd/systemd', 'console=ttyS0', 'quiet', 'loglevel=0', 'pci=off', 'tsc_early_khz=2600000']) {
    assert.ok(c.includes(t), t);
  }
  const d = kernelCmdline({ rootTag: 'rktroot', debug: true, pci: true });
  assert.ok(!d.includes('quiet') && d.includes('loglevel=7') && d.includes('systemd.show_status=true') && !d.some((t) => t.startsWith('tsc_early_khz')));
});

test('accelerator: PVM means TCG, an unusable /dev/kvm means TCG, forced wins', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-accel-'));
  try {
    await fs.mkdir(path.join(dir, 'kvm_pvm'));
    assert.equal((await chooseAccel(undefined, { kvmDevice: path.join(dir, 'kvm'), pvmModule: path.join(dir, 'kvm_pvm') })).accel, 'tcg');
    const none = await chooseAccel(undefined, { kvmDevice: path.join(dir, 'kvm'), pvmModule: path.join(dir, 'nope') });
    assert.equal(none.accel, 'tcg');
    assert.match(none.reason, /ENOENT/);
    await fs.writeFile(path.join(dir, 'kvm'), '');
    assert.equal((await chooseAccel(undefined, { kvmDevice: path.join(dir, 'kvm'), pvmModule: path.join(dir, 'nope') })).accel, 'kvm');
    assert.equal((await chooseAccel('tcg')).accel, 'tcg');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('kernel: stage1.d "kernel" key (later files win), else the image kernel, errors name the file', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-kernel-'));
  try {
    const cfg = path.join(dir, 'cfg');
    const root = path.join(dir, 'rootfs');
    await fs.mkdir(path.join(cfg, 'stage1.d'), { recursive: true });
    await fs.mkdir(path.join(root, 'stage1/kernel'), { recursive: true });
    await fs.writeFile(path.join(root, 'stage1/kernel/bzImage'), 'k');
    assert.equal(await configuredKernel(cfg), undefined);
    assert.equal(await resolveKernel(cfg, root), path.join(root, 'stage1/kernel/bzImage'));
    await fs.writeFile(path.join(dir, 'mine'), 'k');
    await fs.writeFile(path.join(cfg, 'stage1.d/10.json'), JSON.stringify({ rktKind: 'stage1', rktVersion: 'v1', kernel: '/nonexistent' }));
    await fs.writeFile(path.join(cfg, 'stage1.d/20.json'), JSON.stringify({ rktKind: 'stage1', rktVersion: 'v1', kernel: path.join(dir, 'mine') }));
    assert.equal(await resolveKernel(cfg, root), path.join(dir, 'mine'));
    await fs.rm(path.join(cfg, 'stage1.d/20.json'));
    await assert.rejects(resolveKernel(cfg, root), /guest kernel \/nonexistent \(from stage1.d configuration\) is not a file/);
    await fs.writeFile(path.join(cfg, 'stage1.d/10.json'), JSON.stringify({ rktKind: 'stage1', rktVersion: 'v1', kernel: 'relative' }));
    await assert.rejects(configuredKernel(cfg), /"kernel" must be an absolute path/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a mutable pod is sized from its sandbox annotations', () => {
  assert.deepEqual(sandboxResources([], 8), { vcpus: 2, memoryMiB: 640 });
  assert.equal(appMemoryBudgetMiB(sandboxResources([], 8)), 512);
  const r = sandboxResources([{ name: 'rkt-ts/sandbox/memory', value: '1G' }, { name: 'rkt-ts/sandbox/cpus', value: '1500m' }], 8);
  assert.equal(r.vcpus, 2);
  assert.ok(appMemoryBudgetMiB(r) >= 1000 * 1000 * 1000 / (1024 * 1024));
  assert.equal(sandboxResources([{ name: 'rkt-ts/sandbox/cpus', value: '16' }], 4).vcpus, 4);
  assert.throws(() => sandboxResources([{ name: 'rkt-ts/sandbox/memory', value: 'lots' }], 4), /rkt-ts\/sandbox\/memory="lots" is not a positive resource quantity/);
});
