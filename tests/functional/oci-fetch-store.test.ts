// Store commands on fetched OCI images through the built CLI: image list, cat-manifest (the synthesised
// appc manifest), verify (and a tampered blob), export to an oci-archive that skopeo reads and rkt
// re-fetches to the same ID, rm + gc of layer trees and blobs, and ID prefixes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { buildImage, hexOf, writeLayout, type BuiltImage } from '../harness/oci-image.js';
import { assertRefused, fetchOk, imageIdOf, layerDirOf, makeOciFetchEnv, storeState, type OciFetchEnv } from './oci-fetch-helpers.js';

const INSECURE = ['--insecure-options=image'];

let root: string;
let e: OciFetchEnv;
let v1: BuiltImage;
let v2: BuiltImage;
let id1: string;
let id2: string;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-oci-fetch-store-'));
  e = await makeOciFetchEnv();
  const base = { entries: [{ type: 'dir' as const, path: 'etc' }, { type: 'file' as const, path: 'etc/base', content: 'base\n'.repeat(50) }] };
  const config = { entrypoint: ['/bin/app'], cmd: ['--serve'], user: '1234:2345', stopSignal: 'SIGINT', labels: { 'org.example.team': 'web' } };
  v1 = await buildImage({ layers: [base, { entries: [{ type: 'file', path: 'version', content: '1\n' }] }], config });
  v2 = await buildImage({ layers: [base, { entries: [{ type: 'file', path: 'version', content: '2\n' }] }], config });
  const layout = path.join(root, 'app');
  await writeLayout(layout, [{ name: 'v1', image: v1 }, { name: 'v2', image: v2 }]);
  id1 = await fetchOk(e, `oci:${layout}:v1`, INSECURE);
  id2 = await fetchOk(e, `oci:${layout}:v2`, INSECURE);
  assert.equal(id1, imageIdOf(v1.manifestBytes));
});

after(async () => {
  await e?.cleanup();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

test('image list shows OCI images with name and version; ID prefixes resolve', async () => {
  const list = await e.rkt(['image', 'list', '--full', '--no-legend', '--fields=id,name']);
  assert.equal(list.exitCode, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${id1}\\s+oci/app:v1$`, 'm'));
  assert.match(list.stdout, new RegExp(`^${id2}\\s+oci/app:v2$`, 'm'));
  const short = await e.rkt(['image', 'list']);
  assert.match(short.stdout, new RegExp(id1.slice(0, 'sha512-'.length + 32)));

  // The shortest unique prefix (at least the two hex digits rkt asks for).
  let k = 'sha512-'.length + 2;
  while (id1.slice(0, k) === id2.slice(0, k)) k++;
  const cat = await e.rkt(['image', 'cat-manifest', id1.slice(0, k)]);
  assert.equal(cat.exitCode, 0, cat.stderr);
  assert.equal((JSON.parse(cat.stdout) as { name: string }).name, 'oci/app');
  assertRefused(await e.rkt(['image', 'cat-manifest', 'sha512-']), /is too short/, 'image cat-manifest');
  const unknown = id1.startsWith('sha512-00') ? 'sha512-ff' : 'sha512-00';
  if (!id2.startsWith(unknown)) assertRefused(await e.rkt(['image', 'cat-manifest', unknown]), /sha512-/, 'image cat-manifest');
});

test('image cat-manifest shows the synthesised appc manifest with the rkt-ts/oci annotations', async () => {
  const r = await e.rkt(['image', 'cat-manifest', id1]);
  assert.equal(r.exitCode, 0, r.stderr);
  const m = JSON.parse(r.stdout) as { acKind: string; name: string; labels: Array<{ name: string; value: string }>; annotations: Array<{ name: string; value: string }> };
  assert.equal(m.acKind, 'ImageManifest');
  assert.equal(m.name, 'oci/app');
  const labels = Object.fromEntries(m.labels.map((l) => [l.name, l.value]));
  assert.deepEqual(labels, { version: 'v1', os: 'linux', arch: 'amd64' });
  const ann = Object.fromEntries(m.annotations.map((a) => [a.name, a.value]));
  assert.deepEqual(JSON.parse(ann['rkt-ts/oci/entrypoint'] ?? 'null'), ['/bin/app']);
  assert.deepEqual(JSON.parse(ann['rkt-ts/oci/cmd'] ?? 'null'), ['--serve']);
  assert.equal(ann['rkt-ts/oci/user'], '1234:2345');
  assert.equal(ann['rkt-ts/oci/stop-signal'], 'SIGINT');
  assert.equal(ann['rkt-ts/oci/manifest-digest'], v1.manifestDigest);
  assert.equal(ann['rkt-ts/oci/config-digest'], v1.configDigest);
  assert.match(ann['rkt-ts/oci/reference'] ?? '', /^oci:.*\/app:v1$/);
  assert.equal(ann['org.example.team'], 'web');
});

test('image verify passes, and reports a tampered blob in cas/blobs', async () => {
  const ok = await e.rkt(['image', 'verify', id1]);
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`^${id1}: ok`));
  const top = v1.layers[1]!;
  const blob = path.join(e.dir, 'cas', 'blobs', 'sha256', hexOf(top.digest));
  const original = await fs.readFile(blob);
  const bad = Buffer.from(original);
  bad[10] = (bad[10] ?? 0) ^ 0xff;
  await fs.writeFile(blob, bad);
  try {
    const r = await e.rkt(['image', 'verify', id1]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stdout, new RegExp(`${id1}: blob ${top.digest} hashes to sha256:[0-9a-f]{64}`));
    assert.match(r.stderr, /^image verify: 1 image\(s\) failed verification/);
    // The other image shares only the base layer, whose blob is intact.
    assert.equal((await e.rkt(['image', 'verify', id2])).exitCode, 0);
  } finally {
    await fs.writeFile(blob, original);
  }
});

test('image export writes an oci-archive that skopeo reads and that re-fetches to the same ID', async () => {
  const out = path.join(root, 'export.tar');
  const r = await e.rkt(['image', 'export', id1, out]);
  assert.equal(r.exitCode, 0, r.stderr);
  const inspect = await execa('skopeo', ['inspect', `oci-archive:${out}`], { reject: false, env: { HOME: root, XDG_RUNTIME_DIR: root } });
  assert.equal(inspect.exitCode, 0, String(inspect.stderr));
  const doc = JSON.parse(String(inspect.stdout)) as { Digest: string; Layers: string[]; Architecture: string };
  assert.equal(doc.Digest, v1.manifestDigest);
  assert.deepEqual(doc.Layers, v1.layers.map((l) => l.digest));
  assertRefused(await e.rkt(['image', 'export', id1, out]), /exists/, 'image export');

  const other = await makeOciFetchEnv();
  try {
    assert.equal(await fetchOk(other, `oci-archive:${out}:v1`, INSECURE), id1);
  } finally {
    await other.cleanup();
  }
});

test('image rm + image gc remove the layer trees and blobs no image uses, and keep shared ones', async () => {
  const layerOf = (img: BuiltImage, i: number): string => layerDirOf(img.layers[i]!.diffId);
  const blobOf = (img: BuiltImage, i: number): string => hexOf(img.layers[i]!.digest);
  const rm = await e.rkt(['image', 'rm', id2]);
  assert.equal(rm.exitCode, 0, rm.stderr);
  // Within the grace period a layer no image lists stays (a fetch may be about to publish its image).
  const fresh = await e.rkt(['image', 'gc', '--grace-period=1h']);
  assert.equal(fresh.exitCode, 0, fresh.stderr);
  assert.ok((await storeState(e.dir)).layers.includes(layerOf(v2, 1)));

  // Two hours on: the layers' own age passes the grace period, image v1 was used just now.
  const old = new Date(Date.now() - 2 * 3600_000);
  for (const l of (await storeState(e.dir)).layers) await fs.utimes(path.join(e.dir, 'cas', 'layers', l), old, old);
  const gc = await e.rkt(['image', 'gc', '--grace-period=1h']);
  assert.equal(gc.exitCode, 0, gc.stderr);
  assert.match(gc.stderr, /0 image\(s\), \d+ tree\(s\) and 1 OCI layer\(s\) removed/);
  const s = await storeState(e.dir);
  assert.deepEqual(s.images, [id1]);
  assert.deepEqual(s.layers, [layerOf(v1, 0), layerOf(v1, 1)].sort());
  assert.deepEqual(s.blobs, [blobOf(v1, 0), blobOf(v1, 1)].sort());
  assert.equal((await e.rkt(['image', 'verify', id1])).exitCode, 0);

  const all = await e.rkt(['image', 'gc', '--grace-period=0s']);
  assert.equal(all.exitCode, 0, all.stderr);
  const empty = await storeState(e.dir);
  assert.deepEqual([empty.images, empty.layers, empty.blobs], [[], [], []]);
  const list = await e.rkt(['image', 'list', '--no-legend']);
  assert.equal(list.exitCode, 0, list.stderr);
  assert.equal(list.stdout.trim(), '');
});
