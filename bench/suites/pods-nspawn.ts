// nspawn pod figures: start-to-exit against raw `systemd-nspawn --boot` of the same rendered tree,
// an idle pod's host memory (PSS), and `rkt list` / `rkt status` with 1,000 pods on disk.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { makeResult, type BenchResult } from '../lib/result.js';
import { run, timeAsync, timeCommand } from '../lib/measure.js';
import { quick, repoRoot, rktBin, runs } from '../lib/env.js';
import { processTreePssKiB, waitFor } from '../lib/procs.js';
import type { Suite } from '../lib/suite.js';
import { makePodHarness, type PodHarness } from '../../tests/harness/pod.js';

const NSPAWN_ACI = path.join(repoRoot, 'dist', 'stage1-images', 'stage1-nspawn.aci');

async function runPod(h: PodHarness, img: string, uuidFile: string): Promise<string> {
  const r = await h.rkt(['run', '--stage1-image=nspawn', '--net=none', `--uuid-file-save=${uuidFile}`, img]);
  if (r.exitCode !== 0) throw new Error(`rkt run exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return fs.readFileSync(uuidFile, 'utf8').trim();
}

async function startVsRaw(h: PodHarness, progress: (l: string) => void): Promise<BenchResult> {
  const img = await h.image('bench-true', ['/bin/true']);
  const uuidFile = path.join(h.dirs.root, 'uuid');
  progress('timing rkt run of a trivial app');
  const ours = await timeAsync(async () => {
    await runPod(h, img, uuidFile);
  }, { runs, warmup: 1 });
  // The last pod's stage1 tree (still mounted, units written) is "the same rendered tree".
  const uuid = fs.readFileSync(uuidFile, 'utf8').trim();
  const tree = path.join(h.dirs.dir, 'pods', 'run', uuid, 'stage1', 'rootfs');
  progress('timing raw systemd-nspawn --boot of the same tree');
  const base = await timeCommand('systemd-nspawn', ['--boot', '--register=no', '--keep-unit', '--quiet', `--machine=bench-${uuid.slice(0, 8)}`, '-D', tree], { runs, warmup: 1 });
  return makeResult({
    name: 'nspawn-start-vs-raw-nspawn',
    unit: 's',
    ours,
    baselineName: 'systemd-nspawn --boot (same tree)',
    baseline: base,
    command: 'rkt run --stage1-image=nspawn --net=none <busybox /bin/true ACI>',
    notes: 'Image already in the store; each run creates, prepares (overlay), boots and exits a new pod. The baseline is plain `systemd-nspawn --boot --register=no --keep-unit -D <tree>` on the last pod\'s rendered stage1 tree (same systemd, same units). Without the stage1\'s runtime setup (bind mounts, cgroup, env) the app unit does not complete there, so the baseline is nspawn booting the pod\'s systemd to shutdown, a lower bound rather than the same work.',
  });
}

async function idlePss(h: PodHarness, progress: (l: string) => void): Promise<BenchResult> {
  const img = await h.image('bench-sleep', ['/bin/sleep', '3600']);
  const uuidFile = path.join(h.dirs.root, 'uuid-idle');
  const samples: number[] = [];
  for (let i = 0; i < (quick ? 2 : 3); i++) {
    progress(`idle pod ${i + 1}: starting`);
    const child = h.spawn(['run', '--stage1-image=nspawn', '--net=none', `--uuid-file-save=${uuidFile}`, img]);
    await waitFor(() => fs.existsSync(uuidFile), 30_000, 'uuid file');
    const uuid = fs.readFileSync(uuidFile, 'utf8').trim();
    const r = await h.rkt(['status', '--wait-ready=60s', uuid]);
    if (r.exitCode !== 0) throw new Error(`status --wait-ready failed: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 2000));
    if (child.pid === undefined) throw new Error('no pid for the pod');
    samples.push((await processTreePssKiB(child.pid)) / 1024);
    await h.rkt(['stop', '--force', uuid]);
    await child;
    fs.rmSync(uuidFile, { force: true });
  }
  return makeResult({
    name: 'nspawn-pod-pss-mib',
    unit: 'MiB',
    ours: samples,
    command: 'PSS of systemd-nspawn and every process below it, for a pod running `sleep 3600`',
    notes: 'Sum of /proc/<pid>/smaps_rollup Pss over the pod\'s process tree (nspawn, the pod\'s systemd, journald, the app), 2 s after the pod is ready.',
  });
}

async function manyPods(h: PodHarness, progress: (l: string) => void): Promise<BenchResult[]> {
  const img = await h.image('bench-many', ['/bin/true']);
  const uuidFile = path.join(h.dirs.root, 'uuid-many');
  const uuid = await runPod(h, img, uuidFile);
  const runDir = path.join(h.dirs.dir, 'pods', 'run');
  const count = quick ? 200 : 1000;
  progress(`cloning one exited pod's metadata into ${count} pods`);
  for (let i = 1; i < count; i++) {
    const hex = i.toString(16).padStart(12, '0');
    const clone = `${uuid.slice(0, 24)}${hex}`;
    await execa('cp', ['-a', '--one-file-system', path.join(runDir, uuid), path.join(runDir, clone)]);
  }
  const g = h.dirs.globalArgs();
  const list = await timeCommand('node', [rktBin, ...g, 'list', '--no-legend'], { runs, warmup: 1 });
  const status = await timeCommand('node', [rktBin, ...g, 'status', uuid], { runs, warmup: 1 });
  const version = await timeCommand('node', [rktBin, 'version'], { runs, warmup: 1 });
  await run('node', [rktBin, ...g, 'list', '--no-legend']);
  return [
    makeResult({ name: 'list-1000-pods-s', unit: 's', ours: list, baselineName: 'rkt version', baseline: version, command: `rkt list (${count} exited pods)` }),
    makeResult({ name: 'status-1000-pods-s', unit: 's', ours: status, baselineName: 'rkt version', baseline: version, command: `rkt status <uuid> (${count} pods on disk)` }),
  ];
}

export const podsNspawn: Suite = {
  produces: ['nspawn-start-vs-raw-nspawn', 'nspawn-pod-pss-mib', 'list-1000-pods-s', 'status-1000-pods-s'],
  async available() {
    return fs.existsSync(NSPAWN_ACI) ? true : `${NSPAWN_ACI} not built`;
  },
  async run(progress) {
    const h = await makePodHarness('rkt-bench-pods-');
    try {
      const out: BenchResult[] = [];
      out.push(await startVsRaw(h, progress));
      out.push(await idlePss(h, progress));
      out.push(...(await manyPods(h, progress)));
      return out;
    } finally {
      await h.cleanup();
    }
  },
};
