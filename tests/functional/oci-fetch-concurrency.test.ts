// Two `rkt fetch`es at once of images that share a layer (it is unpacked once, under its lock), and a
// fetch SIGKILLed while a layer trickles in from a slow registry (no layer dir or image is left; the
// next rkt sweeps the dead work dir and the fetch succeeds).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildImage, OCI_MEDIA, writeLayout, type BuiltImage, type LayerSpec } from '../harness/oci-image.js';
import { makeTestCa, startTestServer, type TestCa, type TestServer } from '../harness/https-server.js';
import { casTmp, fetchOk, imageIdOf, layerDirOf, makeOciFetchEnv, storeState, unpackedLines, until, type OciFetchEnv } from './oci-fetch-helpers.js';

const INSECURE = '--insecure-options=image';

let root: string;
let ca: TestCa;
let e: OciFetchEnv;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-oci-fetch-conc-'));
  ca = await makeTestCa(path.join(root, 'ca'));
  e = await makeOciFetchEnv(ca.caCert);
});

after(async () => {
  await e?.cleanup();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

test('two concurrent fetches of images sharing a layer both succeed; the shared layer is unpacked once', async () => {
  // Incompressible, so that unpacking it takes long enough for the two fetches to meet at its lock.
  const base: LayerSpec = { entries: [{ type: 'file', path: 'big', content: randomBytes(6 << 20) }] };
  const a = await buildImage({ layers: [base, { entries: [{ type: 'file', path: 'which', content: 'a\n' }] }] });
  const b = await buildImage({ layers: [base, { entries: [{ type: 'file', path: 'which', content: 'b\n' }] }] });
  await writeLayout(path.join(root, 'a'), [{ name: 'v1', image: a }]);
  await writeLayout(path.join(root, 'b'), [{ name: 'v1', image: b }]);
  const [ra, rb] = await Promise.all([
    e.spawn([INSECURE, '--debug', 'fetch', '--full', `oci:${path.join(root, 'a')}:v1`]),
    e.spawn([INSECURE, '--debug', 'fetch', '--full', `oci:${path.join(root, 'b')}:v1`]),
  ]);
  assert.equal(ra.exitCode, 0, String(ra.stderr));
  assert.equal(rb.exitCode, 0, String(rb.stderr));
  assert.equal(String(ra.stdout).trim(), imageIdOf(a.manifestBytes));
  assert.equal(String(rb.stdout).trim(), imageIdOf(b.manifestBytes));
  const unpacked = [...unpackedLines(String(ra.stderr)), ...unpackedLines(String(rb.stderr))];
  const baseDiffId = a.layers[0]!.diffId;
  assert.equal(unpacked.filter((l) => l.endsWith(baseDiffId)).length, 1, unpacked.join('\n'));
  assert.equal(unpacked.length, 3, unpacked.join('\n'));
  const s = await storeState(e.dir);
  assert.deepEqual(s.layers, [...new Set([...a.layers, ...b.layers].map((l) => layerDirOf(l.diffId)))].sort());
  assert.equal(s.images.length, 2);
  assert.deepEqual(await casTmp(e.dir), []);
  for (const id of [imageIdOf(a.manifestBytes), imageIdOf(b.manifestBytes)]) assert.equal((await e.rkt(['image', 'verify', id])).exitCode, 0);
  await fs.rm(e.dir, { recursive: true, force: true });
  await fs.mkdir(e.dir);
});

/** A registry that serves one image by digest, with a layer route the test can slow down. */
function serveImage(srv: TestServer, repo: string, img: BuiltImage, slowLayer: number | undefined): void {
  srv.route('/v2/', { body: Buffer.from('{}'), contentType: 'application/json' });
  srv.route(`/v2/${repo}/manifests/${img.manifestDigest}`, { body: img.manifestBytes, contentType: OCI_MEDIA.manifest });
  srv.route(`/v2/${repo}/blobs/${img.configDigest}`, { body: img.configBytes });
  for (const l of img.layers) {
    srv.route(`/v2/${repo}/blobs/${l.digest}`, { body: l.bytes, ...(slowLayer !== undefined ? { bytesPerSecond: slowLayer } : {}) });
  }
}

test('kill -9 mid-download leaves no layer dir or image; the next fetch succeeds', async () => {
  const img = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'big', content: randomBytes(3 << 20) }] }] });
  const layer = img.layers[0]!;
  const srv = await startTestServer({ ca });
  try {
    serveImage(srv, 'acme/slow', img, 512 * 1024);
    const ref = `docker://127.0.0.1:${srv.port}/acme/slow@${img.manifestDigest}`;
    const child = e.spawn([INSECURE, 'fetch', '--full', ref]);
    let exited = false;
    void child.then(() => (exited = true));
    const blobPath = `/v2/acme/slow/blobs/${layer.digest}`;
    await until(() => exited || srv.count(blobPath).bytesSent > 400 * 1024, 'the layer download to start');
    if (exited) assert.fail(`rkt fetch ended before it could be killed: ${String((await child).stderr)}`);
    assert.ok(srv.count(blobPath).bytesSent < layer.size, 'killed before the layer was complete');
    child.kill('SIGKILL');
    assert.equal((await child).signal, 'SIGKILL');

    const s = await storeState(e.dir);
    assert.deepEqual(s.images, [], 'no image');
    assert.deepEqual(s.layers, [], 'no layer dir');
    assert.deepEqual(s.blobs, [], 'no blob');
    const list = await e.rkt(['image', 'list', '--no-legend']);
    assert.equal(list.exitCode, 0, list.stderr);
    assert.equal(list.stdout.trim(), '');

    serveImage(srv, 'acme/slow', img, undefined);
    assert.equal(await fetchOk(e, ref, [INSECURE]), imageIdOf(img.manifestBytes));
    assert.deepEqual((await storeState(e.dir)).layers, [layerDirOf(layer.diffId)]);
    assert.deepEqual(await casTmp(e.dir), [], 'the dead fetch\'s work dir was swept');
    assert.equal((await e.rkt(['image', 'verify', imageIdOf(img.manifestBytes)])).exitCode, 0);
  } finally {
    await srv.close();
  }
});
