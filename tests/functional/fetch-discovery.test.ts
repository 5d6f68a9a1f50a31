// appc meta discovery over real HTTPS on 127.0.0.1: fetch by name:version, parent walk, trust
// by discovered pubkeys, name mismatch refused, dependencies fetched recursively.
//
// AC names cannot carry ":port", so the discovery GET goes to the port in RKT_DISCOVERY_PORT
// (documented in stage0/fetch/README.md); templates in the page carry full URLs with the port.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { openStore } from '../../stage0/store/index.js';
import { makeGpgHome, type GpgHome, type GpgKey } from '../harness/gpg.js';
import { discoveryPage, makeTestCa, startTestServer, type TestServer } from '../harness/https-server.js';
import { makeFetchEnv, writeTinyAci, type FetchEnv, type TinyAci } from '../harness/fetch-env.js';

const HOST = '127.0.0.1';
let gpg: GpgHome;
let key: GpgKey;
let srv: TestServer;
let work: FetchEnv;
let caCert: string;
let pubPath: string;

/** Builds, signs and serves an image at the path the test template gives its name and version. */
async function publish(spec: TinyAci, opts: { as?: string } = {}): Promise<void> {
  const version = spec.labels?.['version'] ?? 'latest';
  const served = opts.as ?? spec.name;
  const file = path.join(work.root, `${served.replace(/\//g, '_')}-${version}.aci`);
  await writeTinyAci(file, spec);
  await key.sign(file);
  const base = `/images/${served}-${version}-linux-amd64`;
  srv.route(`${base}.aci`, { body: await fs.readFile(file), etag: `"${served}-${version}"` });
  srv.route(`${base}.aci.asc`, { body: await fs.readFile(`${file}.asc`) });
}

before(async () => {
  gpg = await makeGpgHome();
  key = await gpg.genKey('Acme Images <images@acme.test>', 'rsa');
  work = await makeFetchEnv();
  const ca = await makeTestCa(path.join(work.root, 'ca'));
  caCert = ca.caCert;
  srv = await startTestServer({ ca });
  pubPath = await key.exportPublic(path.join(work.root, 'acme.pub.asc'));
  srv.route('/keys/acme.asc', { body: await fs.readFile(pubPath) });
  const template = `${srv.origin}/images/{name}-{version}-{os}-{arch}.{ext}`;
  // The page for the organisation; deeper names find it by walking up.
  srv.route('/acme', { body: discoveryPage(`${HOST}/acme`, template, `${srv.origin}/keys/acme.asc`), contentType: 'text/html' });
  await publish({ name: `${HOST}/acme/app`, labels: { version: '1.0' } });
  await publish({ name: `${HOST}/acme/base`, labels: { version: '3.1' } });
  await publish({ name: `${HOST}/acme/top`, labels: { version: '1.0' }, dependencies: [{ imageName: `${HOST}/acme/base`, labels: { version: '3.1' } }] });
  await publish({ name: `${HOST}/acme/evil`, labels: { version: '1.0' } }, { as: `${HOST}/acme/victim` });
});

after(async () => {
  await srv?.close();
  await gpg?.cleanup();
  await work?.cleanup();
});

async function discoveryEnv(trustKey: boolean): Promise<FetchEnv> {
  const env = await makeFetchEnv();
  env.env['NODE_EXTRA_CA_CERTS'] = caCert;
  env.env['RKT_DISCOVERY_PORT'] = String(srv.port);
  if (trustKey) {
    const r = await env.rkt(['trust', '--skip-fingerprint-review', `--prefix=${HOST}/acme`, pubPath]);
    assert.equal(r.exitCode, 0, r.stderr);
  }
  return env;
}

test('fetch by name:version discovers, verifies, and then finds the image in the store', async () => {
  const env = await discoveryEnv(true);
  try {
    const r = await env.rkt(['fetch', `${HOST}/acme/app:1.0`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha512-[0-9a-f]{32}$/);
    assert.match(r.stderr, /signature verified:\n {2}Acme Images <images@acme.test>/);
    const pages = srv.count('/acme').total;
    const again = await env.rkt(['fetch', '--pull-policy=new', `${HOST}/acme/app:1.0`]);
    assert.equal(again.stdout, r.stdout);
    assert.equal(srv.count('/acme').total, pages, 'pull-policy new takes the stored image without discovery');
    const missing = await env.rkt(['fetch', '--pull-policy=never', `${HOST}/acme/app:9.9`]);
    assert.equal(missing.exitCode, 254);
    assert.match(missing.stderr, /not in the store/);
  } finally {
    await env.cleanup();
  }
});

test('an unknown name fails discovery with a clear message', async () => {
  const env = await discoveryEnv(true);
  try {
    const r = await env.rkt(['fetch', `${HOST}/nowhere/app:1.0`]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /cannot discover image 127.0.0.1\/nowhere\/app:1.0/);
  } finally {
    await env.cleanup();
  }
});

test('rkt trust without a key discovers the prefix pubkeys', async () => {
  const env = await discoveryEnv(false);
  try {
    const t = await env.rkt(['trust', '--skip-fingerprint-review', `--prefix=${HOST}/acme/app`]);
    assert.equal(t.exitCode, 0, t.stderr);
    assert.match(t.stdout, new RegExp(`Added key for prefix "${HOST}/acme/app" at ".*/${key.fingerprint}"`));
    const r = await env.rkt(['fetch', `${HOST}/acme/app:1.0`]);
    assert.equal(r.exitCode, 0, r.stderr);
  } finally {
    await env.cleanup();
  }
});

test('--trust-keys-from-https trusts discovered keys fetched over https', async () => {
  const env = await discoveryEnv(false);
  try {
    const refused = await env.rkt(['fetch', `${HOST}/acme/app:1.0`]);
    assert.equal(refused.exitCode, 254);
    assert.match(refused.stderr, /untrusted key/);
    const r = await env.rkt(['--trust-keys-from-https', 'fetch', `${HOST}/acme/app:1.0`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /because of --trust-keys-from-https/);
  } finally {
    await env.cleanup();
  }
});

test('an image whose manifest name differs from the discovered name is refused', async () => {
  const env = await discoveryEnv(true);
  try {
    const r = await env.rkt(['fetch', `${HOST}/acme/victim:1.0`]);
    assert.equal(r.exitCode, 254);
    assert.match(r.stderr, /is named "127.0.0.1\/acme\/evil", not "127.0.0.1\/acme\/victim"/);
    assert.deepEqual(await (await openStore(env.dir)).listImages(), []);
  } finally {
    await env.cleanup();
  }
});

test('dependencies are fetched recursively by discovery', async () => {
  const env = await discoveryEnv(true);
  try {
    const r = await env.rkt(['fetch', `${HOST}/acme/top:1.0`]);
    assert.equal(r.exitCode, 0, r.stderr);
    const names = (await (await openStore(env.dir)).listImages()).map((i) => i.name).sort();
    assert.deepEqual(names, [`${HOST}/acme/base`, `${HOST}/acme/top`]);
  } finally {
    await env.cleanup();
  }
});
