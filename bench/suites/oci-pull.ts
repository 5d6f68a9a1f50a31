// oci-pull: `rkt fetch docker://...` from a loopback registry (distribution's docker-registry, plain http),
// against skopeo + umoci doing the same pull and unpack; a re-pull after a tag update that changed only the
// top layer, against pulling that layer alone; and the first `rkt run` of the pulled image, against an ACI
// of the same tree.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { makeResult, stats, type BenchResult } from '../lib/result.js';
import { run, timeAsync, timeInterleaved } from '../lib/measure.js';
import { quick, repoRoot, rktBin, rmrf, runs, tmpDir } from '../lib/env.js';
import type { Suite } from '../lib/suite.js';
import { startCountingProxy } from '../lib/count-proxy.js';
import { buildBenchImages, compressedBytes, uncompressedBytes, type BenchImages } from '../lib/oci-bench-image.js';
import { REGISTRY_BIN, startRegistry, type TestRegistry } from '../../tests/harness/registry.js';
import { writeLayout, type BuiltImage, type LayoutEntry } from '../../tests/harness/oci-image.js';
import { aciManifest, makeAciDir } from '../../tests/harness/aci.js';
import { killProcessesUnder } from '../../tests/harness/pod.js';

const NSPAWN_ACI = path.join(repoRoot, 'dist', 'stage1-images', 'stage1-nspawn.aci');
const BIG = 'bench/big:1';
/** Pull times on this VM's disk vary by 2x from run to run (file creation cost), so the pulls get the full run count. */
const heavyRuns = quick ? 2 : runs;
const repullRuns = quick ? 2 : Math.min(runs, 4);

const med = (xs: number[]): string => stats(xs).median.toFixed(2);
const list = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

interface Ctx {
  work: string;
  reg: TestRegistry;
  images: BenchImages;
  layout: string;
  policy: string;
  /** Empty config dirs: no host auth.d, paths.d or stage1.d leaks into the figures. */
  configArgs: string[];
  fresh(label: string): string;
  progress(l: string): void;
}

function rktArgs(configArgs: readonly string[], dir: string): string[] {
  return [rktBin, `--dir=${dir}`, ...configArgs, '--insecure-options=image,http'];
}

/** rkt with stdout and stderr (--debug goes to stderr); throws on failure so no number comes from a broken run. */
async function rkt(c: Ctx, dir: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await execa('node', [...rktArgs(c.configArgs, dir), ...args], { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`rkt ${args.join(' ')} exited ${r.exitCode}: ${String(r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  return { stdout: String(r.stdout), stderr: String(r.stderr) };
}

const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';

async function mountsUnder(root: string): Promise<string[]> {
  const text = await fs.promises.readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === root || m.startsWith(root + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Pods leave overlay mounts and cgroups behind until gc; removing the dir alone would leak them. */
async function removeRktDir(configArgs: readonly string[], dir: string): Promise<void> {
  if (fs.existsSync(path.join(dir, 'pods'))) {
    await execa('node', [...rktArgs(configArgs, dir), 'gc', '--grace-period=0s', '--expire-prepared=0s'], { reject: false, stdin: 'ignore', timeout: 120_000 });
    await killProcessesUnder(dir);
  }
  for (const m of await mountsUnder(dir)) {
    const r = await execa('umount', [m], { reject: false });
    if (r.exitCode !== 0) await execa('umount', ['-l', m], { reject: false });
  }
  rmrf(dir);
}

function skopeoPull(c: Ctx, ref: string, layoutDir: string): Promise<string> {
  return run('skopeo', ['copy', '--quiet', '--policy', c.policy, '--src-tls-verify=false', `docker://${c.reg.host}/${ref}`, `oci:${layoutDir}:1`], { HOME: c.work });
}

interface PullFigure {
  result: BenchResult;
  /** The data dirs of our timed and warm-up pulls, each holding the image exactly once (for the first-run figure). */
  ociDirs: string[];
  imageId: string;
  /** The flattened tree umoci unpacked last, kept for the ACI of the same tree. */
  umociRootfs: string;
}

async function pullVsSkopeoUmoci(c: Ctx): Promise<PullFigure> {
  const ref = `docker://${c.reg.host}/${BIG}`;
  const ociDirs: string[] = [];
  let dir = '';
  let imageId = '';
  let layoutDir = '';
  let bundle = '';
  const bundles: string[] = [];
  c.progress(`timing rkt fetch ${ref} against skopeo copy + umoci unpack, alternately (fresh dirs each run)`);
  const { ours, base } = await timeInterleaved(
    async () => {
      imageId = lastLine((await rkt(c, dir, ['fetch', ref])).stdout);
    },
    async () => {
      await skopeoPull(c, BIG, layoutDir);
      await run('umoci', ['unpack', '--image', `${layoutDir}:1`, bundle]);
    },
    {
      runs: heavyRuns,
      warmup: 1,
      before: async (side) => {
        if (layoutDir) rmrf(layoutDir);
        // The previous sample's dirty pages are flushed here, not inside the next side's sample.
        await run('sync', []);
        if (side === 'ours') {
          dir = c.fresh('rkt');
          ociDirs.push(dir);
        } else {
          layoutDir = c.fresh('skopeo');
          bundle = path.join(c.fresh('umoci'), 'bundle');
          bundles.push(bundle);
        }
      },
    },
  );
  if (layoutDir) rmrf(layoutDir);
  const umociBundle = bundles.pop()!;
  for (const b of bundles) rmrf(path.dirname(b));
  // Both sides must end with the same tree, or the ratio compares different work.
  const extracted = path.join(c.fresh('extract'), 'rootfs');
  await rkt(c, ociDirs[ociDirs.length - 1]!, ['image', 'extract', '--rootfs-only', imageId, extracted]);
  const diff = await execa('diff', ['-r', '--no-dereference', '-q', extracted, path.join(umociBundle, 'rootfs')], { reject: false });
  if (diff.exitCode !== 0) throw new Error(`rkt's tree and umoci's differ: ${String(diff.stdout).split('\n').slice(0, 3).join(' | ')}`);
  rmrf(path.dirname(extracted));
  const img = c.images.big;
  c.progress(`pull: rkt ${med(ours)} s, skopeo + umoci ${med(base)} s (medians)`);
  return {
    ociDirs,
    imageId,
    umociRootfs: path.join(umociBundle, 'rootfs'),
    result: makeResult({
      name: 'oci-pull-200mb-vs-skopeo-umoci',
      unit: 's',
      ours,
      baselineName: 'skopeo copy + umoci unpack',
      baseline: base,
      command: `rkt --dir=<fresh> --insecure-options=image,http fetch docker://127.0.0.1:PORT/${BIG}`,
      notes:
        `Image: 5 gzip layers, ${mib(uncompressedBytes(img))} uncompressed / ${mib(compressedBytes(img))} compressed, ` +
        `${img.layers.map((l) => mib(l.tar.length)).join(' + ')} per layer (many small text and binary files, large incompressible ` +
        'files, compressible text bundles; the 4th layer replaces one file and whites out another), generated from fixed seeds and ' +
        'pushed with skopeo to docker-registry (distribution 2.8, plain http on 127.0.0.1). Cold on both sides: fresh dirs each run. ' +
        'rkt: manifest + config by digest, each layer streamed once from the registry and checked against its digest and its ' +
        'diff_id while it is unpacked into cas/layers/sha256-<diffid>/rootfs (compressed blob kept in cas/blobs), 3 layers at a time, ' +
        'then the image record (no flattened tree: pods stack the layer trees with overlayfs). Baseline: `skopeo copy ' +
        '--src-tls-verify=false docker://... oci:<dir>:1` (downloads every blob, checking each digest, into an OCI layout) then ' +
        '`umoci unpack --image <dir>:1 <bundle>` (reads the blobs back, digest-checked, and applies the layers into bundle/rootfs, ' +
        'writing config.json and an mtree of the tree). The sides alternate, with a `sync` before each sample. After the runs, `rkt image extract --rootfs-only` of our image and umoci\'s ' +
        `rootfs were compared with \`diff -r --no-dereference\`: identical. Samples (s): rkt ${list(ours)}; baseline ${list(base)}.`,
    }),
  };
}

async function firstRunVsAci(c: Ctx, pulled: PullFigure): Promise<BenchResult> {
  // The ACI is umoci's unpack of the same image, so the two runs start from the same files.
  const aciSrc = c.fresh('aci-src');
  fs.writeFileSync(path.join(aciSrc, 'manifest'), JSON.stringify(aciManifest({ name: 'example.com/bench/big-aci', version: '1', exec: ['/bin/sh', '-c', 'exit 0'] })));
  fs.renameSync(pulled.umociRootfs, path.join(aciSrc, 'rootfs'));
  const aci = path.join(c.work, 'big.aci');
  await run('tar', ['-C', aciSrc, '-cf', aci, 'manifest', 'rootfs']);
  rmrf(aciSrc);
  const warmSrc = await makeAciDir({ name: 'example.com/bench/warm', version: '1', exec: ['/bin/true'], busybox: true, parent: c.work });
  const warmAci = path.join(c.work, 'warm.aci');
  await run('tar', ['-C', warmSrc, '-cf', warmAci, 'manifest', 'rootfs']);

  const aciDirs: Array<{ dir: string; id: string }> = [];
  c.progress(`fetching the ACI (${mib(fs.statSync(aci).size)}) into ${pulled.ociDirs.length} fresh dirs`);
  for (let i = 0; i < pulled.ociDirs.length; i++) {
    const dir = c.fresh('rkt-aci');
    aciDirs.push({ dir, id: lastLine((await rkt(c, dir, ['fetch', aci])).stdout) });
  }
  const podArgs = (dir: string, img: string): string[] => ['run', '--stage1-image=nspawn', '--net=none', `--uuid-file-save=${path.join(dir, `uuid-${Date.now()}`)}`, img];
  // A first pod of another image in every dir, so the stage1 import (the same on both sides) is not in the figure.
  c.progress('warming the stage1 in every dir');
  for (const dir of [...pulled.ociDirs, ...aciDirs.map((a) => a.dir)]) await rkt(c, dir, podArgs(dir, warmAci));

  const oci = pulled.ociDirs.map((dir) => ({ dir, id: pulled.imageId }));
  const aciQueue = [...aciDirs];
  let cur = { dir: '', id: '' };
  c.progress('timing the first rkt run of the pulled OCI image against that of the ACI, alternately');
  const { ours, base } = await timeInterleaved(
    async () => {
      await rkt(c, cur.dir, podArgs(cur.dir, cur.id));
    },
    async () => {
      await rkt(c, cur.dir, podArgs(cur.dir, cur.id));
    },
    {
      runs: oci.length - 1,
      warmup: 1,
      before: async (side) => {
        await run('sync', []);
        cur = (side === 'ours' ? oci : aciQueue).shift()!;
      },
    },
  );
  for (const a of aciDirs) await removeRktDir(c.configArgs, a.dir);
  c.progress(`first run: OCI ${med(ours)} s, ACI ${med(base)} s (medians)`);
  return makeResult({
    name: 'oci-first-run-vs-aci',
    unit: 's',
    ours,
    baselineName: 'first rkt run of an ACI of the same tree',
    baseline: base,
    command: 'rkt run --stage1-image=nspawn --net=none <image ID of the pulled 5-layer OCI image> (app: sh -c "exit 0")',
    notes:
      'Each sample is the first run of its image in its own data dir: the OCI dirs are those of the pull figure (image fetched ' +
      'once), the ACI dirs got `rkt fetch big.aci` of an uncompressed ACI whose ' +
      'rootfs is umoci\'s unpack of the same image (so the same files). Before timing, every dir ran one pod of a small busybox ' +
      'ACI, so importing the stage1 is not in either figure. Each run creates, prepares, boots (nspawn) and exits the pod; ' +
      `the two sides alternate, with a \`sync\` before each sample. Samples (s): OCI ${list(ours)}; ACI ${list(base)}.`,
  });
}

async function repullTopLayer(c: Ctx): Promise<BenchResult[]> {
  // Pulls go through a counting proxy: the layer count comes from what crossed the wire, not from rkt's own log.
  const proxy = await startCountingProxy(c.reg.port);
  try {
    const host = `127.0.0.1:${proxy.port}`;
    const dir = c.fresh('rkt-repull');
    const digests = (img: BuiltImage): Set<string> => new Set(img.layers.map((l) => l.digest));
    c.progress('first pull of v1 through the counting proxy');
    await rkt(c, dir, ['fetch', `docker://${host}/${BIG}`]);
    const firstPullLayers = proxy.blobGets(digests(c.images.big)).length;
    const ours: number[] = [];
    const base: number[] = [];
    const counts: number[] = [];
    const debugLines: string[] = [];
    const total = repullRuns + 1;
    for (let v = 1; v <= total; v++) {
      c.progress(`tag update ${v}/${total}: new top layer, re-pull with --pull-policy=update`);
      const updated = await c.images.updated(v);
      await c.reg.pushOciLayout(c.layout, BIG, { layoutTag: `v${v}` });
      await c.reg.pushOciLayout(c.layout, `bench/top:${v}`, { layoutTag: `top${v}` });
      await run('sync', []);
      proxy.reset();
      let stderr = '';
      const [t] = await timeAsync(async () => {
        stderr = (await rkt(c, dir, ['--debug', 'fetch', '--pull-policy=update', `docker://${host}/${BIG}`])).stderr;
      }, { runs: 1, warmup: 0 });
      const got = proxy.blobGets(digests(updated));
      const line = stderr.split('\n').find((l) => /already in the store/.test(l));
      let single = '';
      const [b] = await timeAsync(
        async () => {
          await rkt(c, single, ['--debug', 'fetch', `docker://${host}/bench/top:${v}`]);
        },
        { runs: 1, warmup: 0, before: async () => { await run('sync', []); single = c.fresh('rkt-top'); }, after: async () => removeRktDir(c.configArgs, single) },
      );
      c.progress(`re-pull ${t!.toFixed(2)} s (${got.length} layer GETs), that layer alone ${b!.toFixed(2)} s`);
      if (v === 1) continue; // warm-up
      ours.push(t!);
      base.push(b!);
      counts.push(got.length);
      if (line) debugLines.push(line.replace(/^.*?: (?=\d+ layers)/, ''));
    }
    await removeRktDir(c.configArgs, dir);
    const top = (await c.images.updated(1)).layers[4]!;
    return [
      makeResult({
        name: 'oci-repull-top-layer-vs-first-pull',
        unit: 's',
        ours,
        baselineName: 'fresh rkt pull of that layer alone',
        baseline: base,
        command: `rkt --dir=<holding v1> --insecure-options=image,http fetch --pull-policy=update docker://127.0.0.1:PORT/${BIG}`,
        notes:
          `Before each sample the tag is moved (skopeo push) to an image with the same 4 lower layers and a new top layer ` +
          `(${mib(top.tar.length)} uncompressed / ${mib(top.size)} gzip: ~300 small files, one binary, some text), ` +
          'and rkt re-pulls the tag into the data dir that holds the previous version. Baseline: `rkt fetch` of a one-layer image ' +
          'made of just that top layer into a fresh data dir, in the same iteration. Goal: about 1. Layer blobs GETs seen by a ' +
          `counting proxy in front of the registry: ${counts.join(', ')} per re-pull (first pull of v1: ${firstPullLayers}); ` +
          `rkt --debug said: ${[...new Set(debugLines)].join('; ') || '(no layer line)'}. Samples (s): re-pull ${list(ours)}; layer alone ${list(base)}.`,
      }),
      makeResult({
        name: 'oci-repull-layers-downloaded',
        unit: 'layers',
        ours: counts,
        command: 'GET /v2/bench/big/blobs/<layer digest> requests during one --pull-policy=update re-pull (counting proxy)',
        notes: `Must be 1: only the changed top layer. The first pull of the 5-layer image downloaded ${firstPullLayers}.`,
      }),
    ];
  } finally {
    await proxy.close();
  }
}

export const ociPull: Suite = {
  produces: ['oci-pull-200mb-vs-skopeo-umoci', 'oci-first-run-vs-aci', 'oci-repull-top-layer-vs-first-pull', 'oci-repull-layers-downloaded'],
  async available() {
    if (!fs.existsSync(rktBin)) return 'dist/bin/rkt.js not built';
    for (const bin of [REGISTRY_BIN, '/usr/bin/skopeo', '/usr/bin/umoci']) {
      if (!fs.existsSync(bin)) return `${bin} not installed`;
    }
    if (!fs.existsSync(NSPAWN_ACI)) return `${NSPAWN_ACI} not built`;
    return true;
  },
  async run(progress) {
    const work = tmpDir('oci-pull');
    const configArgs = ['local-config', 'system-config', 'user-config'].map((n) => `--${n}=${path.join(work, n)}`);
    let reg: TestRegistry | undefined;
    const dirs: string[] = [];
    try {
      const scale = quick ? 0.2 : 1;
      progress('building the image (5 gzip layers, fixed seeds)');
      const images = await buildBenchImages(scale);
      const entries: LayoutEntry[] = [{ name: '1', image: images.big }];
      for (let v = 1; v <= repullRuns + 1; v++) {
        entries.push({ name: `v${v}`, image: await images.updated(v) }, { name: `top${v}`, image: await images.topOnly(v) });
      }
      const layout = path.join(work, 'layout');
      await writeLayout(layout, entries);
      for (const n of ['local-config', 'system-config', 'user-config']) fs.mkdirSync(path.join(work, n));
      const policy = path.join(work, 'policy.json');
      fs.writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
      progress('starting docker-registry and pushing the image');
      reg = await startRegistry({ tls: false });
      await reg.pushOciLayout(layout, BIG, { layoutTag: '1' });
      let seq = 0;
      const c: Ctx = {
        work, reg, images, layout, policy, progress,
        configArgs,
        fresh(label) {
          const d = path.join(work, `${label}-${seq++}`);
          fs.mkdirSync(d);
          dirs.push(d);
          return d;
        },
      };
      const pulled = await pullVsSkopeoUmoci(c);
      const out: BenchResult[] = [pulled.result];
      out.push(await firstRunVsAci(c, pulled));
      for (const d of pulled.ociDirs) await removeRktDir(c.configArgs, d);
      out.push(...(await repullTopLayer(c)));
      return out;
    } finally {
      await reg?.stop();
      for (const d of dirs) {
        if (fs.existsSync(d)) await removeRktDir(configArgs, d);
      }
      rmrf(work);
    }
  },
};
