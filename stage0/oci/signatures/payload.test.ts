// Unit tests for the signed payload: strict parsing of "critical" and the identity rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDigest } from '../digest.js';
import { parseDockerReference } from '../reference.js';
import { SIGSTORE_SIGNING_TYPE, SIMPLE_SIGNING_TYPE, identityMismatch, parseSignaturePayload } from './payload.js';

const D1 = parseDigest(`sha256:${'1'.repeat(64)}`, 't');
const D2 = parseDigest(`sha256:${'2'.repeat(64)}`, 't');

function payload(ref: string, digest: string, type = SIMPLE_SIGNING_TYPE, extraCritical: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': ref }, image: { 'docker-manifest-digest': digest }, type, ...extraCritical }, optional: { creator: 'x' } }));
}

test('parses both kinds and refuses the wrong type, unknown critical fields and junk', () => {
  assert.deepEqual(parseSignaturePayload(payload('h:1/a:t', D1.text), SIMPLE_SIGNING_TYPE, 's'), { type: SIMPLE_SIGNING_TYPE, manifestDigest: D1.text, identity: 'h:1/a:t' });
  assert.equal(parseSignaturePayload(payload('h/a', D1.text, SIGSTORE_SIGNING_TYPE), SIGSTORE_SIGNING_TYPE, 's').type, SIGSTORE_SIGNING_TYPE);
  assert.throws(() => parseSignaturePayload(payload('h/a', D1.text, SIGSTORE_SIGNING_TYPE), SIMPLE_SIGNING_TYPE, 's'), /critical.type/);
  assert.throws(() => parseSignaturePayload(payload('h/a', D1.text, SIMPLE_SIGNING_TYPE, { extra: 1 }), SIMPLE_SIGNING_TYPE, 's'), /unknown field "extra"/);
  assert.throws(() => parseSignaturePayload(Buffer.from('not json'), SIMPLE_SIGNING_TYPE, 's'), /not JSON/);
  assert.throws(() => parseSignaturePayload(Buffer.from('{"critical":{"type":"atomic container signature","image":{},"identity":{"docker-reference":"a"}}}'), SIMPLE_SIGNING_TYPE, 's'), /docker-manifest-digest/);
});

test('identity: same repository; digest must match; an explicit tag must match a tag pull', () => {
  const byTag = parseDockerReference('127.0.0.1:5000/acme/app:1.0');
  const byDigest = parseDockerReference(`127.0.0.1:5000/acme/app@${D1.text}`);
  const check = (ref: string, image = byTag, digest = D1) => identityMismatch(parseSignaturePayload(payload(ref, D1.text), SIMPLE_SIGNING_TYPE, 's'), image, digest);
  assert.equal(check('127.0.0.1:5000/acme/app:1.0'), undefined);
  assert.equal(check('127.0.0.1:5000/acme/app'), undefined, 'a repository-only identity (cosign) vouches for every tag');
  assert.match(check('127.0.0.1:5000/acme/app:latest') ?? '', /made for tag latest, not 1.0/);
  assert.equal(check('127.0.0.1:5000/acme/app:latest', byDigest), undefined, 'pulled by digest, the repository decides');
  assert.match(check('127.0.0.1:5000/acme/other:1.0') ?? '', /made for 127.0.0.1:5000\/acme\/other, not 127.0.0.1:5000\/acme\/app/);
  assert.match(check('127.0.0.1:5001/acme/app:1.0') ?? '', /made for 127.0.0.1:5001/);
  assert.match(check(`127.0.0.1:5000/acme/app@${D2.text}`) ?? '', /names digest/);
  assert.match(check('127.0.0.1:5000/acme/app:1.0', byTag, D2) ?? '', /it signs manifest sha256:1+, not this image's sha256:2+/);
  assert.match(check('NOT A REF') ?? '', /not a docker reference/);
  // docker.io normalization: "busybox" is docker.io/library/busybox.
  assert.equal(identityMismatch(parseSignaturePayload(payload('busybox:1', D1.text), SIMPLE_SIGNING_TYPE, 's'), parseDockerReference('docker.io/library/busybox:1'), D1), undefined);
});
