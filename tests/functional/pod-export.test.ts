// rkt export with the real nspawn stage1: an exited pod's app becomes an ACI that `rkt fetch` takes back
// into the store with what the app wrote (files, deletions, links, fifos kept as entries): the same
// image whether the pod's overlay is still mounted or not, copied trees (--no-overlay, rkt app add)
// too, volumes left out, owners shifted back for --private-users pods. And the refusals: a running or
// prepared pod, an unknown uuid, an existing output, several apps without --app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { startSandbox } from './app-bodies.js';
import { makeNspawnHarness, mountsUnder, nspawnStage1Aci, skipReason, type NspawnHarness } from './nspawn-helpers.js';

const skip = skipReason();

/** What the app does to its tree before it exits 0. */
const WRITE = [
  'echo hello-from-the-pod > /written.txt',
  'rm /etc/gone',
  '/bin/busybox ln -s /etc/passwd /link-out',
  '/bin/busybox ln /written.txt /hard',
  '/bin/busybox mkfifo /fifo',
  'chown 1234:5678 /etc/kept',
].join(' && ');

async function withHarness(fn: (h: NspawnHarness) => Promise<void>): Promise<void> {
  const h = await makeNspawnHarness();
  try {
    await fn(h);
  } finally {
    await h.teardown();
  }
}

/** `rkt fetch` of an exported ACI: its image ID. */
async function fetchBack(h: NspawnHarness, aci: string): Promise<string> {
  const r = await h.rkt(['fetch', aci]);
  assert.equal(r.exitCode, 0, r.stderr);
  const id = r.stdout.trim().split('\n').at(-1) ?? '';
  assert.match(id, /^sha512-[0-9a-f]+$/);
  return id;
}

/** `rkt image extract` of an image into a fresh dir: its rootfs. */
async function extract(h: NspawnHarness, id: string, name: string): Promise<string> {
  const dir = path.join(h.dirs.root, name);
  const r = await h.rkt(['image', 'extract', id, dir]);
  assert.equal(r.exitCode, 0, r.stderr);
  return path.join(dir, 'rootfs');
}

/** Unmounts everything under the pod dir, as a reboot would leave an exited pod. */
async function unmountPod(podDir: string): Promise<void> {
  for (const m of mountsUnder(podDir).sort((a, b) => b.length - a.length)) await execa('umount', [m]);
  assert.deepEqual(mountsUnder(podDir), []);
}

function writerImage(h: NspawnHarness, name: string): Promise<string> {
  return h.image(name, ['/bin/sh', '-c', WRITE], { files: { 'etc/gone': 'deleted by the app\n', 'etc/kept': 'kept\n' } });
}

function checkTree(rootfs: string): void {
  assert.equal(fs.readFileSync(path.join(rootfs, 'written.txt'), 'utf8'), 'hello-from-the-pod\n');
  assert.equal(fs.existsSync(path.join(rootfs, 'etc', 'gone')), false, 'the deletion is in the image');
  assert.equal(fs.readFileSync(path.join(rootfs, 'etc', 'kept'), 'utf8'), 'kept\n');
  assert.equal(fs.readlinkSync(path.join(rootfs, 'link-out')), '/etc/passwd');
  assert.equal(fs.statSync(path.join(rootfs, 'hard')).ino, fs.statSync(path.join(rootfs, 'written.txt')).ino);
  assert.ok(fs.lstatSync(path.join(rootfs, 'fifo')).isFIFO());
  assert.ok(fs.lstatSync(path.join(rootfs, 'bin', 'busybox')).isFile());
}

test('an exited pod exports to an ACI that fetch takes back with what the app wrote; existing output and --overwrite', { skip }, async () => {
  await withHarness(async (h) => {
    const img = await writerImage(h, 'writer');
    const r = await h.runPod([img]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const podDir = h.findPodDir(r.uuid);
    const out = path.join(h.dirs.root, 'writer-after.aci');

    const ex = await h.rkt(['--debug', 'export', r.uuid.slice(0, 8), out]);
    assert.equal(ex.exitCode, 0, ex.stderr);
    assert.equal(ex.stdout, '');
    assert.match(ex.stderr, /app writer: exporting its tree through a mounted overlay view\n/);
    // the view is gone, the pod's own mounts are as they were, and the pod still reads as exited
    assert.deepEqual(fs.readdirSync(podDir).filter((n) => n.startsWith('export-')), []);
    assert.ok(!mountsUnder(podDir).some((m) => m.includes('/export-')));
    assert.ok(mountsUnder(podDir).some((m) => m.endsWith(path.join('opt', 'stage2', 'writer', 'rootfs'))));
    const st = await h.rkt(['status', r.uuid]);
    assert.match(st.stdout, /^state=exited$/m);
    assert.deepEqual(fs.readdirSync(h.dirs.root).filter((n) => n.includes('.tmp-')), []);

    const id = await fetchBack(h, out);
    const cat = await h.rkt(['image', 'cat-manifest', id]);
    assert.equal(cat.exitCode, 0, cat.stderr);
    const m = JSON.parse(cat.stdout) as { name: string; labels: { name: string; value: string }[]; app: { exec: string[] }; dependencies?: unknown };
    assert.equal(m.name, 'example.com/writer');
    assert.ok(m.labels.some((l) => l.name === 'version' && l.value === '1.0.0'));
    assert.deepEqual(m.app.exec, ['/bin/sh', '-c', WRITE]);
    assert.equal(m.dependencies, undefined);
    const rootfs = await extract(h, id, 'first');
    checkTree(rootfs);
    assert.deepEqual([fs.statSync(path.join(rootfs, 'etc', 'kept')).uid, fs.statSync(path.join(rootfs, 'etc', 'kept')).gid], [1234, 5678]);

    // an existing output: one line, exit 254, the file untouched; --overwrite replaces it
    const before = fs.readFileSync(out);
    const again = await h.rkt(['export', r.uuid, out]);
    assert.equal(again.exitCode, 254);
    assert.equal(again.stderr, `export: ${out} already exists (use --overwrite to replace it)\n`);
    assert.ok(fs.readFileSync(out).equals(before));

    // the overlay unmounted (a reboot): a fresh read-only overlay gives the same image
    await unmountPod(podDir);
    const over = await h.rkt(['--debug', 'export', '--overwrite', '--app=writer', r.uuid, out]);
    assert.equal(over.exitCode, 0, over.stderr);
    assert.match(over.stderr, /app writer: exporting its tree through a fresh overlay view\n/);
    assert.deepEqual(mountsUnder(podDir), [], 'export leaves the pod unmounted as it found it');
    assert.equal(await fetchBack(h, out), id);

    const noApp = await h.rkt(['export', '--overwrite', '--app=nope', r.uuid, out]);
    assert.equal(noApp.exitCode, 254);
    assert.equal(noApp.stderr, `export: pod ${r.uuid} has no app "nope" (its apps: writer)\n`);
    const ext = await h.rkt(['export', r.uuid, path.join(h.dirs.root, 'out.tar')]);
    assert.equal(ext.exitCode, 254);
    assert.match(ext.stderr, /^export: extension must be \.aci/);
  });
});

test('a pod with several apps needs --app; a --no-overlay tree exports as copied', { skip }, async () => {
  await withHarness(async (h) => {
    const a = await h.image('multi-a', ['/bin/sh', '-c', 'echo a > /a.txt']);
    const b = await h.image('multi-b', ['/bin/sh', '-c', 'echo b > /b.txt']);
    const r = await h.runPod(['--no-overlay', a, b]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const out = path.join(h.dirs.root, 'b.aci');
    const refused = await h.rkt(['export', r.uuid, out]);
    assert.equal(refused.exitCode, 254);
    assert.equal(refused.stderr, `export: pod ${r.uuid} has 2 apps (multi-a, multi-b) (name the one to export with --app=NAME)\n`);
    assert.equal(fs.existsSync(out), false);
    const ok = await h.rkt(['--debug', 'export', '--app=multi-b', r.uuid, out]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stderr, /app multi-b: exporting its tree through a copy view\n/);
    const rootfs = await extract(h, await fetchBack(h, out), 'b');
    assert.equal(fs.readFileSync(path.join(rootfs, 'b.txt'), 'utf8'), 'b\n');
    assert.equal(fs.existsSync(path.join(rootfs, 'a.txt')), false);
  });
});

test('a running pod is refused', { skip }, async () => {
  await withHarness(async (h) => {
    const img = await h.image('sleeper', ['/bin/sh', '-c', 'while true; do sleep 0.1; done']);
    const pod = await h.startPod([img]);
    const out = path.join(h.dirs.root, 'running.aci');
    const r = await h.rkt(['export', pod.uuid, out]);
    assert.equal(r.exitCode, 254);
    assert.equal(r.stderr, `export: cannot export pod ${pod.uuid}: it is running, only an exited pod can be exported (stop it first with "rkt stop")\n`);
    assert.equal(fs.existsSync(out), false);
  });
});

test('an unknown uuid and a prepared pod are refused', { skip }, async () => {
  await withHarness(async (h) => {
    const out = path.join(h.dirs.root, 'x.aci');
    const unknown = await h.rkt(['export', '0badc0de-0000-4000-8000-000000000000', out]);
    assert.equal(unknown.exitCode, 254);
    assert.equal(unknown.stderr, 'export: no pod with uuid 0badc0de-0000-4000-8000-000000000000 (see "rkt list")\n');
    const img = await h.image('prepared', ['/bin/true']);
    const prep = await h.rkt(['prepare', '--quiet', `--stage1-path=${nspawnStage1Aci()}`, img]);
    assert.equal(prep.exitCode, 0, prep.stderr);
    const uuid = prep.stdout.trim();
    const r = await h.rkt(['export', uuid, out]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, new RegExp(`^export: cannot export pod ${uuid}: it is prepared, only an exited pod can be exported`));
    assert.equal(fs.existsSync(out), false);
  });
});

test('--private-users: the exported owners are the image ids, with the overlay mounted or not', { skip }, async () => {
  await withHarness(async (h) => {
    const img = await writerImage(h, 'userns-writer');
    const r = await h.runPod(['--private-users', img]);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout);
    const podDir = h.findPodDir(r.uuid);
    const shift = Number(fs.readFileSync(path.join(podDir, 'private-users-prepared'), 'utf8').split(':')[0]);
    const upper = path.join(podDir, 'overlay', 'app-userns-writer', 'upper', 'written.txt');
    assert.equal(fs.statSync(upper).uid, shift, 'on disk, what the app wrote is in the pod\'s range');

    const out = path.join(h.dirs.root, 'userns.aci');
    const ex = await h.rkt(['--debug', 'export', r.uuid, out]);
    assert.equal(ex.exitCode, 0, ex.stderr);
    assert.match(ex.stderr, new RegExp(`through a mounted overlay view, owners shifted back by ${shift}\\n`));
    const id = await fetchBack(h, out);
    const rootfs = await extract(h, id, 'userns');
    checkTree(rootfs);
    const owner = (p: string): string => `${fs.lstatSync(path.join(rootfs, p)).uid}:${fs.lstatSync(path.join(rootfs, p)).gid}`;
    assert.equal(owner('written.txt'), '0:0');
    assert.equal(owner('etc/kept'), '1234:5678');
    assert.equal(owner('bin/busybox'), '0:0');
    assert.equal(owner('.'), '0:0');

    // without the pod's ID-mapped overlay the view mixes shifted (upper) and unshifted (image) owners
    await unmountPod(podDir);
    const again = await h.rkt(['--debug', 'export', '--overwrite', r.uuid, out]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stderr, /through a fresh overlay view, owners shifted back/);
    assert.equal(await fetchBack(h, out), id);
  });
});

test('an app added to a mutable pod exports its copied tree, without its volume, with the stage1 overlay mounted or not', { skip }, async () => {
  await withHarness(async (h) => {
    const img = await h.image('added', ['/bin/sh', '-c', 'echo from-added > /added.txt; echo into-the-volume > /data/out']);
    const sb = await startSandbox(h, nspawnStage1Aci());
    const data = path.join(h.dirs.root, 'host-data');
    fs.mkdirSync(data);
    const add = await h.rkt(['app', 'add', sb.uuid, img, `--mnt-volume=name=data,kind=host,source=${data},target=/data`]);
    assert.equal(add.exitCode, 0, add.stderr);
    const start = await h.rkt(['app', 'start', sb.uuid, '--app=added']);
    assert.equal(start.exitCode, 0, start.stderr);
    for (let i = 0; i < 300 && !fs.existsSync(path.join(data, 'out')); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(fs.readFileSync(path.join(data, 'out'), 'utf8'), 'into-the-volume\n');
    const stop = await h.rkt(['stop', sb.uuid]);
    assert.equal(stop.exitCode, 0, stop.stderr);
    await sb.done;

    const out = path.join(h.dirs.root, 'added.aci');
    const ex = await h.rkt(['--debug', 'export', sb.uuid, out]);
    assert.equal(ex.exitCode, 0, ex.stderr);
    assert.match(ex.stderr, /app added: exporting its tree through a copy view\n/);
    const id = await fetchBack(h, out);
    const rootfs = await extract(h, id, 'added');
    assert.equal(fs.readFileSync(path.join(rootfs, 'added.txt'), 'utf8'), 'from-added\n');
    assert.equal(fs.existsSync(path.join(rootfs, 'data', 'out')), false, 'the volume is not part of the image');

    await unmountPod(h.findPodDir(sb.uuid));
    const again = await h.rkt(['export', '--overwrite', sb.uuid, out]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(await fetchBack(h, out), id);
  });
});
