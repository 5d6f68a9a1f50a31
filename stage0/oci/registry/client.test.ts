// The registry client against small plain-http Node servers (allowHttp): the auth decisions, error
// texts and bounds that need no real registry. tests/functional/oci-registry-client.test.ts runs it
// against distribution itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RktError } from '../../../common/errors.js';
import { parseDigest } from '../digest.js';
import { MEDIA } from '../documents.js';
import { parseDockerReference } from '../reference.js';
import { RegistryClient, type RegistryOptions } from './client.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, origin: string) => void;

async function withServer(handler: Handler, body: (host: string, seen: http.IncomingMessage[]) => Promise<void>): Promise<void> {
  const seen: http.IncomingMessage[] = [];
  let origin = '';
  const server = http.createServer((req, res) => {
    seen.push(req);
    handler(req, res, origin);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  origin = `http://${host}`;
  try {
    await body(host, seen);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const base: RegistryOptions = { insecureTls: false, allowHttp: true };
const client = (host: string, o: Partial<RegistryOptions> = {}) => new RegistryClient(parseDockerReference(`${host}/a/b:v1`), { ...base, ...o });
const isFetch = (re: RegExp, hint?: RegExp) => (e: unknown) =>
  e instanceof RktError && e.code === 'FETCH' && re.test(e.message) && !e.message.includes('\n') && (!hint || hint.test(e.hint ?? ''));

test('parallel requests that meet a Bearer challenge share one token fetch', async () => {
  let tokens = 0;
  await withServer((req, res, origin) => {
    if (req.url?.startsWith('/token')) {
      tokens++;
      setTimeout(() => res.writeHead(200).end(JSON.stringify({ token: 't1' })), 50);
      return;
    }
    if (req.headers.authorization !== 'Bearer t1') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token",service="s"` }).end();
      return;
    }
    res.writeHead(200, { 'content-type': `${MEDIA.ociManifest}; charset=utf-8`, 'docker-content-digest': 'sha256:' + 'a'.repeat(64) }).end('{}');
  }, async (host) => {
    const c = client(host);
    const ms = await Promise.all([1, 2, 3, 4].map(() => c.getManifest('v1')));
    for (const m of ms) assert.equal(m?.mediaType, MEDIA.ociManifest);
    await c.getManifest('v1');
    assert.equal(tokens, 1);
    c.close();
  });
});

test('Basic challenge: credentials sent; rejected ones are reported as such', async () => {
  const good = 'Basic ' + Buffer.from('u:p').toString('base64');
  await withServer((req, res) => {
    if (req.headers.authorization !== good) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      return;
    }
    res.writeHead(200).end('{}');
  }, async (host) => {
    const ok = client(host, { credentials: { user: 'u', password: 'p' } });
    assert.ok(await ok.getManifest('v1'));
    ok.close();
    const bad = client(host, { credentials: { user: 'u', password: 'wrong', source: '/etc/rkt/auth.d/x.json' } as RegistryOptions['credentials'] });
    await assert.rejects(bad.getManifest('v1'), isFetch(/rejected the credentials \(from \/etc\/rkt\/auth\.d\/x\.json\)/));
    bad.close();
    const none = client(host);
    await assert.rejects(none.getManifest('v1'), isFetch(/requires authentication/, /dockerAuth/));
    none.close();
  });
});

test('registry error bodies, 403 and 5xx become one-line messages with hints', async () => {
  await withServer((req, res) => {
    if (req.url?.includes('forbidden')) {
      res.writeHead(403).end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'no\naccess' }] }));
      return;
    }
    res.writeHead(503).end('<html>busy</html>');
  }, async (host) => {
    const c = client(host);
    await assert.rejects(c.getManifest('forbidden'), isFetch(/access denied \(HTTP 403\) \(DENIED: no access\)/));
    await assert.rejects(c.getManifest('v1'), isFetch(/bad HTTP status 503$/, /try again later/));
    c.close();
  });
});

test('token realms: anonymous refusal, a non-https realm, an unreachable one', async () => {
  await withServer((_req, res, origin) => {
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token"` }).end();
  }, async (host) => {
    const c = client(host);
    await assert.rejects(c.getManifest('v1'), isFetch(/the token server requires credentials \(HTTP 401\)/, /dockerAuth/));
    c.close();
  });
  await withServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="ftp://127.0.0.1/token"' }).end();
  }, async (host) => {
    const c = client(host);
    await assert.rejects(c.getManifest('v1'), isFetch(/token realm ftp:\/\/127\.0\.0\.1\/token is not https/));
    c.close();
  });
  await withServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token"' }).end();
  }, async (host) => {
    const c = client(host);
    await assert.rejects(c.getManifest('v1'), isFetch(/token server 127\.0\.0\.1:1: .*ECONNREFUSED/, /nothing listens there/));
    c.close();
  });
});

test('manifests beyond the bound, bad token answers and bad tags are refused', async () => {
  await withServer((req, res, origin) => {
    if (req.url?.startsWith('/token')) {
      res.writeHead(200).end('{"expires_in": 5}');
      return;
    }
    if (req.url?.includes('/manifests/big')) {
      res.writeHead(200).end(Buffer.alloc(2000));
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token"` }).end();
  }, async (host) => {
    const c = client(host);
    await assert.rejects(c.getManifest('big', { maxBytes: 1000 }), isFetch(/larger than 1000 bytes/));
    await assert.rejects(c.getManifest('v1'), isFetch(/sent no "token" or "access_token"/));
    await assert.rejects(c.getManifest('../../etc'), (e: unknown) => e instanceof RktError && e.code === 'USAGE');
    c.close();
  });
});

test('redirects are bounded; a plain-http registry is refused without allowHttp', async () => {
  await withServer((req, res) => {
    res.writeHead(302, { location: `/loop${req.url?.length ?? 0}` }).end();
  }, async (host) => {
    const c = client(host);
    await assert.rejects(c.openBlob({ mediaType: MEDIA.ociLayerGzip, digest: parseDigest('sha256:' + 'b'.repeat(64), 't'), size: 1, annotations: {} }), isFetch(/more than 10 redirects/));
    c.close();
  });
  await withServer((_req, res) => void res.writeHead(200).end('{}'), async (host) => {
    const c = client(host, { allowHttp: false });
    await assert.rejects(c.getManifest('v1'), isFetch(/answers plain http/, /--insecure-options=http/));
    c.close();
  });
});
