// Unit tests for sigstore attachments against an in-memory registry: ECDSA, ed25519 and RSA keys,
// several signatures (one good one is enough), masked keys, keyless and malformed layers, bounds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRktError } from '../../../common/errors.js';
import { keystoreLayers, writeTrustedKey, type KeystoreLayer } from '../../trust/keystore.js';
import { readSigstorePublicKey } from '../../trust/sigstore-key.js';
import { parseDigest } from '../digest.js';
import type { Descriptor } from '../documents.js';
import { parseDockerReference } from '../reference.js';
import type { SignatureRegistry } from './common.js';
import { MAX_SIGSTORE_PAYLOAD_BYTES, SIGSTORE_PAYLOAD_MEDIA_TYPE, SIGSTORE_SIGNATURE_ANNOTATION, sigstoreAttachmentTag } from './sigstore.js';
import { verifyOciImage } from './verify.js';

const HOST = 'reg.example.com:5000';
const DIGEST = parseDigest(`sha256:${'a'.repeat(64)}`, 't');
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let root: string;
let layers: KeystoreLayer[];
const keys = {
  ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ed: generateKeyPairSync('ed25519'),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  other: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};
type KeyName = keyof typeof keys;

function pem(k: KeyName): string {
  return keys[k].publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
function idOf(k: KeyName): string {
  return readSigstorePublicKey(Buffer.from(pem(k)), k).id;
}
function payloadFor(ref: string, digest = DIGEST.text): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': ref }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }));
}
function signWith(k: KeyName, payload: Buffer): string {
  return (k === 'ed' ? sign(null, payload, keys[k].privateKey) : sign('sha256', payload, keys[k].privateKey)).toString('base64');
}

interface Layer { payload: Buffer; annotations: Record<string, string>; mediaType?: string; size?: number }

/** A registry holding one attachment manifest made of `layersOf`. */
function registry(layersOf: Layer[] | undefined): SignatureRegistry & { blobs: number } {
  const blobs = new Map(layersOf?.map((l) => [sha(l.payload), l.payload]) ?? []);
  const manifest = layersOf && Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(Buffer.from('{}')), size: 2 },
    layers: layersOf.map((l) => ({ mediaType: l.mediaType ?? SIGSTORE_PAYLOAD_MEDIA_TYPE, digest: sha(l.payload), size: l.size ?? l.payload.length, annotations: l.annotations })),
  }));
  const r = {
    blobs: 0,
    async getManifest(tag: string) {
      assert.equal(tag, sigstoreAttachmentTag(DIGEST));
      return manifest ? { bytes: manifest, mediaType: 'application/vnd.oci.image.manifest.v1+json' } : undefined;
    },
    async blob(desc: Descriptor) {
      r.blobs++;
      const b = blobs.get(desc.digest.text);
      if (!b) throw new Error('no such blob');
      return b;
    },
  };
  return r;
}

function run(ref: string, reg: SignatureRegistry) {
  return verifyOciImage({ reference: parseDockerReference(ref), manifestDigest: DIGEST, registry: reg, keystoreLayers: layers, lookaside: { configDirs: [], http: { insecureTls: false, allowHttp: false, auth: [] } } });
}

async function refused(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => isRktError(err) && err.code === code && re.test(err.message) ? true : assert.fail(String(err instanceof Error ? `${(err as { code?: string }).code} ${err.message}` : err)));
}

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sigstore-unit-'));
  layers = keystoreLayers({ systemConfig: path.join(root, 'sys'), localConfig: path.join(root, 'local') });
  for (const k of ['ec', 'ed', 'rsa'] as const) await writeTrustedKey(path.join(root, 'local'), { kind: 'prefix', prefix: `${HOST}/${k}` }, idOf(k), pem(k), 'sigstore');
});

after(() => fs.rm(root, { recursive: true, force: true }));

test('ECDSA P-256, ed25519 and RSA signatures verify with the key trusted for their prefix', async () => {
  for (const k of ['ec', 'ed', 'rsa'] as const) {
    const ref = `${HOST}/${k}/app:1`;
    const p = payloadFor(ref);
    const v = await run(ref, registry([{ payload: p, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signWith(k, p) } }]));
    assert.equal(v.verifiedBy, `sigstore key sha256:${idOf(k)} trusted for ${HOST}/${k}`);
  }
});

test('one good signature among bad ones is enough; the worst refusal is reported when none is good', async () => {
  const ref = `${HOST}/ec/app:1`;
  const p = payloadFor(ref);
  const bad = { payload: payloadFor(ref, `sha256:${'b'.repeat(64)}`), annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signWith('ec', payloadFor(ref, `sha256:${'b'.repeat(64)}`)) } };
  const good = { payload: p, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signWith('ec', p) } };
  const byOther = { payload: p, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signWith('other', p) } };
  assert.match((await run(ref, registry([byOther, bad, good]))).verifiedBy, /sigstore key/);
  await refused(run(ref, registry([byOther, bad])), 'SIGNATURE_INVALID', /does not vouch for image .*\(and 1 other signature refused\)/);
  await refused(run(ref, registry([byOther])), 'KEY_UNTRUSTED', /not trusted/);
});

test('a masked key, a keyless signature, a missing annotation, junk base64 and oversized payloads are refused', async () => {
  const ref = `${HOST}/ed/app:1`;
  const p = payloadFor(ref);
  const mask = path.join(root, 'user');
  const withMask = [...layers, { name: 'user' as const, dir: mask }];
  await fs.mkdir(path.join(mask, 'trustedkeys/prefix.d/reg.example.com%3a5000/ed'), { recursive: true });
  await fs.writeFile(path.join(mask, 'trustedkeys/prefix.d/reg.example.com%3a5000/ed', `sigstore-${idOf('ed')}.pem`), '');
  await refused(verifyOciImage({
    reference: parseDockerReference(ref), manifestDigest: DIGEST, keystoreLayers: withMask,
    registry: registry([{ payload: p, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signWith('ed', p) } }]),
    lookaside: { configDirs: [], http: { insecureTls: false, allowHttp: false, auth: [] } },
  }), 'KEY_UNTRUSTED', /masked by/);
  await refused(run(ref, registry([{ payload: p, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signWith('other', p), 'dev.sigstore.cosign/certificate': 'x' } }])), 'KEY_UNTRUSTED', /keyless/);
  await refused(run(ref, registry([{ payload: p, annotations: {} }])), 'SIGNATURE_INVALID', /no dev.cosignproject.cosign\/signature annotation/);
  await refused(run(ref, registry([{ payload: p, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: 'not base64!' } }])), 'SIGNATURE_INVALID', /not base64/);
  const reg = registry([{ payload: p, annotations: { [SIGSTORE_SIGNATURE_ANNOTATION]: signWith('ed', p) }, size: MAX_SIGSTORE_PAYLOAD_BYTES + 1 }]);
  await refused(run(ref, reg), 'SIGNATURE_INVALID', /larger than/);
  assert.equal(reg.blobs, 0, 'an oversized payload is never fetched');
  // Layers of other media types (attestations, SBOMs) are not signatures.
  await refused(run(ref, registry([{ payload: p, annotations: {}, mediaType: 'application/vnd.in-toto+json' }])), 'SIGNATURE_MISSING', /is not signed/);
  await refused(run(ref, registry(undefined)), 'SIGNATURE_MISSING', /is not signed/);
});

test('a PEM key rkt cannot verify with is refused when trusted', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  assert.throws(() => readSigstorePublicKey(Buffer.from(small), 'small.pub'), /does not verify sigstore signatures with/);
  assert.throws(() => readSigstorePublicKey(Buffer.from('nothing'), 'x.pub'), /no PEM "PUBLIC KEY" block/);
});
