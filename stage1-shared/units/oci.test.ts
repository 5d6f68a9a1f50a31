// What stage1s honour of an OCI image beyond its app section: StopSignal as the app unit's KillSignal=,
// and VOLUMEs that start as a copy of the image's content there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageManifest, PodManifest, RuntimeApp, Volume } from '../../common/appc/index.js';
import { appRootfsPath } from '../../common/pod-layout.js';
import {
  appServiceUnit, buildAppUnitSpec, parseSignal, podVolumeSeeds, prepareEmptyVolume, SEED_VOLUMES_ANNOTATION, STOP_SIGNAL_ANNOTATION,
} from './index.js';

const asRoot = process.getuid?.() === 0;

test('stop signals: names in any case with or without SIG, real-time offsets, numbers 1-64', () => {
  assert.equal(parseSignal('SIGINT'), 2);
  assert.equal(parseSignal('sigquit'), 3);
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('SIGUSR1'), 10);
  assert.equal(parseSignal('SIGWINCH'), 28);
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('SIGRTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX-2'), 62);
  assert.equal(parseSignal('SIGRTMAX'), 64);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('64'), 64);
  for (const bad of ['', '0', '65', '-1', 'SIGFOO', 'SIGRTMIN+31', 'SIGRTMIN-1', 'SIGRTMAX+1', 'SIG', 'SIGINT; rm', '2.5', 'SIGRTMIN+']) {
    assert.equal(parseSignal(bad), undefined, bad);
  }
});

function manifests(stopSignal?: string): { pod: PodManifest; app: RuntimeApp; image: ImageManifest } {
  const app: RuntimeApp = { name: 'web', image: { id: `sha512-${'a'.repeat(128)}`, labels: [] }, annotations: [], mounts: [] };
  const pod: PodManifest = { acKind: 'PodManifest', acVersion: '0.8.11', apps: [app], volumes: [], isolators: [], annotations: [], ports: [] };
  const image: ImageManifest = {
    acKind: 'ImageManifest', acVersion: '0.8.11', name: 'example.com/web', labels: [], dependencies: [], pathWhitelist: [],
    annotations: stopSignal === undefined ? [] : [{ name: STOP_SIGNAL_ANNOTATION, value: stopSignal }],
    app: {
      exec: ['/bin/tool'], user: '0', group: '0', supplementaryGIDs: [], eventHandlers: [], workingDirectory: '/',
      environment: [], mountPoints: [], ports: [], isolators: [],
    },
  };
  return { pod, app, image };
}

async function unitFor(root: string, stopSignal?: string): Promise<string> {
  const m = manifests(stopSignal);
  const spec = await buildAppUnitSpec({
    ...m, appRootfs: root, diskShift: 0, disableCapabilities: false, disablePaths: false, disableSeccomp: false, interactive: false,
    etcBinds: [], volumePath: (v) => `/rkt/volumes/${v}`,
  });
  return appServiceUnit(spec, 'rkt-reaper@web.service');
}

test("an image's stop signal is the app unit's KillSignal=, as a number; an invalid one fails naming app and value", async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'units-oci-'));
  try {
    await fs.mkdir(path.join(root, 'bin'));
    await fs.writeFile(path.join(root, 'bin', 'tool'), '');
    assert.doesNotMatch(await unitFor(root), /KillSignal/);
    assert.match(await unitFor(root, 'SIGINT'), /^KillSignal=2$/m);
    assert.match(await unitFor(root, 'SIGRTMIN+3'), /^KillSignal=37$/m);
    assert.match(await unitFor(root, '10'), /^KillSignal=10$/m);
    await assert.rejects(unitFor(root, 'SIGBOGUS'), (err: Error) => {
      assert.match(err.message, /app "web"/);
      assert.match(err.message, /"SIGBOGUS"/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
    await assert.rejects(unitFor(root, 'SIGRTMIN+40\nExecStartPre=/bin/evil'), (err: Error) => !/\n/.test(err.message));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

function seededPod(seeds: unknown): PodManifest {
  const m = manifests();
  return { ...m.pod, annotations: [{ name: SEED_VOLUMES_ANNOTATION, value: JSON.stringify(seeds) }] };
}

test('seed annotations: parsed by volume, first wins; malformed ones and unknown apps are refused', () => {
  const seeds = podVolumeSeeds(seededPod([
    { volume: 'volume-data', app: 'web', path: '/data' }, { volume: 'volume-data', app: 'web', path: '/other' },
  ]));
  assert.deepEqual([...seeds.values()], [{ volume: 'volume-data', app: 'web', path: '/data' }]);
  assert.equal(podVolumeSeeds(manifests().pod).size, 0);
  assert.throws(() => podVolumeSeeds(seededPod({ volume: 'x' })), /expected a JSON array/);
  assert.throws(() => podVolumeSeeds(seededPod([{ volume: 'x', app: 'web', path: 'rel' }])), /absolute path/);
  assert.throws(() => podVolumeSeeds(seededPod([{ volume: 'x', app: 'db', path: '/x' }])), /app "db"/);
  const bad = { ...manifests().pod, annotations: [{ name: SEED_VOLUMES_ANNOTATION, value: '[' }] };
  assert.throws(() => podVolumeSeeds(bad), /not JSON/);
});

async function fakePod(): Promise<{ podDir: string; root: string }> {
  const podDir = await fs.mkdtemp(path.join(os.tmpdir(), 'units-seed-'));
  const root = appRootfsPath(podDir, 'web');
  await fs.mkdir(path.join(root, 'srv', 'data', 'sub'), { recursive: true });
  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc', 'secret'), 'image etc\n');
  await fs.writeFile(path.join(root, 'srv', 'data', 'a'), 'A\n');
  await fs.writeFile(path.join(root, 'srv', 'data', 'sub', 'b'), 'B\n');
  await fs.link(path.join(root, 'srv', 'data', 'a'), path.join(root, 'srv', 'data', 'a-hard'));
  // links inside the volume stay links: never read through, wherever they point
  await fs.symlink('/etc/secret', path.join(root, 'srv', 'data', 'abs-link'));
  await fs.symlink('../../../../../../../../etc/passwd', path.join(root, 'srv', 'data', 'up-link'));
  // the VOLUME path itself is a link, resolved as the image would see it
  await fs.symlink('srv/data', path.join(root, 'data'));
  await fs.symlink('../../../../../../../../../../tmp', path.join(root, 'escape'));
  await fs.chmod(path.join(root, 'srv', 'data'), 0o1770);
  return { podDir, root };
}

const emptyVolume = (name: string): Volume => ({ name, kind: 'empty', mode: '0755', uid: 0, gid: 0 });

test('a seeded volume is a copy of the image at that path (links kept as links), made once', async () => {
  const { podDir, root } = await fakePod();
  try {
    if (asRoot) {
      await fs.chown(path.join(root, 'srv', 'data'), 33, 44);
      await fs.lchown(path.join(root, 'srv', 'data', 'sub', 'b'), 7, 8);
    }
    const pod = seededPod([{ volume: 'volume-data', app: 'web', path: '/data' }]);
    const seeds = podVolumeSeeds(pod);
    const dir = path.join(podDir, 'sharedVolumes', 'volume-data');
    await prepareEmptyVolume({ podDir, dir, volume: emptyVolume('volume-data'), seeds });

    assert.deepEqual((await fs.readdir(dir)).sort(), ['a', 'a-hard', 'abs-link', 'sub', 'up-link']);
    assert.equal(await fs.readFile(path.join(dir, 'sub', 'b'), 'utf8'), 'B\n');
    assert.equal(await fs.readlink(path.join(dir, 'abs-link')), '/etc/secret');
    assert.equal(await fs.readlink(path.join(dir, 'up-link')), '../../../../../../../../etc/passwd');
    assert.equal((await fs.stat(path.join(dir, 'a'))).ino, (await fs.stat(path.join(dir, 'a-hard'))).ino);
    const top = await fs.stat(dir);
    assert.equal(top.mode & 0o7777, 0o1770, 'the volume takes the image directory\'s mode');
    if (asRoot) {
      assert.deepEqual([top.uid, top.gid], [33, 44]);
      const b = await fs.lstat(path.join(dir, 'sub', 'b'));
      assert.deepEqual([b.uid, b.gid], [7, 8]);
    }
    assert.deepEqual(await fs.readdir(path.dirname(dir)), ['volume-data'], 'no copy left beside it');

    // once: a later start keeps what the pod made of it
    await fs.writeFile(path.join(dir, 'a'), 'changed by the app\n');
    await fs.rm(path.join(dir, 'sub'), { recursive: true });
    await prepareEmptyVolume({ podDir, dir, volume: emptyVolume('volume-data'), seeds });
    assert.equal(await fs.readFile(path.join(dir, 'a'), 'utf8'), 'changed by the app\n');
    assert.equal(await fs.access(path.join(dir, 'sub')).then(() => true, () => false), false);
    assert.equal((await fs.stat(dir)).mode & 0o7777, 0o1770);
  } finally {
    await fs.rm(podDir, { recursive: true, force: true });
  }
});

test('seeding: a path the image lacks gives a plain empty volume, a leftover half copy is redone, a file is refused', async () => {
  const { podDir } = await fakePod();
  try {
    const pod = seededPod([
      { volume: 'volume-none', app: 'web', path: '/nothing/here' },
      { volume: 'volume-escape', app: 'web', path: '/escape' },
      { volume: 'volume-data', app: 'web', path: '/srv/data' },
      { volume: 'volume-file', app: 'web', path: '/etc/secret' },
    ]);
    const seeds = podVolumeSeeds(pod);
    const vols = path.join(podDir, 'sharedVolumes');
    await prepareEmptyVolume({ podDir, dir: path.join(vols, 'volume-none'), volume: { ...emptyVolume('volume-none'), mode: '0700' }, seeds });
    assert.deepEqual(await fs.readdir(path.join(vols, 'volume-none')), []);
    assert.equal((await fs.stat(path.join(vols, 'volume-none'))).mode & 0o777, 0o700);

    // /escape -> ../../../tmp resolves to the image's own /tmp, which it does not have: nothing of the host is copied
    await prepareEmptyVolume({ podDir, dir: path.join(vols, 'volume-escape'), volume: emptyVolume('volume-escape'), seeds });
    assert.deepEqual(await fs.readdir(path.join(vols, 'volume-escape')), []);

    await fs.mkdir(path.join(vols, '.volume-data.seeding', 'junk'), { recursive: true });
    await prepareEmptyVolume({ podDir, dir: path.join(vols, 'volume-data'), volume: emptyVolume('volume-data'), seeds });
    assert.ok((await fs.readdir(path.join(vols, 'volume-data'))).includes('a'));
    assert.equal((await fs.readdir(vols)).includes('.volume-data.seeding'), false);

    await assert.rejects(
      prepareEmptyVolume({ podDir, dir: path.join(vols, 'volume-file'), volume: emptyVolume('volume-file'), seeds }),
      /volume "volume-file": \/etc\/secret in the image of app "web" is not a directory/,
    );
    // an unseeded volume is as before
    await prepareEmptyVolume({ podDir, dir: path.join(vols, 'plain'), volume: { ...emptyVolume('plain'), mode: '0750' }, seeds });
    assert.equal((await fs.stat(path.join(vols, 'plain'))).mode & 0o777, 0o750);
  } finally {
    await fs.rm(podDir, { recursive: true, force: true });
  }
});

test('seeding with --private-users: owners shifted into the range (ids already in it stay), set-id bits kept', { skip: asRoot ? false : 'needs root (chown)' }, async () => {
  const { podDir, root } = await fakePod();
  try {
    const ids = { shift: 200_000, count: 65536 };
    const data = path.join(root, 'srv', 'data');
    await fs.chown(data, 33, 44);
    await fs.chmod(path.join(data, 'a'), 0o4755);
    await fs.lchown(path.join(data, 'abs-link'), 5, 5);
    // seen through an ID-mapped layer: already the pod's
    await fs.chown(path.join(data, 'sub', 'b'), ids.shift + 7, ids.shift + 8);
    const seeds = podVolumeSeeds(seededPod([{ volume: 'volume-data', app: 'web', path: '/data' }]));
    const dir = path.join(podDir, 'sharedVolumes', 'volume-data');
    await prepareEmptyVolume({ podDir, dir, volume: emptyVolume('volume-data'), seeds, ids });
    const owner = async (p: string): Promise<number[]> => {
      const st = await fs.lstat(p);
      return [st.uid, st.gid];
    };
    assert.deepEqual(await owner(dir), [ids.shift + 33, ids.shift + 44]);
    assert.deepEqual(await owner(path.join(dir, 'a')), [ids.shift, ids.shift]);
    assert.equal((await fs.stat(path.join(dir, 'a'))).mode & 0o7777, 0o4755);
    assert.deepEqual(await owner(path.join(dir, 'abs-link')), [ids.shift + 5, ids.shift + 5]);
    assert.deepEqual(await owner(path.join(dir, 'sub', 'b')), [ids.shift + 7, ids.shift + 8]);
    // the image's tree is left as it was
    assert.deepEqual(await owner(data), [33, 44]);
    // an unseeded volume gets the shift on its owner, as before
    await prepareEmptyVolume({ podDir, dir: path.join(podDir, 'sharedVolumes', 'plain'), volume: { ...emptyVolume('plain'), uid: 3, gid: 4 }, seeds, ids });
    assert.deepEqual(await owner(path.join(podDir, 'sharedVolumes', 'plain')), [ids.shift + 3, ids.shift + 4]);
  } finally {
    await fs.rm(podDir, { recursive: true, force: true });
  }
});
