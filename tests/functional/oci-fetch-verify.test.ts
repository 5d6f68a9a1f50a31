// Signature verification of `rkt fetch docker://...` through the built CLI: on by default, a sigstore
// (cosign) attachment checked against a key `rkt trust` stored for the repository's prefix, and an image
// fetched with --insecure-options=image never standing in for a verified one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildImage, type BuiltImage } from '../harness/oci-image.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';
import { attachSigstoreSignatures, makeSigstoreKeyPair, sigstorePayload, sigstoreSign, SCRYPT_LEGACY, type SigstoreKeyPair } from '../harness/sigstore-key.js';
import {
  assertRefused, assertStoreUnchanged, fetchOk, imageIdOf, makeOciFetchEnv, pushRaw, pushTarget, resetStore, storeState, type OciFetchEnv,
} from './oci-fetch-helpers.js';

let root: string;
let reg: TestRegistry;
let ca: Buffer;
let e: OciFetchEnv;
let key: SigstoreKeyPair;
let unsigned: BuiltImage;
let signed: BuiltImage;

async function info(id: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path.join(e.dir, 'cas', 'images', id, 'info.json'), 'utf8')) as Record<string, unknown>;
}

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-oci-fetch-verify-'));
  reg = await startRegistry();
  ca = await fs.readFile(reg.ca.caCert);
  e = await makeOciFetchEnv(reg.ca.caCert);
  key = await makeSigstoreKeyPair(path.join(root, 'keys'), 'cosign', { scrypt: SCRYPT_LEGACY });
  unsigned = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'which', content: 'unsigned\n' }] }] });
  signed = await buildImage({ layers: [{ entries: [{ type: 'file', path: 'which', content: 'signed\n' }] }] });
  await pushRaw(pushTarget(reg, 'acme/plain', ca), unsigned, '1');
  await pushRaw(pushTarget(reg, 'acme/signed', ca), signed, '1');
  // What `cosign sign --key` (or skopeo --sign-by-sigstore-private-key) attaches.
  const payload = sigstorePayload(`${reg.host}/acme/signed:1`, signed.manifestDigest);
  await attachSigstoreSignatures(pushTarget(reg, 'acme/signed', ca), signed.manifestDigest, [{ payload, signature: sigstoreSign(key, payload) }]);
  const t = await e.rkt(['trust', '--skip-fingerprint-review', `--prefix=${reg.host}/acme`, key.publicKeyPath]);
  assert.equal(t.exitCode, 0, t.stderr);
});

after(async () => {
  await reg?.stop();
  await e?.cleanup();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

test('an unsigned image is refused unless --insecure-options=image', async () => {
  const ref = `docker://${reg.host}/acme/plain:1`;
  const empty = await storeState(e.dir);
  assertRefused(await e.rkt(['fetch', ref]), new RegExp(`image ${reg.host}/acme/plain:1 is not signed`));
  await assertStoreUnchanged(e, empty);
  assert.equal(await fetchOk(e, ref, ['--insecure-options=image']), imageIdOf(unsigned.manifestBytes));
  await resetStore(e);
});

test('a cosign-signed image verifies against the trusted key, and rkt says which key', async () => {
  const r = await e.rkt(['fetch', '--full', `docker://${reg.host}/acme/signed:1`]);
  assert.equal(r.exitCode, 0, r.stderr);
  const id = r.stdout.trim();
  assert.equal(id, imageIdOf(signed.manifestBytes));
  assert.match(r.stderr, new RegExp(`sigstore key sha256:${key.keyId} trusted for ${reg.host.replace(/\./g, '\\.')}/acme`));
  const i = await info(id);
  assert.equal(i['signatureVerified'], true);
  assert.match(String(i['verifiedBy']), new RegExp(`sha256:${key.keyId}`));
  await resetStore(e);
});

test('an image fetched with --insecure-options=image does not satisfy a later verified fetch', async () => {
  const plain = `docker://${reg.host}/acme/plain:1`;
  const id = await fetchOk(e, plain, ['--insecure-options=image']);
  assert.equal((await info(id))['signatureVerified'], false);
  const before = await storeState(e.dir);
  // Verified, the stored copy does not count: never refuses, new goes back to the registry and re-verifies.
  assertRefused(await e.rkt(['fetch', '--pull-policy=never', plain]), /is not in the store \(as a verified image\)/);
  assertRefused(await e.rkt(['fetch', '--pull-policy=new', plain]), /acme\/plain:1 is not signed/);
  await assertStoreUnchanged(e, before);
  // Unverified, the stored image is reused.
  assert.equal(await fetchOk(e, plain, ['--insecure-options=image'], ['--pull-policy=never']), id);

  // The signed image fetched without verification is verified when a verified fetch asks for it again.
  const signedRef = `docker://${reg.host}/acme/signed:1`;
  const sid = await fetchOk(e, signedRef, ['--insecure-options=image']);
  assert.equal((await info(sid))['signatureVerified'], false);
  const again = await e.rkt(['fetch', '--full', '--pull-policy=new', signedRef]);
  assert.equal(again.exitCode, 0, again.stderr);
  assert.equal(again.stdout.trim(), sid);
  assert.match(again.stderr, /sigstore key sha256:/);
  assert.equal((await info(sid))['signatureVerified'], true);
  await resetStore(e);
});
