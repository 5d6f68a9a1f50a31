// The local transports through `rkt fetch`: oci:DIR[:NAME], oci-archive:FILE[:NAME] and
// docker-archive:FILE[:REPO:TAG] (legacy `docker save` and the Docker 25+ form). The same manifest is the
// same image ID whatever carries it; a docker-archive's uncompressed layers make another manifest over the
// same diff_ids, whose layer trees are shared with the image already stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildImage, writeDockerArchive, writeLayout, writeOciArchive, type BuiltImage } from '../harness/oci-image.js';
import {
  assertRefused, assertStoreUnchanged, fetchOk, imageIdOf, layerDirOf, makeOciFetchEnv, storeState, type OciFetchEnv,
} from './oci-fetch-helpers.js';

const INSECURE = ['--insecure-options=image'];

let root: string;
let e: OciFetchEnv;
let v1: BuiltImage;
let v2: BuiltImage;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-oci-fetch-local-'));
  e = await makeOciFetchEnv();
  const base = { entries: [{ type: 'dir' as const, path: 'etc' }, { type: 'file' as const, path: 'etc/base', content: 'base\n' }] };
  v1 = await buildImage({ layers: [base, { entries: [{ type: 'file', path: 'version', content: '1\n' }] }], config: { cmd: ['/bin/v'] } });
  v2 = await buildImage({ layers: [base, { entries: [{ type: 'file', path: 'version', content: '2\n' }] }], config: { cmd: ['/bin/v'] } });
});

after(async () => {
  await e?.cleanup();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

async function namesAndVersions(): Promise<string> {
  const r = await e.rkt(['image', 'list', '--full', '--no-legend', '--fields=id,name']);
  assert.equal(r.exitCode, 0, r.stderr);
  return r.stdout;
}

test('oci:DIR:NAME picks the named entry; oci:DIR needs a single image', async () => {
  const multi = path.join(root, 'multi');
  await writeLayout(multi, [{ name: 'v1', image: v1 }, { name: 'v2', image: v2 }]);
  assert.equal(await fetchOk(e, `oci:${multi}:v1`, INSECURE), imageIdOf(v1.manifestBytes));
  assert.equal(await fetchOk(e, `oci:${multi}:v2`, INSECURE), imageIdOf(v2.manifestBytes));
  assert.match(await namesAndVersions(), new RegExp(`${imageIdOf(v2.manifestBytes)}\\s+oci/multi:v2`));
  // Three layers for two images: the base is shared.
  assert.deepEqual((await storeState(e.dir)).layers, [...new Set([...v1.layers, ...v2.layers].map((l) => layerDirOf(l.diffId)))].sort());

  const before = await storeState(e.dir);
  assertRefused(await e.rkt([...INSECURE, 'fetch', `oci:${multi}`]), /v1.*v2|2 images/);
  assertRefused(await e.rkt([...INSECURE, 'fetch', `oci:${multi}:v3`]), /v3/);
  await assertStoreUnchanged(e, before);

  const single = path.join(root, 'single');
  await writeLayout(single, [{ name: 'v1', image: v1 }]);
  assert.equal(await fetchOk(e, `oci:${single}`, INSECURE), imageIdOf(v1.manifestBytes));
  assert.deepEqual(await storeState(e.dir), before, 'the same image again adds nothing');
});

test('oci-archive:FILE[:NAME] is the same image as the layout it holds', async () => {
  const file = path.join(root, 'app.tar');
  await writeOciArchive(file, [{ name: 'v1', image: v1 }]);
  const before = await storeState(e.dir);
  assert.equal(await fetchOk(e, `oci-archive:${file}:v1`, INSECURE), imageIdOf(v1.manifestBytes));
  assert.equal(await fetchOk(e, `oci-archive:${file}`, INSECURE), imageIdOf(v1.manifestBytes));
  assert.deepEqual((await storeState(e.dir)).layers, before.layers);
  const before2 = await storeState(e.dir);
  assertRefused(await e.rkt([...INSECURE, 'fetch', `oci-archive:${file}:nope`]), /nope/);
  assertRefused(await e.rkt([...INSECURE, 'fetch', `oci-archive:${path.join(root, 'missing.tar')}`]), /missing\.tar/);
  await assertStoreUnchanged(e, before2);
});

test('docker-archive in both forms, with and without REPO:TAG: one image, layer trees shared with the OCI one', async () => {
  const legacy = path.join(root, 'legacy.tar');
  const modern = path.join(root, 'modern.tar');
  const [asStored] = await writeDockerArchive(legacy, [{ image: v1, repoTags: ['acme/web:1.0'] }], { form: 'legacy' });
  await writeDockerArchive(modern, [{ image: v1, repoTags: ['acme/web:1.0'] }], { form: 'oci' });
  const want = imageIdOf(asStored!.manifestBytes);
  assert.notEqual(want, imageIdOf(v1.manifestBytes), 'uncompressed layers: another manifest');
  const before = await storeState(e.dir);
  const legacyId = await fetchOk(e, `docker-archive:${legacy}:acme/web:1.0`, INSECURE);
  assert.equal(legacyId, want, 'the legacy form\'s synthesised manifest is the one Docker 25+ writes');
  assert.match(await namesAndVersions(), new RegExp(`${want}\\s+\\S*acme/web:1\\.0`));
  assert.equal(await fetchOk(e, `docker-archive:${legacy}`, INSECURE), want);
  assert.equal(await fetchOk(e, `docker-archive:${modern}:acme/web:1.0`, INSECURE), want);
  assert.equal(await fetchOk(e, `docker-archive:${modern}`, INSECURE), want);
  const after = await storeState(e.dir);
  assert.deepEqual(after.layers, before.layers, 'same diff_ids: no new layer tree');
  assert.equal(after.images.length, before.images.length + 1);

  const before2 = await storeState(e.dir);
  assertRefused(await e.rkt([...INSECURE, 'fetch', `docker-archive:${legacy}:acme/web:2.0`]), /acme\/web:2\.0/);
  await assertStoreUnchanged(e, before2);
  // Its own (uncompressed) blobs were never stored, so it cannot be exported byte for byte: one clear line.
  assertRefused(await e.rkt(['image', 'export', want, path.join(root, 'out.tar')]), /its layer blob sha256:[0-9a-f]{64} is not in the store/, 'image export');
  await fs.access(path.join(root, 'out.tar')).then(() => assert.fail('export left a file'), () => undefined);
});

test('local images are unsigned: refused without --insecure-options=image', async () => {
  const dir = path.join(root, 'unsigned');
  await writeLayout(dir, [{ name: 'v1', image: v1 }]);
  assertRefused(await e.rkt(['fetch', `oci:${dir}:v1`]), /is not signed/);
});
