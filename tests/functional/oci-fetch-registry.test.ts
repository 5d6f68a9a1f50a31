// `rkt fetch docker://...` through the built CLI against a real registry (Debian's docker-registry, TLS
// from a test CA): token auth with auth.d credentials, the pull policies, CA trust, a tag update that
// changes only the top layer, multi-arch indexes and schema 1 manifests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildImage, buildIndex, buildMultiArch, writeLayout, type BuiltImage, type LayerSpec } from '../harness/oci-image.js';
import { startTestServer, type TestServer } from '../harness/https-server.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import {
  assertRefused, assertStoreUnchanged, fetchOk, imageIdOf, layerDirOf, makeOciFetchEnv, pushRaw, pushTarget, resetStore, storeState,
  unpackedLines, writeDockerAuth, type OciFetchEnv,
} from './oci-fetch-helpers.js';

const USER = 'alice';
const PASSWORD = 'a-test-password-9';

let root: string;
let reg: TestRegistry;
let ca: Buffer;
let e: OciFetchEnv;

const fileLayer = (name: string, content: string): LayerSpec => ({ entries: [{ type: 'dir', path: 'etc' }, { type: 'file', path: `etc/${name}`, content }] });

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-oci-fetch-reg-'));
  reg = await startRegistry();
  ca = await fs.readFile(reg.ca.caCert);
  e = await makeOciFetchEnv(reg.ca.caCert);
});

after(async () => {
  await reg?.stop();
  await e?.cleanup();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

test('docker:// over TLS with token auth and auth.d credentials; pull policies; CA trust', async () => {
  const authReg = await startRegistry({ ca: reg.ca, tokenAuth: { users: { [USER]: PASSWORD } } });
  // The harness's stop() waits for an exit that a registry already stopped will not send again.
  let stopped = false;
  const stopAuthReg = async (): Promise<void> => {
    if (!stopped) await authReg.stop();
    stopped = true;
  };
  try {
    const img = await buildImage({ layers: [fileLayer('web', 'web 1.0\n')], config: { cmd: ['/bin/web'] } });
    const layout = path.join(root, 'web-layout');
    await writeLayout(layout, [{ name: '1.0', image: img }]);
    await authReg.pushOciLayout(layout, 'acme/web:1.0');
    const ref = `docker://${authReg.host}/acme/web:1.0`;

    // Without credentials the token server refuses, and so does rkt.
    const empty = await storeState(e.dir);
    assertRefused(await e.rkt(['--insecure-options=image', 'fetch', ref]), /acme\/web/);
    await assertStoreUnchanged(e, empty);

    await writeDockerAuth(e, authReg.host, USER, PASSWORD);
    // The registry's CA is not trusted without NODE_EXTRA_CA_CERTS.
    const noCa = await e.rkt(['--insecure-options=image', 'fetch', ref], { env: {} });
    assertRefused(noCa, /certificate|TLS/i);
    await assertStoreUnchanged(e, empty);

    const r = await e.rkt(['--insecure-options=image', 'fetch', '--full', ref]);
    assert.equal(r.exitCode, 0, r.stderr);
    const id = r.stdout.trim();
    assert.equal(id, imageIdOf(img.manifestBytes), 'the image ID is rkt\'s hash of the manifest as pushed');
    assert.ok(authReg.tokenRequests.some((t) => t.user === USER && t.status === 200 && t.scopes.some((s) => s.includes('acme/web:pull'))),
      JSON.stringify(authReg.tokenRequests));
    const list = await e.rkt(['image', 'list', '--full', '--no-legend', '--fields=id,name']);
    assert.equal(list.exitCode, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id}\\s+127\\.0\\.0\\.1-${authReg.port}/acme/web:1\\.0`));

    // A mirror (mirrors.d) serves another registry's names: the image keeps the name it was asked by.
    const mirrors = path.join(e.dirs.localConfig, 'mirrors.d');
    await fs.mkdir(mirrors, { recursive: true });
    await fs.writeFile(path.join(mirrors, 'm.json'), JSON.stringify({ rktKind: 'registryMirror', rktVersion: 'v1', registries: ['registry.example.test'], mirror: authReg.host }));
    const viaMirror = await e.rkt(['--insecure-options=image', '--debug', 'fetch', '--full', 'docker://registry.example.test/acme/web:1.0']);
    assert.equal(viaMirror.exitCode, 0, viaMirror.stderr);
    assert.equal(viaMirror.stdout.trim(), id);
    assert.match(viaMirror.stderr, new RegExp(`registry registry\\.example\\.test: fetching from its mirror 127\\.0\\.0\\.1:${authReg.port}`));
    const named = await e.rkt(['image', 'list', '--full', '--no-legend', '--fields=id,name']);
    assert.match(named.stdout, new RegExp(`${id}\\s+registry\\.example\\.test/acme/web:1\\.0`), named.stdout);
    const config = await e.rkt(['config']);
    assert.match(config.stdout, /"rktKind": "registryMirror"/);
    await fs.writeFile(path.join(mirrors, 'bad.json'), JSON.stringify({ rktKind: 'registryMirror', rktVersion: 'v1', registries: ['a b'], mirror: 'x' }));
    assertRefused(await e.rkt(['--insecure-options=image', 'fetch', 'docker://registry.example.test/acme/web:1.0']), /bad\.json: "registries" must list registry hosts/);
    await fs.rm(mirrors, { recursive: true });

    const never = await e.rkt(['--insecure-options=image', 'fetch', '--pull-policy=never', `docker://${authReg.host}/acme/other:2`]);
    assertRefused(never, /acme\/other:2 is not in the store and --pull-policy=never/);

    // With --insecure-options=tls the unknown CA is accepted (into a second store, so the first keeps its image).
    const other = await makeOciFetchEnv();
    try {
      await writeDockerAuth(other, authReg.host, USER, PASSWORD);
      assert.equal(await fetchOk(other, ref, ['--insecure-options=image,tls']), id);
    } finally {
      await other.cleanup();
    }

    // The registry is gone; --pull-policy=new finds the image by its reference in the store.
    const tokensBefore = authReg.tokenRequests.length;
    await stopAuthReg();
    const again = await e.rkt(['--insecure-options=image', '--debug', 'fetch', '--full', '--pull-policy=new', ref]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(again.stdout.trim(), id);
    assert.match(again.stderr, /using sha512-[0-9a-f]+ from the store \(pull policy new/);
    assert.equal(authReg.tokenRequests.length, tokensBefore);
    // update must ask the registry, which is down.
    assertRefused(await e.rkt(['--insecure-options=image', 'fetch', '--pull-policy=update', ref]), /127\.0\.0\.1/);
  } finally {
    await stopAuthReg();
    await resetStore(e);
  }
});

test('a tag update that changes only the top layer downloads and unpacks one layer', async () => {
  const base: LayerSpec = { entries: [{ type: 'dir', path: 'usr' }, { type: 'file', path: 'usr/base', content: 'base layer\n'.repeat(100) }] };
  const v1 = await buildImage({ layers: [base, fileLayer('version', '1\n')] });
  const v2 = await buildImage({ layers: [base, fileLayer('version', '2\n')] });
  const t = pushTarget(reg, 'acme/app', ca);
  await pushRaw(t, v1, 'latest');
  const ref = `docker://${reg.host}/acme/app:latest`;
  const first = await e.rkt(['--insecure-options=image', '--debug', 'fetch', '--full', ref]);
  assert.equal(first.exitCode, 0, first.stderr);
  assert.equal(unpackedLines(first.stderr).length, 2, first.stderr);
  const s1 = await storeState(e.dir);
  assert.deepEqual(s1.layers, v1.layers.map((l) => layerDirOf(l.diffId)).sort());

  await pushRaw(t, v2, 'latest');
  // new keeps the stored image.
  const kept = await e.rkt(['--insecure-options=image', 'fetch', '--full', '--pull-policy=new', ref]);
  assert.equal(kept.stdout.trim(), imageIdOf(v1.manifestBytes), kept.stderr);
  const upd = await e.rkt(['--insecure-options=image', '--debug', 'fetch', '--full', '--pull-policy=update', ref]);
  assert.equal(upd.exitCode, 0, upd.stderr);
  assert.equal(upd.stdout.trim(), imageIdOf(v2.manifestBytes));
  assert.match(upd.stderr, /2 layers, 1 already in the store, 1 to fetch/);
  const unpacked = unpackedLines(upd.stderr);
  assert.equal(unpacked.length, 1, upd.stderr);
  assert.ok(unpacked[0]?.endsWith(v2.layers[1]!.diffId), unpacked[0]);
  const s2 = await storeState(e.dir);
  assert.equal(s2.layers.length, s1.layers.length + 1);
  assert.equal(s2.images.length, 2);
  // pull-policy new now picks the newest fetch of the reference.
  const latest = await e.rkt(['--insecure-options=image', 'fetch', '--full', '--pull-policy=new', ref]);
  assert.equal(latest.stdout.trim(), imageIdOf(v2.manifestBytes), latest.stderr);
  await resetStore(e);
});

test('a multi-arch index (with an attestation) resolves to linux/amd64; one without amd64 is refused naming its platforms', async () => {
  const t = pushTarget(reg, 'acme/multi', ca);
  const index = await buildMultiArch({ layers: [fileLayer('multi', 'multi\n')], config: { cmd: ['/bin/multi'] } }, { attestation: true });
  await pushRaw(t, index, '1');
  const amd = index.images.find((i) => i.platform.architecture === 'amd64') as BuiltImage;
  const r = await e.rkt(['--insecure-options=image', '--debug', 'fetch', '--full', `docker://${reg.host}/acme/multi:1`]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout.trim(), imageIdOf(amd.manifestBytes));
  assert.match(r.stderr, new RegExp(`picked linux/amd64 ${amd.manifestDigest}`));
  const cat = await e.rkt(['image', 'cat-manifest', r.stdout.trim()]);
  assert.match(cat.stdout, /"name":"arch","value":"amd64"/);

  const arm = index.images.find((i) => i.platform.architecture === 'arm64') as BuiltImage;
  const s390 = await buildImage({ layers: [fileLayer('multi', 'multi\n')], config: { platform: { os: 'linux', architecture: 's390x' } } });
  const noAmd = await buildIndex({ images: [arm, s390], attestation: true });
  await pushRaw(t, noAmd, 'noamd');
  const before = await storeState(e.dir);
  const refused = await e.rkt(['--insecure-options=image', 'fetch', `docker://${reg.host}/acme/multi:noamd`]);
  assertRefused(refused, /has no image for linux\/amd64 \(it has: linux\/arm64\/v8, linux\/s390x, unknown\/unknown\)/);
  await assertStoreUnchanged(e, before);
  await resetStore(e);
});

test('a Docker schema 1 manifest is refused with its own message', async () => {
  const srv: TestServer = await startTestServer({ ca: reg.ca });
  try {
    srv.route('/v2/', { body: Buffer.from('{}'), contentType: 'application/json' });
    const schema1 = Buffer.from(JSON.stringify({
      schemaVersion: 1, name: 'acme/old', tag: '1', architecture: 'amd64',
      fsLayers: [{ blobSum: 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4' }],
      history: [{ v1Compatibility: '{"id":"x"}' }],
    }));
    srv.route('/v2/acme/old/manifests/1', { body: schema1, contentType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
    const before = await storeState(e.dir);
    const r = await e.rkt(['--insecure-options=image', 'fetch', `docker://127.0.0.1:${srv.port}/acme/old:1`]);
    assertRefused(r, /is a Docker schema 1 manifest, which rkt does not read/);
    await assertStoreUnchanged(e, before);
  } finally {
    await srv.close();
  }
});
