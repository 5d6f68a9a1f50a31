import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { RktError } from '../../../common/errors.js';
import {
  buildImage,
  dockerArchiveFiles,
  hexOf,
  packTar,
  sha256,
  writeDockerArchive,
  writeLayout,
  type BuiltImage,
  type TarMember,
} from '../../../tests/harness/oci-image.js';
import { MEDIA, parseImageConfig, parseManifestOrIndex, type ImageManifestDoc } from '../documents.js';
import { parseDockerReference } from '../reference.js';
import type { ImageSource } from '../source.js';
import { openLocalSource } from './index.js';

let root: string;
let simple: BuiltImage;
let other: BuiltImage;
let n = 0;

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RktError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

async function open(file: string, ref?: string): Promise<ImageSource> {
  const tmpDir = await mkdtemp(path.join(root, 'fetch-'));
  return openLocalSource(ref === undefined ? { transport: 'docker-archive', path: file } : { transport: 'docker-archive', path: file, ref: parseDockerReference(ref) }, { tmpDir });
}

function file(): string {
  return path.join(root, `d${n++}.tar`);
}

/** Reads everything the top manifest names and checks it against the image (layers as uncompressed tars). */
async function readAll(src: ImageSource, img: BuiltImage): Promise<ImageManifestDoc> {
  const top = await src.top();
  const m = parseManifestOrIndex(top.bytes, top.mediaType, 't');
  assert.equal(m.kind, 'manifest');
  if (m.kind !== 'manifest') throw new Error('unreachable');
  assert.equal(m.config.digest.text, img.configDigest);
  assert.deepEqual(await buffer(await src.blob(m.config)), img.configBytes);
  assert.deepEqual(m.layers.map((l) => l.digest.text), img.layers.map((l) => l.diffId));
  assert.deepEqual(m.layers.map((l) => l.size), img.layers.map((l) => l.tar.length));
  for (const [i, l] of m.layers.entries()) assert.deepEqual(await buffer(await src.blob(l)), img.layers[i]?.tar);
  // The lead's puller verifies the derived manifest against the config's diff_ids.
  const cfg = parseImageConfig(img.configBytes, 't');
  assert.deepEqual(cfg.diffIds.map((d) => d.text), m.layers.map((l) => l.digest.text));
  return m;
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'docker-archive-src-'));
  simple = await buildImage({
    layers: [{ entries: [{ type: 'file', path: 'a', content: 'A' }] }, { entries: [{ type: 'file', path: 'b', content: 'B' }], compression: 'zstd' }],
    config: { cmd: ['/a'] },
  });
  other = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'o', content: 'O' }] }] });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('legacy docker save: RepoTags select (normalized), the manifest is derived and has no expected digest', async () => {
  const f = file();
  await writeDockerArchive(f, [{ image: simple, repoTags: ['busybox:latest'] }, { image: other, repoTags: ['example.com:5000/team/other:v2'] }], { form: 'legacy' });
  for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest']) {
    const src = await open(f, ref);
    const top = await src.top();
    assert.equal(top.expectedDigest, undefined);
    assert.equal(top.mediaType, MEDIA.ociManifest);
    const m = await readAll(src, simple);
    assert.ok(m.layers.every((l) => l.mediaType === MEDIA.ociLayer));
    await src.close();
  }
  const o = await open(f, 'example.com:5000/team/other:v2');
  await readAll(o, other);
  await o.close();
  await rejectsWith(open(f), 'IMAGE_AMBIGUOUS', /holds 2 images \(busybox:latest, example\.com:5000\/team\/other:v2\)/);
  await rejectsWith(open(f, 'busybox:1.36'), 'IMAGE_NOT_FOUND', /no image tagged docker\.io\/library\/busybox:1\.36 \(it holds: busybox:latest, /);
  const single = file();
  await writeDockerArchive(single, [{ image: other, repoTags: [] }], { form: 'legacy' });
  await readAll(await open(single), other);
});

test('Docker 25+ archives: the OCI layout inside is used and its manifest digest is real', async () => {
  const f = file();
  const held = await writeDockerArchive(f, [{ image: simple, repoTags: ['example/simple:v1'] }, { image: other, repoTags: ['other:latest'] }], { form: 'oci' });
  const src = await open(f, 'example/simple:v1');
  const top = await src.top();
  assert.equal(top.expectedDigest, held[0]?.manifestDigest);
  assert.deepEqual(top.bytes, held[0]?.manifestBytes);
  await readAll(src, simple);
  await src.close();
  const o = await open(f, 'other');
  assert.equal((await o.top()).expectedDigest, held[1]?.manifestDigest);
  await o.close();
});

test('a repeated layer that docker save stored as a symlink is followed', async () => {
  const files = dockerArchiveFiles([{ image: other, repoTags: ['x:1'] }], { form: 'legacy' });
  const layerPath = [...files.keys()].find((k) => k.endsWith('/layer.tar'));
  assert.ok(layerPath);
  const members: TarMember[] = [...files].filter(([k]) => k !== 'manifest.json').map(([name, body]) => ({ header: { name, type: 'file' }, body }));
  members.push({ header: { name: 'dup/layer.tar', type: 'symlink', linkname: `../${layerPath}` } });
  const manifest = [{ Config: `${hexOf(other.configDigest)}.json`, RepoTags: ['x:1'], Layers: ['dup/layer.tar'] }];
  members.push({ header: { name: 'manifest.json', type: 'file' }, body: JSON.stringify(manifest) });
  const f = file();
  await writeFile(f, await packTar(members));
  await readAll(await open(f), other);
});

test('hostile and malformed manifest.json entries are refused', async () => {
  const write = async (manifest: unknown, extra: TarMember[] = []): Promise<string> => {
    const f = file();
    await writeFile(f, await packTar([{ header: { name: 'manifest.json', type: 'file' }, body: JSON.stringify(manifest) }, ...extra]));
    return f;
  };
  await rejectsWith(open(await write([{ Config: 'c.json', RepoTags: [], Layers: ['../../etc/passwd'] }])), 'IMAGE_HOSTILE', /Layers\[0\] "\.\.\/\.\.\/etc\/passwd"/);
  await rejectsWith(open(await write([{ Config: '/etc/shadow', RepoTags: [], Layers: [] }])), 'IMAGE_HOSTILE', /absolute/);
  await rejectsWith(open(await write({ Config: 'x' })), 'IMAGE_INVALID', /not a list/);
  await rejectsWith(open(await write([{ Config: 'c.json', RepoTags: 'x', Layers: [] }])), 'IMAGE_INVALID', /RepoTags must be a list/);
  const missing = await open(await write([{ Config: 'c.json', RepoTags: [], Layers: [] }]));
  await rejectsWith(missing.top(), 'IMAGE_INVALID', /names config c\.json, which is not in the archive/);
  const escaping = await open(
    await write([{ Config: 'c.json', RepoTags: [], Layers: ['l.tar'] }], [
      { header: { name: 'c.json', type: 'file' }, body: '{}' },
      { header: { name: 'l.tar', type: 'symlink', linkname: '../../../etc/passwd' } },
    ]),
  );
  await rejectsWith(escaping.top(), 'IMAGE_HOSTILE', /points outside the archive/);
  await rejectsWith(open(path.join(root, 'absent.tar')), 'IMAGE_NOT_FOUND', /absent\.tar/);
});

test('blob() serves only what the derived manifest names', async () => {
  const f = file();
  await writeDockerArchive(f, [{ image: other, repoTags: ['o:1'] }], { form: 'legacy' });
  const src = await open(f);
  const top = await src.top();
  const m = parseManifestOrIndex(top.bytes, top.mediaType, 't') as ImageManifestDoc;
  await rejectsWith(src.blob({ ...m.config, digest: { algorithm: 'sha256', hex: hexOf(sha256('nope')), text: sha256('nope') } }), 'IMAGE_NOT_FOUND', /holds no blob/);
  await rejectsWith(src.manifest(m.config), 'IMAGE_NOT_FOUND', /holds no manifest/);
});

test('a docker-archive written by skopeo copy is read', async (t) => {
  if ((await execa('skopeo', ['--version'], { reject: false })).exitCode !== 0) return t.skip('skopeo is not installed');
  // skopeo cannot write zstd layers into a docker-archive, so this image has gzip and plain ones.
  const img = await buildImage({
    layers: [{ entries: [{ type: 'file', path: 'a', content: 'A' }] }, { entries: [{ type: 'file', path: 'b', content: 'B' }], compression: 'none' }],
    config: { cmd: ['/a'] },
  });
  const dir = path.join(root, 'layout');
  await writeLayout(dir, [{ name: 'tag', image: img }]);
  const f = path.join(root, 'skopeo.tar');
  const r = await execa('skopeo', ['copy', '-q', `oci:${dir}:tag`, `docker-archive:${f}:example/repo:tag`], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  const src = await open(f, 'example/repo:tag');
  const top = await src.top();
  const m = parseManifestOrIndex(top.bytes, top.mediaType, 't') as ImageManifestDoc;
  // skopeo rewrites the config (history, media types), so check it by what it says, not by its bytes.
  const cfg = parseImageConfig(await buffer(await src.blob(m.config)), 'config');
  assert.deepEqual(cfg.config.cmd, ['/a']);
  assert.deepEqual(m.layers.map((l) => l.digest.text), cfg.diffIds.map((d) => d.text));
  for (const [i, l] of m.layers.entries()) assert.equal(sha256(await buffer(await src.blob(l))), img.layers[i]?.diffId);
  await src.close();
});
