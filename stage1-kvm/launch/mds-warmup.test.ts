// The metadata warm-up unit: which URLs yield an endpoint, and the unit is best effort and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metadataEndpoint, warmupUnit } from './mds-warmup.js';

test('metadataEndpoint takes host and port from AC_METADATA_URL', () => {
  assert.deepEqual(metadataEndpoint('http://172.16.28.1:46653/tok'), { host: '172.16.28.1', port: 46653 });
  assert.deepEqual(metadataEndpoint('http://[fd00::1]:80/tok'), { host: 'fd00::1', port: 80 });
  assert.equal(metadataEndpoint('http://host.example:80/tok'), undefined);
  assert.deepEqual(metadataEndpoint('http://172.16.28.1/tok'), { host: '172.16.28.1', port: 80 });
  assert.equal(metadataEndpoint('https://172.16.28.1:443/tok'), undefined);
  assert.equal(metadataEndpoint('not a url'), undefined);
});

test('the warm-up unit ignores failure and has a start timeout', () => {
  const u = warmupUnit('172.16.28.1', 4000);
  assert.match(u, /^ExecStart=-\/usr\/bin\/bash -c 'exec 3<>\/dev\/tcp\/172\.16\.28\.1\/4000'$/m);
  assert.match(u, /^TimeoutStartSec=5s$/m);
  assert.match(u, /^Type=oneshot$/m);
});
