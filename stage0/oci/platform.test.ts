import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifestOrIndex, MEDIA } from './documents.js';
import { hostPlatform, selectPlatform } from './platform.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const entry = (digest: string, platform: Record<string, string>) => ({ mediaType: MEDIA.ociManifest, digest, size: 10, platform });

test('the first linux entry of the host architecture wins; attestations are skipped', () => {
  const idx = parseManifestOrIndex(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA.ociIndex,
    manifests: [entry(d('a'), { os: 'unknown', architecture: 'unknown' }), entry(d('b'), { os: 'linux', architecture: 'arm64', variant: 'v8' }), entry(d('c'), { os: 'linux', architecture: 'amd64' })],
  })), undefined, 'index');
  assert.equal(idx.kind, 'index');
  if (idx.kind !== 'index') return;
  assert.equal(selectPlatform(idx, { os: 'linux', architecture: 'amd64' }, 'x').digest.text, d('c'));
  assert.equal(selectPlatform(idx, hostPlatform('arm64'), 'x').digest.text, d('b'));
  assert.throws(() => selectPlatform(idx, { os: 'linux', architecture: 's390x' }, 'img'), /has no image for linux\/s390x \(it has: unknown\/unknown, linux\/arm64\/v8, linux\/amd64\)/);
});

test('schema 1 manifests are refused with a message that says so', () => {
  assert.throws(() => parseManifestOrIndex(Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x' })), undefined, 'm'), /Docker schema 1 manifest/);
  assert.throws(() => parseManifestOrIndex(Buffer.from('{"schemaVersion":2,"mediaType":"text/plain"}'), undefined, 'm'), /not an image manifest or index/);
  assert.throws(() => parseManifestOrIndex(Buffer.from('nope'), undefined, 'm'), /not JSON/);
});
