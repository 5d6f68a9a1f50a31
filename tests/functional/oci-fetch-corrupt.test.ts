// Corrupt and hostile OCI images through `rkt fetch`: blobs that do not match their digests, configs
// whose diff_ids lie, truncated gzip, a manifest that is not the one asked for, layers that try to
// escape or forge whiteouts, and a decompression bomb. Each is refused with one line, leaves nothing in
// the store, and a good image still fetches afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildImage, hexOf, OCI_MEDIA, sha256, writeLayout, type BuiltImage, type LayerEntry, type LayerSpec,
} from '../harness/oci-image.js';
import { makeTestCa, startTestServer, type TestCa } from '../harness/https-server.js';
import {
  assertRefused, assertStoreUnchanged, fetchOk, imageIdOf, imageOf, makeOciFetchEnv, rawLayer, storeState, type OciFetchEnv,
} from './oci-fetch-helpers.js';

let root: string;
let e: OciFetchEnv;
let ca: TestCa;
let good: BuiltImage;
let goodLayout: string;
let n = 0;

const INSECURE = '--insecure-options=image';

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-oci-fetch-corrupt-'));
  ca = await makeTestCa(path.join(root, 'ca'));
  e = await makeOciFetchEnv(ca.caCert);
  good = await buildImage({ layers: [{ entries: [{ type: 'dir', path: 'etc' }, { type: 'file', path: 'etc/good', content: 'good\n' }] }] });
  goodLayout = path.join(root, 'good');
  await writeLayout(goodLayout, [{ name: 'v1', image: good }]);
});

after(async () => {
  await e?.cleanup();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

async function layoutOf(img: BuiltImage): Promise<string> {
  const dir = path.join(root, `layout-${++n}`);
  await writeLayout(dir, [{ name: 'v1', image: img }]);
  return dir;
}

/** Fetches `image`, expects the refusal, an untouched store, and that a good image still fetches. */
async function refusedCleanly(image: string, re: RegExp): Promise<void> {
  const before = await storeState(e.dir);
  assertRefused(await e.rkt([INSECURE, 'fetch', image]), re);
  await assertStoreUnchanged(e, before);
  assert.equal(await fetchOk(e, `oci:${goodLayout}:v1`, [INSECURE]), imageIdOf(good.manifestBytes));
}

test('a layer blob whose bytes do not match its digest is refused', async () => {
  const img = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'a', content: 'a'.repeat(1000) }] }] });
  const dir = await layoutOf(img);
  const layer = img.layers[0]!;
  const tampered = Buffer.from(layer.bytes);
  tampered[tampered.length - 9] = (tampered[tampered.length - 9] ?? 0) ^ 0x01;
  await fs.writeFile(path.join(dir, 'blobs', 'sha256', hexOf(layer.digest)), tampered);
  await refusedCleanly(`oci:${dir}:v1`, new RegExp(`layer 1/1 ${layer.digest.slice(0, 19)} .*has digest sha256:[0-9a-f]{64}, expected ${layer.digest}`));
});

test('a config whose diff_ids lie about the layers is refused', async () => {
  const img = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'b', content: 'b\n' }] }], diffIds: [sha256('not this layer')] });
  await refusedCleanly(`oci:${await layoutOf(img)}:v1`, /the uncompressed layer has digest sha256:[0-9a-f]{64}, but the image config's diff_id is/);
});

test('a truncated gzip layer is refused', async () => {
  const full = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'c', content: Buffer.alloc(64 * 1024, 7) }] }] });
  const l = full.layers[0]!;
  const cut = l.bytes.subarray(0, Math.floor(l.bytes.length / 2));
  const img = imageOf([rawLayer(Buffer.from(cut), l.diffId)]);
  await refusedCleanly(`oci:${await layoutOf(img)}:v1`, /invalid layer 1\/1 .*the gzip stream is truncated/);
});

test('a manifest that is not the one the reference or index names is refused', async () => {
  const other = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'other', content: 'other\n' }] }] });
  // The layout's index names `other`, but the blob under that digest holds `good`'s manifest.
  const dir = await layoutOf(other);
  await fs.cp(path.join(goodLayout, 'blobs'), path.join(dir, 'blobs'), { recursive: true });
  await fs.writeFile(path.join(dir, 'blobs', 'sha256', hexOf(other.manifestDigest)), good.manifestBytes);
  await refusedCleanly(`oci:${dir}:v1`, new RegExp(`the manifest of oci:.* has digest ${good.manifestDigest}, expected ${other.manifestDigest}`));

  // A registry that answers `@sha256:<other>` with another manifest.
  const srv = await startTestServer({ ca });
  try {
    srv.route('/v2/', { body: Buffer.from('{}'), contentType: 'application/json' });
    srv.route(`/v2/acme/x/manifests/${other.manifestDigest}`, { body: good.manifestBytes, contentType: OCI_MEDIA.manifest });
    for (const b of good.blobs) srv.route(`/v2/acme/x/blobs/${b.digest}`, { body: b.bytes });
    await refusedCleanly(`docker://127.0.0.1:${srv.port}/acme/x@${other.manifestDigest}`, new RegExp(`has digest ${good.manifestDigest}, expected ${other.manifestDigest}`));
  } finally {
    await srv.close();
  }
});

test('hostile layers are refused and write nothing outside their tree', async () => {
  const outside = path.join(root, 'outside');
  await fs.mkdir(outside);
  const cases: Array<[string, LayerEntry[], RegExp]> = [
    ['../ escape', [{ type: 'raw', header: { name: '../escape', type: 'file', mode: 0o644 }, body: 'x\n' }], /has a "\.\." path component/],
    ['absolute name', [{ type: 'raw', header: { name: `${outside}/abs`, type: 'file', mode: 0o644 }, body: 'x\n' }], /has an absolute path/],
    ['write through a symlink', [
      { type: 'symlink', path: 'link', target: outside },
      { type: 'raw', header: { name: 'link/through', type: 'file', mode: 0o644 }, body: 'x\n' },
    ], /entry "link\/through" would be written through symlink "link"/],
    ['whiteout of ..', [{ type: 'dir', path: 'd' }, { type: 'raw', header: { name: 'd/.wh...', type: 'file', mode: 0o644 }, body: '' }], /whiteout "d\/\.wh\.\.\." names "\.\."/],
    ['whiteout of nothing', [{ type: 'raw', header: { name: '.wh.', type: 'file', mode: 0o644 }, body: '' }], /whiteout "\.wh\." names nothing/],
    ['entry inside a whiteout', [{ type: 'raw', header: { name: '.wh.x/y', type: 'file', mode: 0o644 }, body: '' }], /is inside whiteout/],
    ['device node', [{ type: 'raw', header: { name: 'dev-null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } }], /entry "dev-null" is a character device/],
    ['forged overlay xattr', [
      { type: 'raw', header: { name: 'd', type: 'directory', mode: 0o755, pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } } },
    ], /trusted\.overlay/],
  ];
  for (const [what, entries, re] of cases) {
    const img = await buildImage({ layers: [{ entries }] });
    await assert.doesNotReject(refusedCleanly(`oci:${await layoutOf(img)}:v1`, new RegExp(`refusing layer 1/1 .*${re.source}`)), what);
  }
  assert.deepEqual(await fs.readdir(outside), [], 'nothing was written outside the layer tree');
  await fs.access(path.join(root, 'escape')).then(() => assert.fail('../escape was written'), () => undefined);
});

test('a refused top layer does not keep the image, and its good lower layer is not an image', async () => {
  const base: LayerSpec = { entries: [{ type: 'file', path: 'base', content: 'base\n' }] };
  const img = await buildImage({ layers: [base, { entries: [{ type: 'raw', header: { name: '../up', type: 'file', mode: 0o644 }, body: 'x' }] }] });
  const before = await storeState(e.dir);
  assertRefused(await e.rkt([INSECURE, 'fetch', `oci:${await layoutOf(img)}:v1`]), /refusing layer 2\/2 .*"\.\."/);
  const after = await storeState(e.dir);
  assert.deepEqual(after.images, before.images, 'no image');
  assert.deepEqual(await fs.readdir(path.join(e.dir, 'cas', 'tmp')), []);
  // A lower layer that verified may stay as a shared layer (rkt image gc drops it when no image has it).
  for (const l of after.layers) await fs.access(path.join(e.dir, 'cas', 'layers', l, 'layer.json'));
});

test('a decompression bomb is cut off at the bound', async () => {
  // 300 MiB of zeros is an (empty) tar archive that zstd squeezes into a few KiB, over the 256 MiB floor.
  // (gzip cannot pass 1032:1, the bound's ratio is 2000:1, so only zstd can reach it cheaply.)
  const z = spawnSync('sh', ['-c', 'head -c 314572800 /dev/zero | zstd -q -c -3'], { maxBuffer: 64 << 20 });
  assert.equal(z.status, 0, String(z.stderr));
  const bomb = z.stdout;
  assert.ok(bomb.length < 1 << 20, `bomb is ${bomb.length} bytes`);
  const img = imageOf([rawLayer(bomb, sha256('whatever: the bound trips before the diff_id check'), OCI_MEDIA.layerZstd, 'zstd')]);
  await refusedCleanly(`oci:${await layoutOf(img)}:v1`, /refusing layer 1\/1 .*expands to more than \d+ bytes/);
});
