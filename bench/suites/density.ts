// density-nspawn / density-kvm: idle pods started concurrently, in waves, until a memory budget
// (summed PSS of the pods' process trees) is used, failures begin, or a pod cap is reached.
import fs from 'node:fs';
import path from 'node:path';
import { makeResult, type BenchResult } from '../lib/result.js';
import { quick, repoRoot } from '../lib/env.js';
import { processTreePssKiB } from '../lib/procs.js';
import type { Suite } from '../lib/suite.js';
import { makePodHarness, type PodHarness } from '../../tests/harness/pod.js';

interface DensityPlan {
  flavor: 'nspawn' | 'kvm';
  budgetMiB: number;
  maxPods: number;
  wave: number;
  readyTimeout: string;
}

async function startWave(h: PodHarness, img: string, n: number, plan: DensityPlan, offset: number): Promise<{ pids: number[]; failures: number }> {
  const started = Array.from({ length: n }, (_, i) => {
    const uuidFile = path.join(h.dirs.root, `density-${offset + i}`);
    const child = h.spawn(['run', `--stage1-image=${plan.flavor}`, '--net=none', `--uuid-file-save=${uuidFile}`, img]);
    return { child, uuidFile };
  });
  let failures = 0;
  const pids: number[] = [];
  await Promise.all(started.map(async ({ child, uuidFile }) => {
    const end = Date.now() + 120_000;
    while (!fs.existsSync(uuidFile) && Date.now() < end && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    const uuid = fs.existsSync(uuidFile) ? fs.readFileSync(uuidFile, 'utf8').trim() : '';
    const r = uuid ? await h.rkt(['status', `--wait-ready=${plan.readyTimeout}`, uuid]) : { exitCode: 1 };
    if (r.exitCode !== 0 || child.pid === undefined || child.exitCode !== null) failures++;
    else pids.push(child.pid);
  }));
  return { pids, failures };
}

export async function measureDensity(plan: DensityPlan, progress: (l: string) => void): Promise<BenchResult> {
  const h = await makePodHarness(`rkt-bench-density-${plan.flavor}-`);
  try {
    const img = await h.image('density-idle', ['/bin/sleep', '3600']);
    const pids: number[] = [];
    let failures = 0;
    let usedMiB = 0;
    const t0 = process.hrtime.bigint();
    while (pids.length < plan.maxPods && failures === 0 && usedMiB < plan.budgetMiB) {
      const n = Math.min(plan.wave, plan.maxPods - pids.length);
      progress(`${plan.flavor}: starting ${n} pods (${pids.length} running, ${usedMiB.toFixed(0)} MiB)`);
      const w = await startWave(h, img, n, plan, pids.length + failures);
      pids.push(...w.pids);
      failures += w.failures;
      let kib = 0;
      for (const p of pids) kib += await processTreePssKiB(p);
      usedMiB = kib / 1024;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const reason = failures > 0 ? `failures began (${failures})` : usedMiB >= plan.budgetMiB ? 'memory budget used' : `cap of ${plan.maxPods} pods reached`;
    return makeResult({
      name: `density-${plan.flavor}`,
      unit: 'pods',
      ours: [pids.length],
      accel: plan.flavor === 'kvm' ? 'tcg' : 'n/a',
      command: `rkt run --stage1-image=${plan.flavor} --net=none <sleep 3600> x N, ${plan.wave} at a time`,
      notes: `Budget ${plan.budgetMiB} MiB of summed pod PSS, cap ${plan.maxPods} pods. Stopped because: ${reason}. ` +
        `${pids.length} pods running using ${usedMiB.toFixed(0)} MiB (${pids.length ? (usedMiB / pids.length).toFixed(1) : '-'} MiB/pod); ` +
        `time until all were running: ${seconds.toFixed(1)} s; failures: ${failures}.`,
    });
  } finally {
    await h.cleanup();
  }
}

const NSPAWN_ACI = path.join(repoRoot, 'dist', 'stage1-images', 'stage1-nspawn.aci');

export const densityNspawn: Suite = {
  produces: ['density-nspawn'],
  async available() {
    return fs.existsSync(NSPAWN_ACI) ? true : `${NSPAWN_ACI} not built`;
  },
  async run(progress) {
    return [await measureDensity({ flavor: 'nspawn', budgetMiB: 2048, maxPods: quick ? 8 : 32, wave: 4, readyTimeout: '120s' }, progress)];
  },
};

const KVM_ACI = path.join(repoRoot, 'dist', 'stage1-images', 'stage1-kvm.aci');

export const densityKvm: Suite = {
  produces: ['density-kvm'],
  async available() {
    return fs.existsSync(KVM_ACI) ? true : `${KVM_ACI} not built`;
  },
  async run(progress) {
    // Under TCG every guest burns host CPU while it boots: small waves, a small cap.
    return [await measureDensity({ flavor: 'kvm', budgetMiB: 4096, maxPods: quick ? 2 : 6, wave: 2, readyTimeout: '300s' }, progress)];
  },
};
