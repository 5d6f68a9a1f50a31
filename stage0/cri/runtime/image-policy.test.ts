import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageInfo } from '../../store/index.js';
import { imageMessage } from './image-policy.js';

const info: ImageInfo = {
  id: 'sha512-abc', name: 'example.test/app', labels: {}, importTime: new Date(0), lastUsed: new Date(0), size: 10,
  oci: { reference: 'docker://example.test/app:1', manifestDigest: 'sha256:00', configDigest: 'sha256:01', layers: [] },
  aliases: [{ name: 'other.test/app', labels: {}, reference: 'docker://other.test/app:2' }],
};

test('image message: every tag and digest it was pulled by', () => {
  const m = imageMessage(info);
  assert.deepEqual(m['repo_tags'], ['example.test/app:1', 'other.test/app:2']);
  assert.deepEqual(m['repo_digests'], ['example.test/app@sha256:00', 'other.test/app@sha256:00']);
});

test('image message: a numeric config user is a uid, a name a username, the group is dropped', () => {
  const pick = (user?: string) => { const m = imageMessage(info, user); return [m['uid'], m['username']]; };
  assert.deepEqual(pick(undefined), [null, '']);
  assert.deepEqual(pick('1002'), [{ value: '1002' }, '']);
  assert.deepEqual(pick('1003:1004'), [{ value: '1003' }, '']);
  assert.deepEqual(pick('www-data'), [null, 'www-data']);
  assert.deepEqual(pick('www-data:staff'), [null, 'www-data']);
});
