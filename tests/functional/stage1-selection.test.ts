// Stage1 selection: the built-in flavors from the stage1 images dir (trusted without a signature),
// --stage1-image/-path/-hash/-from-dir, stage1.d configuration, and the signature rule for everything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runRkt } from '../harness/aci.js';
import { makePodHarness, type PodHarness } from '../harness/pod.js';

interface Env {
  h: PodHarness;
  imagesDir: string;
  /** The app image's id (already in the store, so runs need no signature for it). */
  appId: string;
}

async function withEnv(fn: (e: Env) => Promise<void>): Promise<void> {
  const h = await makePodHarness('rkt-sel-');
  try {
    const imagesDir = path.join(h.dirs.root, 'stage1-images');
    await fs.mkdir(imagesDir);
    for (const flavor of ['nspawn', 'kvm']) await fs.copyFile(h.stubAci, path.join(imagesDir, `stage1-${flavor}.aci`));
    await fs.mkdir(path.join(h.dirs.systemConfig, 'paths.d'));
    await fs.writeFile(
      path.join(h.dirs.systemConfig, 'paths.d', 'paths.json'),
      JSON.stringify({ rktKind: 'paths', rktVersion: 'v1', 'stage1-images': imagesDir }),
    );
    const img = await h.image('sel', ['/bin/true']);
    const prep = await h.rkt(['prepare', '--quiet', ...h.stage1Flags(), img]);
    assert.equal(prep.exitCode, 0, prep.stderr);
    const cat = JSON.parse((await h.rkt(['cat-manifest', prep.stdout.trim()])).stdout) as { apps: { image: { id: string } }[] };
    await fn({ h, imagesDir, appId: cat.apps[0]?.image.id ?? '' });
  } finally {
    await h.cleanup();
  }
}

/** rkt without --insecure-options: signatures are required for anything fetched. */
function secure(e: Env, args: string[]) {
  return runRkt(args, { dirs: e.h.dirs });
}

test('default stage1 is the built-in nspawn flavor, trusted without a signature', async () => {
  await withEnv(async (e) => {
    const r = await secure(e, ['--debug', 'run', e.appId]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /no stage1 flags or configuration: default flavor nspawn from .*stage1-images\/stage1-nspawn\.aci/);
    const k = await secure(e, ['--debug', 'run', '--stage1-image=kvm', e.appId]);
    assert.equal(k.exitCode, 0, k.stderr);
    assert.match(k.stderr, /--stage1-image=kvm: built-in flavor .*stage1-kvm\.aci/);
    const d = await secure(e, ['--debug', 'run', '--stage1-from-dir=stage1-kvm.aci', e.appId]);
    assert.equal(d.exitCode, 0, d.stderr);
    assert.match(d.stderr, /--stage1-from-dir: .*stage1-kvm\.aci/);
  });
});

test('an unsigned stage1 from a path needs --insecure-options=image; nothing is left behind', async () => {
  await withEnv(async (e) => {
    const r = await secure(e, ['run', `--stage1-path=${e.h.stubAci}`, e.appId]);
    assert.equal(r.exitCode, 254, r.stderr);
    assert.match(r.stderr, /signature/i);
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(path.join(e.h.dirs.dir, 'pods', 'garbage')), 'the failed pod has no mounts left');
    assert.equal((await fs.readdir(path.join(e.h.dirs.dir, 'pods', 'garbage'))).length, 1);
    const ok = await e.h.rkt(['run', `--stage1-path=${e.h.stubAci}`, e.appId]);
    assert.equal(ok.exitCode, 0, ok.stderr);
  });
});

test('--stage1-hash takes a stored stage1; stage1.d location configures the default', async () => {
  await withEnv(async (e) => {
    const uuidFile = path.join(e.h.dirs.root, 'u');
    assert.equal((await secure(e, ['run', `--uuid-file-save=${uuidFile}`, e.appId])).exitCode, 0);
    const uuid = (await fs.readFile(uuidFile, 'utf8')).trim();
    const s1id = (await fs.readFile(path.join(e.h.podDir('run', uuid), 'stage1', 'image-id'), 'utf8')).trim();
    const byHash = await secure(e, ['--debug', 'run', `--stage1-hash=${s1id.slice(0, 20)}`, e.appId]);
    assert.equal(byHash.exitCode, 0, byHash.stderr);
    assert.match(byHash.stderr, /--stage1-hash: .* \(store only\)/);
    const missing = await secure(e, ['run', '--stage1-hash=sha512-0000000000000000', e.appId]);
    assert.equal(missing.exitCode, 254);

    const alt = path.join(e.h.dirs.root, 'alt-stage1.aci');
    await fs.copyFile(e.h.stubAci, alt);
    await fs.mkdir(path.join(e.h.dirs.localConfig, 'stage1.d'));
    await fs.writeFile(path.join(e.h.dirs.localConfig, 'stage1.d', 's1.json'), JSON.stringify({ rktKind: 'stage1', rktVersion: 'v1', location: alt }));
    const cfg = await secure(e, ['--debug', 'run', e.appId]);
    assert.equal(cfg.exitCode, 0, cfg.stderr);
    assert.match(cfg.stderr, new RegExp(`stage1\\.d config location ${alt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
