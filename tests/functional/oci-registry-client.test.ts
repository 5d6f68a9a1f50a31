// The registry client against a real registry (Debian's docker-registry, distribution 2.8) over TLS
// from a test CA, plain http, and token auth from the harness's token server; plus small Node servers
// for what a stock registry will not do: hang, redirect to another host, odd challenges.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { RktError } from '../../common/errors.js';
import { loadConfig } from '../../stage0/config/config.js';
import { parseDigest } from '../../stage0/oci/digest.js';
import { MEDIA, parseManifestOrIndex, type Descriptor } from '../../stage0/oci/documents.js';
import { parseDockerReference } from '../../stage0/oci/reference.js';
import { credentialsFor, RegistryClient, registrySource, type RegistryOptions } from '../../stage0/oci/registry/index.js';
import { makeTestCa, type TestCa } from '../harness/https-server.js';
import { startRegistry, writeTinyOciLayout, TOKEN_SERVICE, type TestRegistry, type TinyOciImage } from '../harness/registry.js';

const CLIENT_MODULE = fileURLToPath(new URL('../../stage0/oci/registry/index.js', import.meta.url));
const REFERENCE_MODULE = fileURLToPath(new URL('../../stage0/oci/reference.js', import.meta.url));

let root: string;
let ca: TestCa;
let caPem: string;
let img: TinyOciImage;
let anon: TestRegistry;
let tokenReg: TestRegistry;
let plain: TestRegistry;
const USER = 'alice';
const PASSWORD = 'pa55-w0rd-for-tests';

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-oci-reg-'));
  ca = await makeTestCa(path.join(root, 'ca'));
  caPem = await fs.readFile(ca.caCert, 'utf8');
  img = await writeTinyOciLayout(path.join(root, 'layout'), { tag: 'v1', fillerBytes: 300_000 });
  [anon, tokenReg, plain] = await Promise.all([
    startRegistry({ ca }),
    startRegistry({ ca, tokenAuth: { users: { [USER]: PASSWORD } } }),
    startRegistry({ ca, tls: false }),
  ]);
  await Promise.all([
    anon.pushOciLayout(img.dir, 'demo/app:v1'),
    tokenReg.pushOciLayout(img.dir, 'private/app:v1'),
    plain.pushOciLayout(img.dir, 'demo/app:v1'),
  ]);
});

after(async () => {
  await Promise.all([anon?.stop(), tokenReg?.stop(), plain?.stop()]);
  if (root) await fs.rm(root, { recursive: true, force: true });
});

function opts(extra: Partial<RegistryOptions> = {}): RegistryOptions {
  return { insecureTls: false, allowHttp: false, extraCa: [caPem], ...extra };
}

function desc(digest: string, size: number, mediaType: string = MEDIA.ociLayerGzip): Descriptor {
  return { mediaType, digest: parseDigest(digest, 'test'), size, annotations: {} };
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** An error as rkt would print it: a FETCH RktError on one line, with a hint. */
function fetchError(re: RegExp, hint?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof RktError, `not an RktError: ${String(e)}`);
    assert.equal(e.code, 'FETCH');
    assert.ok(!e.message.includes('\n'), e.message);
    assert.match(e.message, re);
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  };
}

test('anonymous TLS: manifest by tag and digest, config and layer blobs, in parallel', async () => {
  const ref = parseDockerReference(`${anon.host}/demo/app:v1`);
  const progress: number[] = [];
  const client = new RegistryClient(ref, opts({ onProgress: (_w, got) => progress.push(got) }));
  try {
    const m = await client.getManifest('v1');
    assert.ok(m);
    assert.ok(m.bytes.equals(img.manifest));
    assert.equal(m.mediaType, MEDIA.ociManifest);
    assert.equal(m.digestHeader, img.manifestDigest);
    const byDigest = await client.getManifest(img.manifestDigest);
    assert.ok(byDigest?.bytes.equals(img.manifest));
    const doc = parseManifestOrIndex(m.bytes, m.mediaType, 'test');
    assert.equal(doc.kind, 'manifest');
    if (doc.kind !== 'manifest') return;
    const layer = doc.layers[0];
    assert.ok(layer);
    const [cfg, l1, l2, l3] = await Promise.all([
      client.openBlob(doc.config).then(readAll),
      ...[0, 1, 2].map(() => client.openBlob(layer).then(readAll)),
    ]);
    assert.ok(cfg?.equals(img.config));
    for (const l of [l1, l2, l3]) assert.ok(l?.equals(img.layer));
    assert.equal(progress.at(-1), img.layer.length);
    assert.equal(await client.getManifest('nope', { missingOk: true }), undefined);
    await assert.rejects(client.getManifest('nope'), fetchError(new RegExp(`manifest nope of ${anon.host}/demo/app.*HTTP 404.*MANIFEST_UNKNOWN`), /tag/));
    await assert.rejects(client.openBlob(desc(`sha256:${'0'.repeat(64)}`, 10)), fetchError(/HTTP 404/));
  } finally {
    client.close();
  }
});

test('registrySource: top by tag takes Docker-Content-Digest; by digest the reference\'s', async () => {
  const src = registrySource(parseDockerReference(`${anon.host}/demo/app:v1`), opts());
  const top = await src.top();
  assert.equal(top.expectedDigest, img.manifestDigest);
  assert.equal(src.description, `docker://${anon.host}/demo/app:v1`);
  const cfg = await readAll(await src.blob(desc(img.configDigest, img.config.length, MEDIA.ociConfig)));
  assert.ok(cfg.equals(img.config));
  assert.ok((await src.manifest(desc(img.manifestDigest, img.manifest.length, MEDIA.ociManifest))).equals(img.manifest));
  await src.close();
  const pinned = registrySource(parseDockerReference(`${anon.host}/demo/app@${img.manifestDigest}`), opts());
  const t2 = await pinned.top();
  assert.equal(t2.expectedDigest, img.manifestDigest);
  assert.ok(t2.bytes.equals(img.manifest));
  await pinned.close();
});

test('a blob longer than its descriptor fails the stream', async () => {
  const client = new RegistryClient(parseDockerReference(`${anon.host}/demo/app:v1`), opts());
  try {
    await assert.rejects(client.openBlob(desc(img.layerDigest, 100)), fetchError(/descriptor says 100/));
  } finally {
    client.close();
  }
});

test('untrusted CA refused (hint names NODE_EXTRA_CA_CERTS) unless insecureTls', async () => {
  const ref = parseDockerReference(`${anon.host}/demo/app:v1`);
  const strict = new RegistryClient(ref, { insecureTls: false, allowHttp: false });
  await assert.rejects(strict.getManifest('v1'), fetchError(/certificate|issuer/i, /NODE_EXTRA_CA_CERTS.*insecure-options=tls/));
  strict.close();
  const lax = new RegistryClient(ref, { insecureTls: true, allowHttp: false });
  assert.equal((await lax.getManifest('v1'))?.digestHeader, img.manifestDigest);
  lax.close();
});

test('NODE_EXTRA_CA_CERTS is what rkt trusts the CA through', async () => {
  const script = `
    const { RegistryClient } = await import(${JSON.stringify(CLIENT_MODULE)});
    const { parseDockerReference } = await import(${JSON.stringify(REFERENCE_MODULE)});
    const c = new RegistryClient(parseDockerReference(${JSON.stringify(`${anon.host}/demo/app:v1`)}), { insecureTls: false, allowHttp: false });
    try { console.log((await c.getManifest('v1')).digestHeader); } catch (e) { console.log('ERR ' + e.message); } finally { c.close(); }`;
  const withCa = await execa('node', ['--input-type=module', '-e', script], { env: { NODE_EXTRA_CA_CERTS: ca.caCert }, timeout: 30_000 });
  assert.equal(String(withCa.stdout).trim(), img.manifestDigest);
  const without = await execa('node', ['--input-type=module', '-e', script], { env: { NODE_EXTRA_CA_CERTS: '' }, timeout: 30_000 });
  assert.match(String(without.stdout), /^ERR .*(certificate|issuer)/i);
});

test('a registry on plain http is refused unless allowHttp', async () => {
  const ref = parseDockerReference(`${plain.host}/demo/app:v1`);
  const strict = new RegistryClient(ref, opts());
  await assert.rejects(strict.getManifest('v1'), fetchError(/answers plain http/, /--insecure-options=http/));
  strict.close();
  const debug: string[] = [];
  const lax = new RegistryClient(ref, opts({ allowHttp: true, debug: (m) => debug.push(m) }));
  const m = await lax.getManifest('v1');
  assert.equal(m?.digestHeader, img.manifestDigest);
  assert.ok((await readAll(await lax.openBlob(desc(img.layerDigest, img.layer.length)))).equals(img.layer));
  lax.close();
  assert.ok(debug.some((d) => /plain http/.test(d)), debug.join('\n'));
});

async function emptyHome(): Promise<string> {
  return fs.mkdtemp(path.join(root, 'home-'));
}

function noSecrets(lines: readonly string[]): void {
  const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  for (const l of lines) {
    assert.ok(!l.includes(PASSWORD) && !l.includes(basic) && !/eyJ[A-Za-z0-9_-]{10,}/.test(l), `secret in debug output: ${l}`);
  }
}

test('token auth with credentials from auth.d dockerAuth: one token for several requests', async () => {
  const layer = path.join(root, 'cfg-authd');
  await fs.mkdir(path.join(layer, 'auth.d'), { recursive: true });
  await fs.writeFile(path.join(layer, 'auth.d', 'registry.json'), JSON.stringify({
    rktKind: 'dockerAuth', rktVersion: 'v1', registries: [tokenReg.host], credentials: { user: USER, password: PASSWORD },
  }));
  const cfg = loadConfig({ systemConfig: path.join(root, 'no-system'), localConfig: layer, userConfig: undefined });
  const creds = credentialsFor(tokenReg.host, cfg.dockerAuth, { HOME: await emptyHome() });
  assert.equal(creds?.user, USER);
  const debug: string[] = [];
  const client = new RegistryClient(parseDockerReference(`${tokenReg.host}/private/app:v1`), opts({ credentials: creds, debug: (m) => debug.push(m) }));
  const before = tokenReg.tokenRequests.length;
  try {
    assert.equal((await client.getManifest('v1'))?.digestHeader, img.manifestDigest);
    const blobs = await Promise.all([0, 1, 2].map(() => client.openBlob(desc(img.layerDigest, img.layer.length)).then(readAll)));
    for (const b of blobs) assert.ok(b.equals(img.layer));
  } finally {
    client.close();
  }
  const reqs = tokenReg.tokenRequests.slice(before);
  assert.equal(reqs.length, 1);
  assert.deepEqual(reqs[0], { user: USER, service: TOKEN_SERVICE, scopes: ['repository:private/app:pull'], status: 200 });
  assert.ok(debug.some((d) => /auth scheme Bearer/.test(d)));
  assert.ok(debug.some((d) => d.includes('registry.json')), 'debug names where the credentials came from');
  noSecrets(debug);
});

test('token auth with credentials from docker config.json, token sent as access_token', async () => {
  const dockerDir = path.join(root, 'docker-config');
  await fs.mkdir(dockerDir, { recursive: true });
  await fs.writeFile(path.join(dockerDir, 'config.json'), JSON.stringify({
    auths: { [`https://${tokenReg.host}/v1/`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
  }));
  const creds = credentialsFor(tokenReg.host, [], { HOME: await emptyHome(), DOCKER_CONFIG: dockerDir });
  assert.equal(creds?.password, PASSWORD);
  tokenReg.token.field = 'access_token';
  const client = new RegistryClient(parseDockerReference(`${tokenReg.host}/private/app:v1`), opts({ credentials: creds }));
  try {
    assert.equal((await client.getManifest('v1'))?.digestHeader, img.manifestDigest);
  } finally {
    client.close();
    tokenReg.token.field = 'token';
  }
});

test('expires_in is honoured: an expired token is fetched again', async () => {
  tokenReg.token.expiresIn = 1;
  const client = new RegistryClient(parseDockerReference(`${tokenReg.host}/private/app:v1`), opts({ credentials: { user: USER, password: PASSWORD } }));
  const start = tokenReg.tokenRequests.length;
  try {
    await client.getManifest('v1');
    await client.getManifest('v1');
    assert.equal(tokenReg.tokenRequests.length - start, 1);
    await new Promise((r) => setTimeout(r, 1200));
    await client.getManifest('v1');
    assert.equal(tokenReg.tokenRequests.length - start, 2);
  } finally {
    client.close();
    tokenReg.token.expiresIn = 300;
  }
});

test('401 without credentials, or with a wrong password: one line, a hint, no secret', async () => {
  const ref = parseDockerReference(`${tokenReg.host}/private/app:v1`);
  const none = new RegistryClient(ref, opts());
  await assert.rejects(none.getManifest('v1'), fetchError(/requires credentials|requires authentication/, /auth\.d \(rktKind "dockerAuth"\) or ~\/\.docker\/config\.json/));
  none.close();
  const debug: string[] = [];
  const wrong = new RegistryClient(ref, opts({ credentials: { user: USER, password: 'not-the-password' }, debug: (m) => debug.push(m) }));
  await assert.rejects(wrong.getManifest('v1'), (e: unknown) => fetchError(/refused the credentials/, /check the user and password/)(e) && !(e as Error).message.includes('not-the-password'));
  wrong.close();
  assert.ok(!debug.join('\n').includes('not-the-password'));
});

interface FakeServer {
  readonly port: number;
  readonly seen: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

async function fakeHttps(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, port: number) => void): Promise<FakeServer> {
  const seen: FakeServer['seen'] = [];
  let port = 0;
  const server = https.createServer({ cert: await fs.readFile(ca.serverCert), key: await fs.readFile(ca.serverKey) }, (req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res, port);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

test('a Bearer challenge whose quoted params hold commas and escaped quotes', async () => {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: {}, layers: [] }));
  const service = 'svc, with "quotes"';
  const srv = await fakeHttps((req, res, port) => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname === '/auth,token') {
      const ok = url.searchParams.get('service') === service && url.searchParams.get('scope') === 'repository:x/y:pull';
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { access_token: 'tok-1', expires_in: 600 } : { error: 'bad' }));
      return;
    }
    if (req.headers.authorization !== 'Bearer tok-1') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="https://127.0.0.1:${port}/auth,token",service="svc, with \\"quotes\\"",scope="repository:x/y:pull,push"` }).end();
      return;
    }
    res.writeHead(200, { 'content-type': MEDIA.ociManifest }).end(body);
  });
  const client = new RegistryClient(parseDockerReference(`127.0.0.1:${srv.port}/x/y:v1`), opts());
  try {
    const m = await client.getManifest('v1');
    assert.ok(m?.bytes.equals(body));
    assert.equal(m?.digestHeader, undefined);
    assert.equal(srv.seen.filter((s) => s.path.startsWith('/auth,token')).length, 1);
  } finally {
    client.close();
    await srv.close();
  }
});

test('a registry that accepts and never answers times out quickly, and so does a stalled body', async () => {
  const sockets: net.Socket[] = [];
  const hang = net.createServer((s) => void sockets.push(s));
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  const port = (hang.address() as AddressInfo).port;
  const client = new RegistryClient(parseDockerReference(`127.0.0.1:${port}/x/y:v1`), opts({ idleTimeoutMs: 300 }));
  const t0 = Date.now();
  await assert.rejects(client.getManifest('v1'), fetchError(/no data from 127\.0\.0\.1:\d+ for 0\.3 s/, /stopped answering/));
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  client.close();
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => hang.close(() => resolve()));

  const stall = await fakeHttps((_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write(Buffer.alloc(100));
  });
  const c2 = new RegistryClient(parseDockerReference(`127.0.0.1:${stall.port}/x/y:v1`), opts({ idleTimeoutMs: 300 }));
  const t1 = Date.now();
  const s = await c2.openBlob(desc(`sha256:${'1'.repeat(64)}`, 1000));
  await assert.rejects(readAll(s), fetchError(/no data from/));
  assert.ok(Date.now() - t1 < 3000);
  c2.close();
  await stall.close();
});

test('a blob redirect to another host is followed without the Authorization header', async () => {
  const blob = Buffer.from('blob bytes from the storage backend');
  const blobDigest = `sha256:${(await import('node:crypto')).createHash('sha256').update(blob).digest('hex')}`;
  const storage = await fakeHttps((_req, res) => void res.writeHead(200, { 'content-length': String(blob.length) }).end(blob));
  const basic = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  const registry = await fakeHttps((req, res) => {
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake registry"' }).end();
      return;
    }
    // localhost vs 127.0.0.1: another host, as S3 or a CDN would be.
    res.writeHead(307, { location: `https://localhost:${storage.port}/bucket/blob?X-Amz-Signature=topsecretsig` }).end();
  });
  const debug: string[] = [];
  const client = new RegistryClient(parseDockerReference(`127.0.0.1:${registry.port}/x/y:v1`), opts({ credentials: { user: USER, password: PASSWORD }, debug: (m) => debug.push(m) }));
  try {
    const got = await readAll(await client.openBlob(desc(blobDigest, blob.length)));
    assert.ok(got.equals(blob));
    assert.equal(registry.seen.at(-1)?.authorization, basic);
    assert.equal(storage.seen.length, 1);
    assert.equal(storage.seen[0]?.authorization, undefined);
    assert.match(storage.seen[0]?.path ?? '', /X-Amz-Signature=topsecretsig/);
    assert.ok(debug.some((d) => /auth scheme Basic/.test(d)));
    assert.ok(debug.some((d) => /redirect 307 .* to https:\/\/localhost:\d+\/bucket\/blob \(Authorization not sent/.test(d)), debug.join('\n'));
    assert.ok(!debug.join('\n').includes('topsecretsig'));
    noSecrets(debug);
  } finally {
    client.close();
    await registry.close();
    await storage.close();
  }
});
