// The test-image builder (tests/harness/oci-image.ts) writes what real tools accept: umoci reads and
// unpacks its layouts, skopeo inspects its layouts, oci-archives and both docker-archive forms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { lstat, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildImage,
  buildMultiArch,
  busyboxImage,
  OCI_MEDIA,
  sha256,
  TEST_USER,
  writeDockerArchive,
  writeLayout,
  writeOciArchive,
  type BuiltImage,
} from '../harness/oci-image.js';

let root: string;
let layout: string;
let simple: BuiltImage;
let zstd: BuiltImage;
let bb: BuiltImage;

async function tool(cmd: string, args: string[]): Promise<string> {
  const r = await execa(cmd, args, { reject: false });
  assert.equal(r.exitCode, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

interface Inspect {
  Digest: string;
  Architecture: string;
  Os: string;
  Layers: string[];
  Env: string[] | null;
}

async function inspect(ref: string, extra: string[] = []): Promise<Inspect> {
  return JSON.parse(await tool('skopeo', ['inspect', ...extra, ref])) as Inspect;
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'oci-builder-'));
  layout = path.join(root, 'layout');
  simple = await buildImage({
    layers: [
      {
        entries: [
          { type: 'dir', path: 'etc' },
          { type: 'file', path: 'etc/hello', content: 'hello\n', mode: 0o640, uid: 12, gid: 34 },
          { type: 'file', path: 'etc/gone', content: 'x' },
          { type: 'dir', path: 'opt' },
          { type: 'file', path: 'opt/old', content: 'old' },
        ],
        compression: 'gzip',
      },
      {
        entries: [
          { type: 'whiteout', path: 'etc/gone' },
          { type: 'opaque', dir: 'opt' },
          { type: 'file', path: 'opt/new', content: 'new' },
          { type: 'symlink', path: 'etc/link', target: 'hello' },
          { type: 'hardlink', path: 'etc/hard', target: 'etc/hello' },
        ],
        compression: 'none',
      },
    ],
    config: { entrypoint: ['/bin/true'], env: ['A=1'], user: '12:34', workingDir: '/etc', exposedPorts: ['80/tcp'], labels: { l: 'v' } },
  });
  zstd = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'z', content: 'zstd' }], compression: 'zstd' }] });
  bb = await busyboxImage({ user: TEST_USER.name });
  const multi = await buildMultiArch({ layers: [{ entries: [{ type: 'file', path: 'm', content: 'multi' }] }] });
  await writeLayout(layout, [
    { name: 'simple', image: simple },
    { name: 'zstd', image: zstd },
    { name: 'busybox', image: bb },
    { name: 'multi', image: multi },
  ]);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('umoci stat accepts a tagged image and sees its layers', async () => {
  const out = JSON.parse(await tool('umoci', ['stat', '--json', '--image', `${layout}:simple`])) as { history: unknown[] };
  assert.equal(out.history.length, 2);
});

test('umoci unpack applies whiteouts, opaque dirs, links and ownership', async () => {
  const bundle = path.join(root, 'bundle');
  await tool('umoci', ['unpack', '--image', `${layout}:simple`, bundle]);
  const rootfs = path.join(bundle, 'rootfs');
  assert.equal(await readFile(path.join(rootfs, 'etc/hello'), 'utf8'), 'hello\n');
  const st = await stat(path.join(rootfs, 'etc/hello'));
  assert.equal(st.uid, 12);
  assert.equal(st.gid, 34);
  assert.equal(st.mode & 0o777, 0o640);
  await assert.rejects(lstat(path.join(rootfs, 'etc/gone')));
  await assert.rejects(lstat(path.join(rootfs, 'opt/old')));
  assert.equal(await readFile(path.join(rootfs, 'opt/new'), 'utf8'), 'new');
  assert.equal(await readlink(path.join(rootfs, 'etc/link')), 'hello');
  assert.equal((await stat(path.join(rootfs, 'etc/hard'))).ino, st.ino);
  const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as { process: { cwd: string; user: { uid: number } } };
  assert.equal(config.process.cwd, '/etc');
  assert.equal(config.process.user.uid, 12);
});

test('umoci unpacks the busybox image and resolves the named user from its /etc/passwd', async () => {
  const bundle = path.join(root, 'bb-bundle');
  await tool('umoci', ['unpack', '--image', `${layout}:busybox`, bundle]);
  assert.equal(await readlink(path.join(bundle, 'rootfs/bin/sh')), 'busybox');
  const config = JSON.parse(await readFile(path.join(bundle, 'config.json'), 'utf8')) as {
    process: { user: { uid: number; gid: number; additionalGids?: number[] } };
  };
  assert.equal(config.process.user.uid, TEST_USER.uid);
  assert.equal(config.process.user.gid, TEST_USER.gid);
  assert.ok(config.process.user.additionalGids?.includes(3456), JSON.stringify(config.process.user));
});

test('skopeo inspects layout images by name, zstd layers and a multi-arch index', async () => {
  const s = await inspect(`oci:${layout}:simple`);
  assert.equal(s.Digest, simple.manifestDigest);
  assert.deepEqual(s.Layers, simple.layers.map((l) => l.digest));
  assert.deepEqual(s.Env, ['A=1']);
  const z = await inspect(`oci:${layout}:zstd`);
  assert.equal(z.Digest, zstd.manifestDigest);
  const raw = JSON.parse(await tool('skopeo', ['inspect', '--raw', `oci:${layout}:multi`])) as { mediaType: string; manifests: Array<{ platform: { architecture: string } }> };
  assert.equal(raw.mediaType, OCI_MEDIA.index);
  assert.deepEqual(raw.manifests.map((m) => m.platform.architecture), ['arm64', 'amd64', 'unknown']);
  const arm = await inspect(`oci:${layout}:multi`, ['--override-arch', 'arm64']);
  assert.equal(arm.Architecture, 'arm64');
  const amd = await inspect(`oci:${layout}:multi`, ['--override-arch', 'amd64']);
  assert.equal(amd.Architecture, 'amd64');
});

test('skopeo reads an oci-archive', async () => {
  const file = path.join(root, 'img.oci.tar');
  await writeOciArchive(file, [{ name: 'v1', image: simple }]);
  assert.equal((await inspect(`oci-archive:${file}:v1`)).Digest, simple.manifestDigest);
});

test('skopeo reads both docker-archive forms', async () => {
  for (const form of ['legacy', 'oci'] as const) {
    const file = path.join(root, `docker-${form}.tar`);
    const held = await writeDockerArchive(file, [{ image: simple, repoTags: ['example/simple:v1'] }, { image: zstd, repoTags: ['zstd:latest'] }], { form });
    const s = await inspect(`docker-archive:${file}:example/simple:v1`);
    assert.equal(s.Architecture, 'amd64');
    // docker-archive layers are uncompressed: skopeo reports their diff_ids.
    assert.deepEqual(s.Layers, simple.layers.map((l) => l.diffId), form);
    assert.deepEqual(held[0]?.layers.map((l) => l.digest), simple.layers.map((l) => sha256(l.tar)));
    const z = await inspect(`docker-archive:${file}:zstd:latest`);
    assert.deepEqual(z.Layers, zstd.layers.map((l) => l.diffId), form);
  }
});
