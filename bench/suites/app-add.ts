// app-add: in a running sandbox (`rkt app sandbox`, already booted), `rkt app add` + `rkt app start` until the
// app's first line of output reaches the sandbox's console, per stage1, against `rkt run` of the same image
// until the same line reaches its console (a cold pod: prepare, boot, start). Adding must be far cheaper.
import fs from 'node:fs';
import path from 'node:path';
import { makeResult, type BenchResult } from '../lib/result.js';
import { timeInterleaved } from '../lib/measure.js';
import { quick, repoRoot, runs } from '../lib/env.js';
import type { Suite } from '../lib/suite.js';
import { makePodHarness, type PodHarness } from '../../tests/harness/pod.js';

const ALL_FLAVORS = [
  { name: 'nspawn', aci: path.join(repoRoot, 'dist', 'stage1-images', 'stage1-nspawn.aci'), runs: runs },
  // each cold kvm pod boots a VM under TCG (~10 s): fewer samples
  { name: 'kvm', aci: path.join(repoRoot, 'dist', 'stage1-images', 'stage1-kvm.aci'), runs: quick ? 2 : Math.min(runs, 3) },
] as const;
/** BENCH_APP_FLAVORS=nspawn (or kvm) measures one stage1 only. */
const only = (process.env['BENCH_APP_FLAVORS'] ?? '').split(',').filter((f) => f !== '');
const FLAVORS = ALL_FLAVORS.filter((f) => only.length === 0 || only.includes(f.name));
const MARKER = 'bench-app-first-output';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Resolves once `marker` has appeared `count` times in what `stream` wrote. */
function waitForOutput(stream: NodeJS.ReadableStream, seen: () => string, count: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (seen().split(MARKER).length - 1 >= count) {
        stream.off('data', check);
        clearTimeout(t);
        resolve();
      }
    };
    const t = setTimeout(() => { stream.off('data', check); reject(new Error(`no "${MARKER}" #${count} within ${timeoutMs} ms`)); }, timeoutMs);
    stream.on('data', check);
    check();
  });
}

async function rktOk(h: PodHarness, args: string[]): Promise<void> {
  const r = await h.rkt(args);
  if (r.exitCode !== 0) throw new Error(`rkt ${args.join(' ')} exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
}

async function flavorFigure(h: PodHarness, f: (typeof ALL_FLAVORS)[number], progress: (l: string) => void): Promise<BenchResult> {
  const img = await h.image('bench-hello', ['/bin/sh', '-c', `echo ${MARKER}`]);
  const uuidFile = path.join(h.dirs.root, `sandbox-${f.name}`);
  progress(`${f.name}: booting the sandbox`);
  const sandbox = h.spawn(['app', 'sandbox', `--stage1-path=${f.aci}`, '--net=none', `--uuid-file-save=${uuidFile}`]);
  let console = '';
  sandbox.stdout?.on('data', (d: Buffer) => { console += d.toString(); });
  const read = (): string => (fs.existsSync(uuidFile) ? fs.readFileSync(uuidFile, 'utf8').trim() : '');
  for (let i = 0; i < 1200 && !UUID.test(read()); i++) await new Promise((r) => setTimeout(r, 100));
  const uuid = read();
  if (!UUID.test(uuid)) throw new Error('the sandbox got no uuid');
  await rktOk(h, ['status', '--wait-ready=180s', uuid]);
  let n = 0;
  try {
    const pair = await timeInterleaved(
      async () => {
        const name = `hello-${++n}`;
        await rktOk(h, ['app', 'add', uuid, img, `--name=${name}`]);
        await rktOk(h, ['app', 'start', uuid, `--app=${name}`]);
        if (!sandbox.stdout) throw new Error('no sandbox stdout');
        await waitForOutput(sandbox.stdout, () => console, n, 60_000);
      },
      async () => {
        const child = h.spawn(['run', `--stage1-path=${f.aci}`, '--net=none', img]);
        let out = '';
        child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
        if (!child.stdout) throw new Error('no rkt run stdout');
        await waitForOutput(child.stdout, () => out, 1, 240_000);
        await child.catch(() => undefined);
      },
      { runs: f.runs, warmup: 1 },
    );
    return makeResult({
      name: `app-add-start-vs-run-${f.name}`,
      unit: 's',
      ours: pair.ours,
      baselineName: `rkt run (cold ${f.name} pod, same image)`,
      baseline: pair.base,
      ...(f.name === 'kvm' ? { accel: process.env['RKT_KVM_ACCEL'] === 'kvm' ? 'kvm' : 'tcg' } : {}),
      command: `rkt app add UUID <busybox ACI> --name=N && rkt app start UUID --app=N, until its first line reaches the sandbox console (--stage1-path=stage1-${f.name}.aci, --net=none)`,
      notes: 'Both sides: image already in the store, timed from the first rkt command to the app\'s first line on the console. Ours adds to a sandbox booted beforehand (copy of the image tree, units, daemon-reload, start); the baseline prepares and boots a new pod for the same image, run alternately with ours.',
    });
  } finally {
    await h.rkt(['stop', '--force', uuid]);
    await sandbox.catch(() => undefined);
    await h.rkt(['gc', '--grace-period=0s']);
  }
}

export const appAdd: Suite = {
  produces: FLAVORS.map((f) => `app-add-start-vs-run-${f.name}`),
  async available() {
    if (process.getuid?.() !== 0) return 'needs root';
    const missing = FLAVORS.filter((f) => !fs.existsSync(f.aci));
    return missing.length === 0 ? true : `${missing.map((f) => path.basename(f.aci)).join(', ')} not built`;
  },
  async run(progress) {
    const h = await makePodHarness('rkt-bench-app-');
    try {
      const out: BenchResult[] = [];
      for (const f of FLAVORS) out.push(await flavorFigure(h, f, progress));
      return out;
    } finally {
      await h.cleanup();
    }
  },
};
