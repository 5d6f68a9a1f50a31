// cri: what kubelet waits for, per runtime handler: RunPodSandbox + CreateContainer + StartContainer until
// the container's first line is in its CRI log file, against `rkt run` of the same OCI image (same store,
// same network) until the same line reaches its stdout. And 10 RunPodSandbox at once against 10
// `rkt app sandbox` started at once by hand (the endpoint's own cost when a node fills up).
import fs from 'node:fs';
import path from 'node:path';
import { makeResult, type BenchResult } from '../lib/result.js';
import { timeInterleaved } from '../lib/measure.js';
import { quick, repoRoot, runs } from '../lib/env.js';
import type { Suite } from '../lib/suite.js';
import { makePodHarness, type PodHarness } from '../../tests/harness/pod.js';
import { startRegistry, type TestRegistry } from '../../tests/harness/registry.js';
import { busyboxImage, writeLayout } from '../../tests/harness/oci-image.js';
import { startCri } from '../../tests/functional/cri-bodies.js';
import type { CriClient, Msg } from '../../tests/harness/cri-client.js';

const MARKER = 'bench-cri-first-line';
const HANDLERS = [
  { name: 'nspawn', runs },
  { name: 'kvm', runs: quick ? 1 : Math.min(runs, 3) },
] as const;
const only = (process.env['BENCH_CRI_HANDLERS'] ?? '').split(',').filter((f) => f !== '');
const handlers = HANDLERS.filter((f) => only.length === 0 || only.includes(f.name));
const CONCURRENT = 10;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sandboxConfig(name: string, logDir: string): Msg {
  return { metadata: { name, uid: `uid-${name}`, namespace: 'bench', attempt: 0 }, hostname: name, log_directory: logDir };
}

async function untilLine(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(MARKER))) {
    if (Date.now() > deadline) throw new Error(`no "${MARKER}" in ${file} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

interface Env { h: PodHarness; reg: TestRegistry; client: CriClient; stop: () => Promise<void>; image: string; imageRef: string }

async function setup(progress: (l: string) => void): Promise<Env> {
  const h = await makePodHarness('rkt-bench-cri-');
  const reg = await startRegistry();
  const layout = path.join(h.dirs.root, 'layout');
  await writeLayout(layout, [{ image: await busyboxImage({ cmd: ['/bin/sh', '-c', `echo ${MARKER}`] }), name: '1' }]);
  await reg.pushOciLayout(layout, 'bench/hello:1');
  progress('starting rkt cri');
  const log: string[] = [];
  const { server, client } = await startCri({ h, reg, socket: path.join(h.dirs.root, 'cri.sock'), serverLog: log });
  const image = `${reg.host}/bench/hello:1`;
  const imageRef = String((await client.image['PullImage']!({ image: { image } }))['image_ref']);
  return {
    h, reg, client, image, imageRef,
    async stop() {
      client.close();
      server.kill('SIGTERM');
      await server.catch(() => undefined);
      await reg.stop();
      await h.rkt(['gc', '--grace-period=0s']);
      await h.cleanup();
    },
  };
}

async function removeAll(e: Env): Promise<void> {
  const items = (await e.client.runtime['ListPodSandbox']!({}))['items'] as Msg[];
  await Promise.all(items.map((i) => e.client.runtime['RemovePodSandbox']!({ pod_sandbox_id: i['id'] })));
}

async function handlerFigure(e: Env, handler: (typeof HANDLERS)[number], progress: (l: string) => void): Promise<BenchResult> {
  let n = 0;
  const rt = e.client.runtime;
  progress(`${handler.name}: ${handler.runs} runs of each side`);
  const pair = await timeInterleaved(
    async () => {
      const name = `b${++n}`;
      const logDir = path.join(e.h.dirs.root, 'logs', name);
      const cfg = sandboxConfig(name, logDir);
      const sb = String((await rt['RunPodSandbox']!({ config: cfg, runtime_handler: handler.name }))['pod_sandbox_id']);
      const cid = String((await rt['CreateContainer']!({ pod_sandbox_id: sb, config: { metadata: { name: 'c', attempt: 0 }, image: { image: e.imageRef }, log_path: 'c/0.log' }, sandbox_config: cfg }))['container_id']);
      await rt['StartContainer']!({ container_id: cid });
      await untilLine(path.join(logDir, 'c/0.log'), 300_000);
    },
    async () => {
      const r = await e.h.rkt(['--insecure-options=image,http,tls', 'run', `--stage1-image=${handler.name}`, '--net=default', `docker://${e.image}`]);
      if (!r.stdout.includes(MARKER)) throw new Error(`rkt run printed no "${MARKER}": ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    },
    { runs: handler.runs, warmup: 1, before: async () => { await removeAll(e); await e.h.rkt(['gc', '--grace-period=0s']); } },
  );
  return makeResult({
    name: `cri-start-to-first-log-line-${handler.name}`,
    unit: 's',
    ours: pair.ours,
    baselineName: `rkt run --stage1-image=${handler.name} --net=default docker://<same image> (until its line on stdout)`,
    baseline: pair.base,
    ...(handler.name === 'kvm' ? { accel: process.env['RKT_KVM_ACCEL'] === 'kvm' ? 'kvm' : 'tcg' } : {}),
    command: `CRI RunPodSandbox(runtime_handler=${handler.name}) + CreateContainer + StartContainer over the unix socket, until the first line is in the container's CRI log file`,
    notes: 'Image pulled beforehand on both sides (one store). Ours boots a sandbox, adds and starts the app, and copies its journal into the CRI log; the baseline prepares and boots one pod with the app and prints the line on its console, and exits. Sandboxes are removed between samples, untimed.',
  });
}

async function concurrentFigure(e: Env, progress: (l: string) => void): Promise<BenchResult> {
  const rt = e.client.runtime;
  const rounds = quick ? 1 : 2;
  let round = 0;
  progress(`nspawn: ${CONCURRENT} sandboxes at once, ${rounds} rounds of each side`);
  const nspawnAci = path.join(repoRoot, 'dist', 'stage1-images', 'stage1-nspawn.aci');
  const pair = await timeInterleaved(
    async () => {
      round++;
      await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => rt['RunPodSandbox']!({ config: sandboxConfig(`p${round}-${i}`, ''), runtime_handler: 'nspawn' })));
    },
    async () => {
      const uuids = await Promise.all(Array.from({ length: CONCURRENT }, async (_, i) => {
        const f = path.join(e.h.dirs.root, `uuid-${round}-${i}`);
        void e.h.spawn(['app', 'sandbox', `--stage1-path=${nspawnAci}`, '--net=default', `--uuid-file-save=${f}`]).catch(() => undefined);
        for (let k = 0; k < 3000 && !(fs.existsSync(f) && fs.readFileSync(f, 'utf8').trim() !== ''); k++) await sleep(20);
        return fs.readFileSync(f, 'utf8').trim();
      }));
      await Promise.all(uuids.map((u) => e.h.rkt(['status', '--wait-ready=300s', u])));
    },
    {
      runs: rounds, warmup: 0,
      before: async () => {
        await removeAll(e);
        const r = await e.h.rkt(['list', '--no-legend', '--full']);
        const running = r.stdout.split('\n').filter((l) => /\brunning\b/.test(l)).map((l) => l.split(/\s+/)[0]!).filter((u) => u !== '');
        if (running.length > 0) await e.h.rkt(['stop', '--force', ...running]);
        await e.h.rkt(['gc', '--grace-period=0s']);
      },
    },
  );
  const perSecond = pair.ours.map((t) => CONCURRENT / t);
  return makeResult({
    name: `cri-${CONCURRENT}-sandboxes-at-once-nspawn`,
    unit: 's',
    ours: pair.ours,
    baselineName: `${CONCURRENT} rkt app sandbox started at once, until rkt status --wait-ready for each`,
    baseline: pair.base,
    command: `${CONCURRENT} concurrent CRI RunPodSandbox(runtime_handler=nspawn), until all answered (each answers once its pod is ready)`,
    notes: `pods per second: ${perSecond.map((p) => p.toFixed(2)).join(', ')} (ours), ${pair.base.map((t) => (CONCURRENT / t).toFixed(2)).join(', ')} (baseline).`,
  });
}

export const criSuite: Suite = {
  produces: [...handlers.map((f) => `cri-start-to-first-log-line-${f.name}`), `cri-${CONCURRENT}-sandboxes-at-once-nspawn`],
  async available() {
    if (process.getuid?.() !== 0) return 'needs root';
    for (const f of handlers) if (!fs.existsSync(path.join(repoRoot, 'dist', 'stage1-images', `stage1-${f.name}.aci`))) return `stage1-${f.name}.aci not built`;
    return fs.existsSync('/usr/bin/docker-registry') ? true : 'docker-registry not installed';
  },
  async run(progress) {
    const e = await setup(progress);
    try {
      const out: BenchResult[] = [];
      for (const f of handlers) out.push(await handlerFigure(e, f, progress));
      await removeAll(e);
      out.push(await concurrentFigure(e, progress));
      return out;
    } finally {
      await removeAll(e).catch(() => undefined);
      await e.stop();
    }
  },
};
