// A real HTTPS (or HTTP) server on 127.0.0.1 for tests, with a test CA made by the openssl
// CLI: serves ACIs, signatures, keys and discovery pages, honours ETag/Cache-Control, counts
// requests, and can trickle a body slowly (to interrupt a download mid-way).
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { execa } from 'execa';

export interface TestCa {
  /** PEM of the CA certificate: give it to rkt as NODE_EXTRA_CA_CERTS. */
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/** Makes a CA and a server certificate for 127.0.0.1 and localhost in `dir`. */
export async function makeTestCa(dir: string): Promise<TestCa> {
  await fs.mkdir(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await execa('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=rkt-ts test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await execa('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  await fs.writeFile(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  await execa('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf')]);
  return { caCert: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key') };
}

export interface Route {
  readonly body: Buffer;
  readonly contentType?: string;
  /** Send this ETag and answer If-None-Match with 304. */
  readonly etag?: string;
  readonly cacheControl?: string;
  /** Trickle the body at about this many bytes per second. */
  readonly bytesPerSecond?: number;
  readonly status?: number;
  /** Answer 401 unless the Authorization header equals this. */
  readonly requireAuth?: string;
}

export interface RequestCount {
  total: number;
  /** Requests answered with a body (200). */
  full: number;
  notModified: number;
  /** Body bytes written so far (all requests). */
  bytesSent: number;
}

export interface TestServer {
  readonly port: number;
  /** https://127.0.0.1:<port> (or http://). */
  readonly origin: string;
  url(p: string): string;
  /** Serves `body` at the path (query strings are ignored when matching). */
  route(p: string, route: Route): void;
  count(p: string): RequestCount;
  close(): Promise<void>;
}

export async function startTestServer(opts: { ca?: TestCa } = {}): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const counts = new Map<string, RequestCount>();
  const countFor = (p: string): RequestCount => {
    let c = counts.get(p);
    if (!c) counts.set(p, (c = { total: 0, full: 0, notModified: 0, bytesSent: 0 }));
    return c;
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const c = countFor(p);
    c.total++;
    const r = routes.get(p);
    if (!r) {
      res.writeHead(404).end('not found\n');
      return;
    }
    if (r.requireAuth !== undefined && req.headers.authorization !== r.requireAuth) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end('unauthorized\n');
      return;
    }
    const headers: Record<string, string> = { 'content-type': r.contentType ?? 'application/octet-stream' };
    if (r.etag) headers['etag'] = r.etag;
    if (r.cacheControl) headers['cache-control'] = r.cacheControl;
    if (r.etag && req.headers['if-none-match'] === r.etag) {
      c.notModified++;
      res.writeHead(304, headers).end();
      return;
    }
    c.full++;
    headers['content-length'] = String(r.body.length);
    res.writeHead(r.status ?? 200, headers);
    if (!r.bytesPerSecond) {
      c.bytesSent += r.body.length;
      res.end(r.body);
      return;
    }
    const chunk = Math.max(1, Math.floor(r.bytesPerSecond / 10));
    let off = 0;
    const timer = setInterval(() => {
      if (res.destroyed || off >= r.body.length) {
        clearInterval(timer);
        res.end();
        return;
      }
      const piece = r.body.subarray(off, off + chunk);
      res.write(piece);
      c.bytesSent += piece.length;
      off += chunk;
    }, 100);
    res.on('close', () => clearInterval(timer));
  };
  let server: http.Server;
  if (opts.ca) {
    server = https.createServer({ cert: await fs.readFile(opts.ca.serverCert), key: await fs.readFile(opts.ca.serverKey) }, handler);
  } else {
    server = http.createServer(handler);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `${opts.ca ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: (p) => origin + p,
    route: (p, r) => void routes.set(p, r),
    count: (p) => ({ ...countFor(p) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An appc discovery page with one image template and optionally a pubkeys URL. */
export function discoveryPage(prefix: string, template: string, pubkeys?: string): Buffer {
  const metas = [`<meta name="ac-discovery" content="${prefix} ${template}">`];
  if (pubkeys) metas.push(`<meta name="ac-discovery-pubkeys" content="${prefix} ${pubkeys}">`);
  return Buffer.from(`<!DOCTYPE html>\n<html><head>\n${metas.join('\n')}\n</head><body></body></html>\n`);
}
