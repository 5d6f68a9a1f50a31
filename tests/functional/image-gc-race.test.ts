// Functional: the store's prepare lock between `rkt prepare` and `rkt image gc`, raced through the real
// CLI. The test-only RKT_TEST_PAUSE_AT hook holds one command inside its lock while the other starts:
// gc must wait for a prepare that has picked its images and not yet recorded them, and a prepare must
// wait for a gc that is deciding, then succeed or say the image is gone. The stub stage1 runs each app
// chrooted into its laid-out tree, which is all the first two need; the last runs one real nspawn pod.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rktBin } from '../harness/aci.js';
import { busyboxImage, writeOciArchive } from '../harness/oci-image.js';
import { makePodHarness, type PodHarness } from '../harness/pod.js';
import { makeNspawnHarness, nspawnStage1Aci, skipReason } from './nspawn-helpers.js';

const WAITING = /\[debug\] waiting for the store's prepare lock/;

let h: PodHarness;
let aci: string;
let unusedAci: string;
let ociArchive: string;

before(async () => {
  h = await makePodHarness('rkt-gc-race-');
  aci = await h.image('race-aci', ['/bin/cat', '/etc/race'], { files: { 'etc/race': 'from-the-aci\n' } });
  unusedAci = await h.image('race-unused', ['/bin/true']);
  const oci = await busyboxImage({ cmd: ['/bin/cat', '/etc/race-oci'] }, [
    { compression: 'gzip', entries: [{ type: 'dir', path: 'etc' }, { type: 'file', path: 'etc/race-oci', content: 'from-the-oci-layers\n' }] },
  ]);
  ociArchive = path.join(h.dirs.root, 'scratch', 'race-oci.tar');
  await writeOciArchive(ociArchive, [{ name: 'v1', image: oci }]);
});

after(async () => {
  await h?.cleanup();
});

interface Started {
  stderr(): string;
  running(): boolean;
  result: Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** Starts rkt without waiting; its stderr can be read while it runs. */
function start(args: readonly string[], env: Record<string, string> = {}, on: PodHarness = h): Started {
  let err = '';
  let done = false;
  const child = execa(process.execPath, [rktBin(), ...on.dirs.globalArgs(), '--insecure-options=image', ...args], {
    reject: false,
    stdin: 'ignore',
    env,
    timeout: 90_000,
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const result = child.then((r) => {
    done = true;
    return { exitCode: r.exitCode ?? 254, stdout: String(r.stdout), stderr: err };
  });
  return { stderr: () => err, running: () => !done, result };
}

async function until(what: string, cmd: Started, ok: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await ok())) {
    if (!cmd.running()) {
      const r = await cmd.result;
      assert.fail(`gave up waiting for ${what}: the command exited ${r.exitCode}: ${r.stderr}`);
    }
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}; stderr so far: ${cmd.stderr()}`);
    await sleep(20);
  }
}

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

function pauseAt(phase: string, marker: string): Record<string, string> {
  return { RKT_TEST_PAUSE_AT: phase, RKT_TEST_PAUSE_MARKER: marker };
}

async function storeIds(on: PodHarness = h): Promise<string[]> {
  const r = await on.rkt(['image', 'list', '--format=json']);
  assert.equal(r.exitCode, 0, r.stderr);
  return (JSON.parse(r.stdout) as { id: string }[]).map((e) => e.id).sort();
}

async function verifyAll(on: PodHarness = h): Promise<void> {
  const ids = await storeIds(on);
  const r = await on.rkt(['image', 'verify', ...ids]);
  assert.equal(r.exitCode, 0, `image verify: ${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim().split('\n').filter((l) => / ok\b/.test(l)).length, ids.length, r.stdout);
}

async function gcNow(): Promise<string[]> {
  const r = await h.rkt(['image', 'gc', '--grace-period=0s']);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout.trim().split('\n').filter((l) => l !== '');
}

test('image gc waits for a prepare that holds its images; the pod keeps all it uses through its life', async () => {
  const fetched = await h.rkt(['fetch', '--full', aci, `oci-archive:${ociArchive}`, unusedAci]);
  assert.equal(fetched.exitCode, 0, fetched.stderr);
  const [aciId, ociId, unusedId] = fetched.stdout.trim().split('\n');
  assert.ok(aciId && ociId && unusedId, fetched.stdout);

  // By ID: the prepare takes the images from the store only, so nothing could bring them back.
  const marker = path.join(h.dirs.root, 'prepare-paused');
  const prepare = start(['--debug', 'prepare', ...h.stage1Flags(), aciId, ociId], pauseAt('prepare-images-resolved', marker));
  await until('prepare to pause', prepare, () => exists(marker));
  const gc = start(['--debug', 'image', 'gc', '--grace-period=0s']);
  await until('image gc to wait for the lock', gc, () => WAITING.test(gc.stderr()));
  await sleep(200);
  assert.ok(gc.running(), 'image gc must not go on while the prepare holds the lock');
  await fs.unlink(marker);

  const p = await prepare.result;
  assert.equal(p.exitCode, 0, p.stderr);
  const uuid = p.stdout.trim().split('\n').pop() ?? '';
  const g = await gc.result;
  assert.equal(g.exitCode, 0, g.stderr);
  assert.match(g.stderr, /a prepare, run or app add is taking images/);
  assert.deepEqual(g.stdout.trim().split('\n'), [unusedId], 'only the image no pod uses goes');
  const stage1Id = (await fs.readFile(path.join(h.podDir('prepared', uuid), 'stage1', 'image-id'), 'utf8')).trim();
  assert.deepEqual(await storeIds(), [aciId, ociId, stage1Id].sort());
  await verifyAll();

  // Prepared, then exited: still referenced, so gc with no grace keeps everything.
  assert.deepEqual(await gcNow(), []);
  const run = await h.rkt(['run-prepared', uuid]);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /from-the-aci/);
  assert.match(run.stdout, /from-the-oci-layers/);
  assert.deepEqual(await gcNow(), []);
  await verifyAll();

  // Once the pod is gone, so is what only it used.
  const podGc = await h.rkt(['gc', '--grace-period=0s']);
  assert.equal(podGc.exitCode, 0, podGc.stderr);
  assert.deepEqual((await gcNow()).sort(), [aciId, ociId, stage1Id].sort());
  assert.deepEqual(await storeIds(), []);
  assert.deepEqual(await fs.readdir(path.join(h.dirs.dir, 'cas', 'layers')), []);
  assert.deepEqual(await fs.readdir(path.join(h.dirs.dir, 'cas', 'trees')), []);
});

test('a prepare waits while image gc holds the lock, then succeeds or says the image is gone', async () => {
  const fetched = await h.rkt(['fetch', '--full', aci]);
  assert.equal(fetched.exitCode, 0, fetched.stderr);
  const aciId = fetched.stdout.trim();

  const marker = path.join(h.dirs.root, 'gc-paused');
  const gc = start(['--debug', 'image', 'gc', '--grace-period=0s'], pauseAt('image-gc-locked', marker));
  await until('image gc to pause', gc, () => exists(marker));
  // A file path brings the image back after gc; a name with --pull-policy=never cannot.
  const byPath = start(['--debug', 'prepare', ...h.stage1Flags(), aci]);
  const byName = start(['--debug', 'prepare', ...h.stage1Flags(), '--pull-policy=never', 'example.com/race-aci:1.0.0']);
  await until('the prepare by path to wait', byPath, () => WAITING.test(byPath.stderr()));
  await until('the prepare by name to wait', byName, () => WAITING.test(byName.stderr()));
  assert.match(byPath.stderr(), /an "image gc" or "image rm" is removing images/);
  await sleep(200);
  assert.ok(byPath.running() && byName.running(), 'no prepare may go on while gc holds the lock');
  await fs.unlink(marker);

  const g = await gc.result;
  assert.equal(g.exitCode, 0, g.stderr);
  assert.ok(g.stdout.trim().split('\n').includes(aciId), `gc removed the unused image: ${g.stdout}`);
  const gone = await byName.result;
  assert.equal(gone.exitCode, 254, gone.stderr);
  assert.match(gone.stderr, /example\.com\/race-aci.*(not|no image)/);
  const ok = await byPath.result;
  assert.equal(ok.exitCode, 0, ok.stderr);
  const uuid = ok.stdout.trim().split('\n').pop() ?? '';
  assert.ok((await storeIds()).includes(aciId), 'imported again by the prepare');
  await verifyAll();
  const run = await h.rkt(['run-prepared', uuid]);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /from-the-aci/);
});

test('image rm waits for a prepare using the image; the prepared pod keeps its tree and runs', async () => {
  const fetched = await h.rkt(['fetch', '--full', aci]);
  assert.equal(fetched.exitCode, 0, fetched.stderr);
  const aciId = fetched.stdout.trim();
  const marker = path.join(h.dirs.root, 'prepare-paused-rm');
  const prepare = start(['--debug', 'prepare', ...h.stage1Flags(), aciId], pauseAt('prepare-images-resolved', marker));
  await until('prepare to pause', prepare, () => exists(marker));
  const rm = start(['--debug', 'image', 'rm', aciId]);
  await until('image rm to wait for the lock', rm, () => WAITING.test(rm.stderr()));
  await sleep(200);
  assert.ok(rm.running(), 'image rm must not go on while the prepare holds the lock');
  await fs.unlink(marker);
  const p = await prepare.result;
  assert.equal(p.exitCode, 0, p.stderr);
  const uuid = p.stdout.trim().split('\n').pop() ?? '';
  const r = await rm.result;
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.trim(), aciId);
  assert.ok(!(await storeIds()).includes(aciId));
  await verifyAll();
  // The rendered tree stays while the pod mounts it: gc keeps it, and the pod runs from it.
  assert.deepEqual(await gcNow(), []);
  const run = await h.rkt(['run-prepared', uuid]);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /from-the-aci/);
});

test('nspawn: image gc waits for a rkt run that holds its images, and the pod runs', { skip: skipReason() }, async () => {
  const n = await makeNspawnHarness();
  try {
    const fetched = await n.rkt(['fetch', '--full', aci, `oci-archive:${ociArchive}`]);
    assert.equal(fetched.exitCode, 0, fetched.stderr);
    const [aciId, ociId] = fetched.stdout.trim().split('\n');
    assert.ok(aciId && ociId, fetched.stdout);
    const marker = path.join(n.dirs.root, 'run-paused');
    const run = start(['--debug', 'run', `--stage1-path=${nspawnStage1Aci()}`, aciId, ociId], pauseAt('prepare-images-resolved', marker), n);
    await until('rkt run to pause', run, () => exists(marker));
    const gc = start(['--debug', 'image', 'gc', '--grace-period=0s'], {}, n);
    await until('image gc to wait for the lock', gc, () => WAITING.test(gc.stderr()));
    await fs.unlink(marker);
    const r = await run.result;
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /from-the-aci/);
    assert.match(r.stdout, /from-the-oci-layers/);
    const g = await gc.result;
    assert.equal(g.exitCode, 0, g.stderr);
    assert.equal(g.stdout.trim(), '', 'the pod uses every image');
    await verifyAll(n);
  } finally {
    await n.teardown();
  }
});
