// The metadata warm-up: which URLs yield an endpoint, the script sends real requests (run here against a
// real HTTP server on 127.0.0.1), and the unit is best effort and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metadataEndpoint, warmupScript, warmupUnit } from './mds-warmup.js';

test('metadataEndpoint takes host, port and token prefix from AC_METADATA_URL', () => {
  assert.deepEqual(metadataEndpoint('http://172.16.28.1:46653/tok'), { host: '172.16.28.1', port: 46653, prefix: '/tok' });
  assert.deepEqual(metadataEndpoint('http://[fd00::1]:80/tok'), { host: 'fd00::1', port: 80, prefix: '/tok' });
  assert.equal(metadataEndpoint('http://host.example:80/tok'), undefined);
  assert.deepEqual(metadataEndpoint('http://172.16.28.1/tok'), { host: '172.16.28.1', port: 80, prefix: '/tok' });
  assert.equal(metadataEndpoint('https://172.16.28.1:443/tok'), undefined);
  assert.equal(metadataEndpoint('http://172.16.28.1:80/tok/../x%27'), undefined);
  assert.equal(metadataEndpoint("http://172.16.28.1:80/to'k"), undefined);
  assert.equal(metadataEndpoint('not a url'), undefined);
});

test('the warm-up unit runs the script, ignores failure and has a start timeout', () => {
  const u = warmupUnit();
  assert.match(u, /^ExecStart=-\/usr\/bin\/bash \/rkt\/mds-warmup\.sh$/m);
  assert.match(u, /^TimeoutStartSec=10s$/m);
  assert.match(u, /^Type=oneshot$/m);
  assert.match(u, /^After=dbus\.service$/m);
});

test('the warm-up script sends the pod\'s metadata requests and logs each one\'s time', { skip: process.platform !== 'linux' }, async () => {
  const seen: { url: string | undefined; flavor: string | string[] | undefined }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, flavor: req.headers['metadata-flavor'] });
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('uuid');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const r = await execa('bash', ['-c', warmupScript({ host: '127.0.0.1', port, prefix: '/t0k' })], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(seen.map((s) => s.url), ['/t0k/acMetadata/v1/pod/uuid', '/t0k/acMetadata/v1/pod/uuid', '/t0k/acMetadata/v1/pod/uuid']);
    assert.ok(seen.every((s) => s.flavor === 'AppContainer'));
    assert.match(r.stdout, /^metadata service warm-up 1: HTTP\/1\.1 200 OK in \d+ ms$/m);
    assert.match(r.stdout, /^metadata service warm-up 3: HTTP\/1\.1 200 OK in \d+ ms$/m);
  } finally {
    server.close();
  }
  // nothing listening: reported, not fatal
  const closed = await execa('bash', ['-c', warmupScript({ host: '127.0.0.1', port: 1, prefix: '/t' })], { reject: false });
  assert.equal(closed.exitCode, 0);
  assert.match(closed.stdout, /warm-up 1: cannot connect/);
});
