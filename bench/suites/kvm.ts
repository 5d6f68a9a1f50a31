// kvm pod figures: start-to-exit against raw QEMU booting the same kernel and rendered stage1 tree, QEMU's
// host memory beyond the guest RAM it touched, and the smallest guest RAM the trivial pod still runs in.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { makeResult, type BenchResult } from '../lib/result.js';
import { timeAsync } from '../lib/measure.js';
import { quick, repoRoot, tmpDir, rmrf } from '../lib/env.js';
import { descendants, pssKiB, waitFor } from '../lib/procs.js';
import type { Suite } from '../lib/suite.js';
import { makePodHarness, type PodHarness } from '../../tests/harness/pod.js';
import { readFlavorRecord, type KvmFlavorRecord } from '../../stage1-kvm/launch/flavor-record.js';
import { ROOT_TAG } from '../../stage1-kvm/launch/plan.js';
import { QEMU_BINARY, qemuArgv } from '../../stage1-kvm/qemu-argv/index.js';
import { kernelCmdline } from '../../stage1-kvm/vm-config/cmdline.js';
import { stage1RootfsPath } from '../../common/pod-layout.js';

const KVM_ACI = path.join(repoRoot, 'dist', 'stage1-images', 'stage1-kvm.aci');
/** Under TCG each boot takes ~10 s: fewer runs than the other suites unless BENCH_RUNS says otherwise. */
const kvmRuns = Number(process.env['BENCH_RUNS'] ?? (quick ? 3 : 5));
/** Guest RAM sizes tried, largest first; the search stops at the first that fails. */
const RAM_STEPS_MIB = [128, 96, 64, 48, 40, 32];

/** Host TSC rate in kHz, as the kvm stage1 passes it to a TCG guest (tsc_early_khz). */
function hostTscKhz(): number | undefined {
  const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const m = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(info);
  if (!m || !/\bconstant_tsc\b/.test(info)) return undefined;
  const khz = Math.round(Number(m[1]) * 1000);
  return khz > 0 ? khz : undefined;
}

interface Pod {
  uuid: string;
  dir: string;
  rec: KvmFlavorRecord;
}

async function runPod(h: PodHarness, img: string, uuidFile: string): Promise<Pod> {
  const r = await h.rkt(['run', '--stage1-image=kvm', '--net=none', `--uuid-file-save=${uuidFile}`, img]);
  if (r.exitCode !== 0) throw new Error(`rkt run exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  const uuid = fs.readFileSync(uuidFile, 'utf8').trim();
  const dir = path.join(h.dirs.dir, 'pods', 'run', uuid);
  const rec = await readFlavorRecord(dir);
  if (!rec) throw new Error(`pod ${uuid} has no stage1-flavor.json`);
  return { uuid, dir, rec };
}

/**
 * Raw QEMU with the stage1's own argv builder: same accelerator, machine, vCPUs, kernel, cmdline and 9p root
 * (the exited pod's tree, units included), paths instead of the stage1's pre-opened descriptors, QEMU as
 * root instead of a dropped uid, no cgroups, no kvm-supervise. `memoryMiB` overrides -m (the stage1's spec
 * validation refuses less than its 128 MiB floor).
 */
function rawQemuArgv(pod: Pod, sockDir: string, memoryMiB?: number): string[] {
  const tsc = pod.rec.accel === 'tcg' ? hostTscKhz() : undefined;
  const argv = qemuArgv({
    name: `rkt-${pod.uuid}`,
    accel: pod.rec.accel,
    vcpus: pod.rec.vcpus,
    memoryMiB: pod.rec.memoryMiB,
    kernel: pod.rec.kernel,
    cmdline: kernelCmdline({ rootTag: ROOT_TAG, debug: false, pci: false, ...(tsc ? { tscKhz: tsc } : {}) }),
    root: { id: 'root', tag: ROOT_TAG, path: stage1RootfsPath(pod.dir), readOnly: false },
    volumes: [],
    interactive: false,
    qmpSocket: path.join(sockDir, 'qmp.sock'),
    agentSocket: path.join(sockDir, 'agent.sock'),
  });
  if (memoryMiB !== undefined) {
    const i = argv.indexOf('-m');
    argv[i + 1] = `${memoryMiB}M`;
  }
  return argv;
}

/** Boots raw QEMU once; true when QEMU exits 0 and every app wrote exit status 0 into the shared tree. */
async function bootRaw(pod: Pod, sockDir: string, memoryMiB?: number, timeoutMs = 120_000): Promise<boolean> {
  const statusDir = path.join(stage1RootfsPath(pod.dir), 'rkt', 'status');
  for (const f of fs.readdirSync(statusDir)) fs.rmSync(path.join(statusDir, f), { force: true });
  fs.rmSync(path.join(sockDir, 'qmp.sock'), { force: true });
  fs.rmSync(path.join(sockDir, 'agent.sock'), { force: true });
  const r = await execa(QEMU_BINARY, rawQemuArgv(pod, sockDir, memoryMiB), { reject: false, stdin: 'ignore', timeout: timeoutMs });
  if (r.exitCode !== 0) return false;
  const files = fs.readdirSync(statusDir);
  return files.length > 0 && files.every((f) => fs.readFileSync(path.join(statusDir, f), 'utf8').trim() === '0');
}

async function startVsRaw(h: PodHarness, img: string, sockDir: string, progress: (l: string) => void): Promise<{ res: BenchResult; pod: Pod }> {
  const uuidFile = path.join(h.dirs.root, 'uuid');
  progress(`timing rkt run --stage1-image=kvm of a trivial app (${kvmRuns} runs + warm-up)`);
  let last: Pod | undefined;
  const ours = await timeAsync(async () => {
    last = await runPod(h, img, uuidFile);
  }, { runs: kvmRuns, warmup: 1 });
  const pod = last!;
  progress(`timing raw QEMU booting the same kernel and tree (accel=${pod.rec.accel})`);
  const base = await timeAsync(async () => {
    if (!(await bootRaw(pod, sockDir))) throw new Error('raw QEMU boot of the pod tree did not run the app to exit 0');
  }, { runs: kvmRuns, warmup: 1 });
  const res = makeResult({
    name: 'kvm-start-vs-raw-qemu',
    unit: 's',
    ours,
    baselineName: 'raw QEMU, same kernel+tree',
    baseline: base,
    accel: pod.rec.accel,
    command: 'rkt run --stage1-image=kvm --net=none <busybox /bin/true ACI>',
    notes: `Image already in the store; each run creates, prepares, boots (microvm, ${pod.rec.vcpus} vCPU, ${pod.rec.memoryMiB} MiB, accel=${pod.rec.accel}) and exits a new pod. ` +
      'The baseline runs qemu-system-x86_64 with the argv built by the stage1\'s own pure builder (stage1-kvm/qemu-argv qemuArgv + vm-config kernelCmdline): ' +
      'same accelerator, machine, kernel, cmdline, QMP/agent sockets and 9p root (the last exited pod\'s rendered tree, units included); the guest runs the app and powers off. ' +
      'It skips stage0 (store, render, locking), kvm-supervise, cgroups and the privilege drop; success is checked by QEMU exiting 0 and the app\'s status file reading 0.',
  });
  return { res, pod };
}

/** QEMU's pid: the pod's pid file names it (its comm is the machine name, so match argv[0]). */
function qemuPid(podDir: string): number {
  const pid = Number(fs.readFileSync(path.join(podDir, 'pid'), 'utf8').trim());
  for (const p of descendants(pid)) {
    const argv0 = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] ?? '';
    if (path.basename(argv0).startsWith('qemu')) return p;
  }
  throw new Error(`no qemu process at or under pid ${pid}`);
}

/** Rss (KiB) of the anonymous mapping holding the guest RAM: the one whose Size is closest above memoryMiB. */
function guestRamRssKiB(pid: number, memoryMiB: number): number {
  const text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const want = memoryMiB * 1024;
  let best: { size: number; rss: number } | undefined;
  for (const block of text.split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const header = block.split('\n')[0] ?? '';
    const fields = header.trim().split(/\s+/);
    if (fields.length > 5 && fields[5] !== '') continue; // file-backed or named ([heap], [stack])
    const size = Number(/^Size:\s+(\d+) kB/m.exec(block)?.[1] ?? 0);
    const rss = Number(/^Rss:\s+(\d+) kB/m.exec(block)?.[1] ?? 0);
    if (size < want || size > want + 8192) continue;
    if (!best || size < best.size) best = { size, rss };
  }
  if (!best) throw new Error(`no anonymous mapping of ${memoryMiB} MiB in /proc/${pid}/smaps`);
  return best.rss;
}

/** Rss (KiB) of QEMU's anonymous executable mappings: TCG's translated-code buffer (none under KVM). */
function tcgCodeRssKiB(pid: number): number {
  let sum = 0;
  for (const block of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    const fields = (block.split('\n')[0] ?? '').trim().split(/\s+/);
    if ((fields.length > 5 && fields[5] !== '') || !(fields[1] ?? '').includes('x')) continue;
    sum += Number(/^Rss:\s+(\d+) kB/m.exec(block)?.[1] ?? 0);
  }
  return sum;
}

async function vmmOverhead(h: PodHarness, progress: (l: string) => void): Promise<BenchResult> {
  const img = await h.image('bench-kvm-sleep', ['/bin/sleep', '3600']);
  const uuidFile = path.join(h.dirs.root, 'uuid-idle');
  const overhead: number[] = [];
  const detail: string[] = [];
  let accel = 'tcg';
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    progress(`idle kvm pod ${i + 1}: starting`);
    fs.rmSync(uuidFile, { force: true });
    const child = h.spawn(['run', '--stage1-image=kvm', '--net=none', `--uuid-file-save=${uuidFile}`, img]);
    let stopped = false;
    try {
      await waitFor(() => fs.existsSync(uuidFile) && fs.readFileSync(uuidFile, 'utf8').trim() !== '', 60_000, 'uuid file');
      const uuid = fs.readFileSync(uuidFile, 'utf8').trim();
      const r = await h.rkt(['status', '--wait-ready=300s', uuid]);
      if (r.exitCode !== 0) throw new Error(`status --wait-ready failed: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 3000));
      const dir = path.join(h.dirs.dir, 'pods', 'run', uuid);
      const rec = await readFlavorRecord(dir);
      if (!rec) throw new Error('no stage1-flavor.json');
      accel = rec.accel;
      const pid = qemuPid(dir);
      const pss = pssKiB(pid);
      const ram = guestRamRssKiB(pid, rec.memoryMiB);
      overhead.push((pss - ram) / 1024);
      detail.push(`PSS ${(pss / 1024).toFixed(1)} MiB - guest RAM Rss ${(ram / 1024).toFixed(1)} MiB (of ${rec.memoryMiB} MiB); of the rest, TCG code buffer Rss ${(tcgCodeRssKiB(pid) / 1024).toFixed(1)} MiB`);
      await h.rkt(['stop', '--force', uuid]);
      stopped = true;
    } finally {
      // a failed sample must not leave `sleep 3600` running: stop whatever pod was started, then reap it
      if (!stopped && fs.existsSync(uuidFile)) await h.rkt(['stop', '--force', fs.readFileSync(uuidFile, 'utf8').trim()]);
      if (!stopped) child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
  }
  return makeResult({
    name: 'kvm-vmm-overhead-mib',
    unit: 'MiB',
    ours: overhead,
    accel,
    command: 'QEMU PSS minus its guest-RAM mapping\'s Rss, for a kvm pod running `sleep 3600`',
    notes: 'QEMU\'s pid from the pod\'s pid file; Pss from /proc/<pid>/smaps_rollup, minus the Rss of the anonymous mapping of the guest RAM size ' +
      '(the guest RAM QEMU actually touched) found in /proc/<pid>/smaps; sampled 3 s after `rkt status --wait-ready`. ' +
      `Per sample: ${detail.join('; ')}. Under TCG the overhead includes the translated-code buffer (anonymous executable mappings, shown per sample), which KVM does not have.`,
  });
}

async function minGuestRam(pod: Pod, sockDir: string, progress: (l: string) => void): Promise<BenchResult> {
  let smallest: number | undefined;
  const tried: string[] = [];
  for (const mib of RAM_STEPS_MIB) {
    progress(`raw QEMU with -m ${mib}M`);
    const ok = await bootRaw(pod, sockDir, mib, 90_000);
    tried.push(`${mib}: ${ok ? 'ok' : 'fail'}`);
    if (!ok) break;
    smallest = mib;
  }
  if (smallest === undefined) throw new Error(`the trivial pod does not run even with ${RAM_STEPS_MIB[0]} MiB`);
  return makeResult({
    name: 'kvm-min-guest-ram-mib',
    unit: 'MiB',
    ours: [smallest],
    accel: pod.rec.accel,
    command: `raw QEMU (the stage1's argv, same kernel and pod tree) with -m ${RAM_STEPS_MIB.join('/')}M, stopping at the first failure`,
    notes: 'The kvm stage1 sizes RAM as max(128, 128 + sum of app memory limits) MiB and validates >= 128, so --memory cannot go lower; ' +
      'the search therefore boots the exited /bin/true pod\'s tree with the stage1\'s own QEMU argv, only -m changed. ' +
      `Pass = QEMU exits 0 within 90 s and the app's status file reads 0. Tried (MiB): ${tried.join(', ')}.`,
  });
}

export const kvmPods: Suite = {
  produces: ['kvm-start-vs-raw-qemu', 'kvm-vmm-overhead-mib', 'kvm-min-guest-ram-mib'],
  async available() {
    return fs.existsSync(KVM_ACI) ? true : `${KVM_ACI} not built`;
  },
  async run(progress) {
    const h = await makePodHarness('rkt-bench-kvm-');
    const sockDir = tmpDir('kvm-sock');
    try {
      const img = await h.image('bench-kvm-true', ['/bin/true']);
      const out: BenchResult[] = [];
      const { res, pod } = await startVsRaw(h, img, sockDir, progress);
      out.push(res);
      out.push(await minGuestRam(pod, sockDir, progress));
      out.push(await vmmOverhead(h, progress));
      return out;
    } finally {
      rmrf(sockDir);
      await h.cleanup();
    }
  },
};
