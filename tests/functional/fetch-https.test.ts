// rkt fetch over real HTTPS (test CA via NODE_EXTRA_CA_CERTS) and plain HTTP on 127.0.0.1:
// signature at URL.asc, ETag reuse with --pull-policy=update, http and TLS refusals.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeGpgHome, type GpgHome, type GpgKey } from '../harness/gpg.js';
import { makeTestCa, startTestServer, type TestCa, type TestServer } from '../harness/https-server.js';
import { makeFetchEnv, writeTinyAci, type FetchEnv } from '../harness/fetch-env.js';

let gpg: GpgHome;
let key: GpgKey;
let ca: TestCa;
let srv: TestServer;
let plain: TestServer;
let work: FetchEnv;
let aciBytes: Buffer;
let ascBytes: Buffer;

before(async () => {
  gpg = await makeGpgHome();
  key = await gpg.genKey('HTTPS Publisher <https@example.com>', 'ed25519');
  work = await makeFetchEnv();
  ca = await makeTestCa(path.join(work.root, 'ca'));
  const aci = await writeTinyAci(path.join(work.root, 'app.aci'), { name: 'example.com/web', labels: { version: '2.0' }, gzip: true });
  await key.sign(aci);
  aciBytes = await fs.readFile(aci);
  ascBytes = await fs.readFile(`${aci}.asc`);
  srv = await startTestServer({ ca });
  plain = await startTestServer();
  for (const s of [srv, plain]) {
    s.route('/images/web.aci', { body: aciBytes, etag: '"web-v2"' });
    s.route('/images/web.aci.asc', { body: ascBytes });
    s.route('/images/unsigned.aci', { body: aciBytes });
  }
});

after(async () => {
  await srv?.close();
  await plain?.close();
  await gpg?.cleanup();
  await work?.cleanup();
});

async function trustedEnv(): Promise<FetchEnv> {
  const env = await makeFetchEnv();
  env.env['NODE_EXTRA_CA_CERTS'] = ca.caCert;
  const pub = await key.exportPublic(path.join(env.root, 'pub.asc'));
  const r = await env.rkt(['trust', '--skip-fingerprint-review', '--prefix=example.com/web', pub]);
  assert.equal(r.exitCode, 0, r.stderr);
  return env;
}

test('https fetch verifies URL.asc; a second fetch with pull-policy update reuses the image via ETag', async () => {
  const env = await trustedEnv();
  try {
    const before = srv.count('/images/web.aci');
    const first = await env.rkt(['fetch', srv.url('/images/web.aci')]);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stderr, /signature verified:\n {2}HTTPS Publisher/);
    const second = await env.rkt(['fetch', '--pull-policy=update', srv.url('/images/web.aci')]);
    assert.equal(second.exitCode, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    const after = srv.count('/images/web.aci');
    assert.equal(after.full - before.full, 1, 'the image body is downloaded once');
    assert.equal(after.notModified - before.notModified, 1, 'the second fetch is answered 304 Not Modified');
    const never = await env.rkt(['fetch', '--pull-policy=never', srv.url('/images/web.aci')]);
    assert.equal(never.exitCode, 0, never.stderr);
    assert.equal(srv.count('/images/web.aci').total, after.total, 'pull-policy never does not touch the network');
  } finally {
    await env.cleanup();
  }
});

test('Cache-Control max-age lets pull-policy update reuse the image without asking', async () => {
  const env = await trustedEnv();
  try {
    srv.route('/images/cached.aci', { body: aciBytes, cacheControl: 'max-age=3600' });
    srv.route('/images/cached.aci.asc', { body: ascBytes });
    assert.equal((await env.rkt(['fetch', srv.url('/images/cached.aci')])).exitCode, 0);
    assert.equal((await env.rkt(['fetch', srv.url('/images/cached.aci')])).exitCode, 0);
    assert.equal(srv.count('/images/cached.aci').total, 1);
  } finally {
    await env.cleanup();
  }
});

test('unsigned https image is refused', async () => {
  const env = await trustedEnv();
  try {
    const r = await env.rkt(['fetch', srv.url('/images/unsigned.aci')]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /is not signed: no signature found at https:\/\/127\.0\.0\.1:\d+\/images\/unsigned\.aci\.asc/);
  } finally {
    await env.cleanup();
  }
});

test('plain http is refused unless --insecure-options=http', async () => {
  const env = await trustedEnv();
  try {
    const r = await env.rkt(['fetch', plain.url('/images/web.aci')]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /refusing to fetch .* over plain http/);
    assert.match(r.stderr, /--insecure-options=http/);
    assert.equal(plain.count('/images/web.aci').total, 0);
    const ok = await env.rkt(['--insecure-options=http', 'fetch', plain.url('/images/web.aci')]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stderr, /signature verified:/);
  } finally {
    await env.cleanup();
  }
});

test('an untrusted server certificate is refused unless --insecure-options=tls', async () => {
  const env = await trustedEnv();
  try {
    delete env.env['NODE_EXTRA_CA_CERTS'];
    const r = await env.rkt(['fetch', srv.url('/images/web.aci')]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /NODE_EXTRA_CA_CERTS|insecure-options=tls/);
    const ok = await env.rkt(['--insecure-options=tls', 'fetch', srv.url('/images/web.aci')]);
    assert.equal(ok.exitCode, 0, ok.stderr);
  } finally {
    await env.cleanup();
  }
});

test('basic auth from auth.d is sent to the configured host only', async () => {
  const env = await trustedEnv();
  try {
    const authd = path.join(env.localConfig, 'auth.d');
    await fs.mkdir(authd, { recursive: true });
    await fs.writeFile(
      path.join(authd, 'test.json'),
      JSON.stringify({ rktKind: 'auth', rktVersion: 'v1', domains: [`127.0.0.1:${srv.port}`], type: 'basic', credentials: { user: 'bob', password: 'secret' } }),
    );
    srv.route('/private/web.aci', { body: aciBytes, requireAuth: 'Basic ' + Buffer.from('bob:secret').toString('base64') });
    srv.route('/private/web.aci.asc', { body: ascBytes });
    const r = await env.rkt(['fetch', srv.url('/private/web.aci')]);
    assert.equal(r.exitCode, 0, r.stderr);
    await fs.rm(authd, { recursive: true });
    const denied = await env.rkt(['fetch', '--pull-policy=update', srv.url('/private/web.aci')]);
    assert.equal(denied.exitCode, 254);
    assert.match(denied.stderr, /bad HTTP status code 401/);
    assert.match(denied.stderr, /auth\.d/);
  } finally {
    await env.cleanup();
  }
});
