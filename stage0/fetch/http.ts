// HTTP(S) GETs for images, signatures, keys and discovery pages: TLS with system CAs (plus
// NODE_EXTRA_CA_CERTS), optional insecure TLS/plain HTTP, auth.d headers, ETag and
// Cache-Control, redirects, streaming to a file with progress.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { RktError, describeCause } from '../../common/errors.js';
import type { AuthEntry } from '../config/config.js';
import { readBounded } from './read-bounded.js';

export interface HttpPolicy {
  /** Skip TLS certificate verification (--insecure-options=tls). */
  readonly insecureTls: boolean;
  /** Allow plain http:// (--insecure-options=http). */
  readonly allowHttp: boolean;
  readonly auth: readonly AuthEntry[];
  /** Called with (received, total) while a body downloads. */
  readonly onProgress?: (url: string, received: number, total: number | undefined) => void;
}

export interface HttpResponseInfo {
  readonly finalUrl: string;
  readonly etag: string | undefined;
  /** Seconds the response may be reused without asking again (0 = always ask). */
  readonly cacheMaxAge: number;
}

export type DownloadResult = ({ readonly status: 'ok' } & HttpResponseInfo) | { readonly status: 'not-modified'; readonly finalUrl: string };

const MAX_REDIRECTS = 10;
const IDLE_TIMEOUT_MS = 60_000;

/** Parses Cache-Control into seconds of reuse: no-store/no-cache mean 0. */
export function parseCacheMaxAge(header: string | undefined): number {
  if (!header) return 0;
  let maxAge = 0;
  for (const raw of header.split(',')) {
    const d = raw.trim().toLowerCase();
    if (d === 'no-store' || d === 'no-cache') return 0;
    const m = /^max-age\s*=\s*"?(\d+)"?$/.exec(d);
    if (m?.[1]) maxAge = Number(m[1]);
  }
  return maxAge;
}

/** The auth.d header for a URL's host, if any (only over https, or when plain http is allowed). */
export function authHeader(url: URL, auth: readonly AuthEntry[]): string | undefined {
  for (const a of auth) {
    if (!a.domains.some((d) => d === url.host || d === url.hostname)) continue;
    if (a.type === 'basic') {
      const user = a.credentials['user'] ?? '';
      const pass = a.credentials['password'] ?? '';
      return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
    }
    const token = a.credentials['token'];
    if (token) return `Bearer ${token}`;
  }
  return undefined;
}

function checkScheme(url: URL, policy: HttpPolicy): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:') {
    if (policy.allowHttp) return;
    throw new RktError('FETCH', `refusing to fetch ${url.href} over plain http`, {
      hint: 'use https, or allow plain http with --insecure-options=http',
    });
  }
  throw new RktError('FETCH', `cannot fetch ${url.href}: unsupported URL scheme ${url.protocol}`);
}

interface OpenedResponse {
  readonly res: http.IncomingMessage;
  readonly url: URL;
}

function requestOnce(url: URL, headers: Record<string, string>, policy: HttpPolicy): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'GET',
      headers,
      timeout: IDLE_TIMEOUT_MS,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: !policy.insecureTls } : {}),
    });
    req.on('response', resolve);
    req.on('timeout', () => req.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000}s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET with redirects; returns the final response (any status) for the caller to judge. */
async function open(urlText: string, extra: Record<string, string>, policy: HttpPolicy): Promise<OpenedResponse> {
  let url = new URL(urlText);
  const firstHost = url.host;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    checkScheme(url, policy);
    const headers: Record<string, string> = { 'user-agent': 'rkt-ts', ...extra };
    // Credentials go only to the host they were configured for, never to a redirect target elsewhere.
    const auth = url.host === firstHost ? authHeader(url, policy.auth) : undefined;
    if (auth) headers['authorization'] = auth;
    let res: http.IncomingMessage;
    try {
      res = await requestOnce(url, headers, policy);
    } catch (err) {
      throw new RktError('FETCH', `cannot fetch ${url.href}: ${describeCause(err)}`, { cause: err, hint: tlsHint(err) });
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
      res.resume();
      url = new URL(res.headers.location, url);
      continue;
    }
    return { res, url };
  }
  throw new RktError('FETCH', `cannot fetch ${urlText}: more than ${MAX_REDIRECTS} redirects`);
}

function tlsHint(err: unknown): string | undefined {
  const msg = describeCause(err);
  if (/certificate|self.signed|unable to verify|CERT_/i.test(msg)) {
    return 'the server certificate is not trusted: add its CA with NODE_EXTRA_CA_CERTS=<ca.pem>, or skip the check with --insecure-options=tls';
  }
  return undefined;
}

function statusError(url: URL, status: number): RktError {
  const hint =
    status === 401 || status === 403
      ? `add credentials for ${url.host} to auth.d in the rkt config`
      : status === 404
        ? 'check the image name, version and URL'
        : undefined;
  return new RktError('FETCH', `cannot fetch ${url.href}: bad HTTP status code ${status}`, hint ? { hint } : {});
}

/** Downloads a URL into `dest`, or reports 304 when `etag` still matches. */
export async function downloadToFile(urlText: string, dest: string, policy: HttpPolicy, etag?: string): Promise<DownloadResult> {
  const { res, url } = await open(urlText, etag ? { 'if-none-match': etag } : {}, policy);
  const status = res.statusCode ?? 0;
  if (status === 304 && etag) {
    res.resume();
    return { status: 'not-modified', finalUrl: url.href };
  }
  if (status !== 200) {
    res.resume();
    throw statusError(url, status);
  }
  const lengthHeader = res.headers['content-length'];
  const total = lengthHeader ? Number(lengthHeader) : undefined;
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      policy.onProgress?.(url.href, received, total);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res, counter, fs.createWriteStream(dest, { mode: 0o600 }));
  } catch (err) {
    throw new RktError('FETCH', `cannot download ${url.href}: ${describeCause(err)}`, { cause: err });
  }
  if (total !== undefined && received !== total) {
    throw new RktError('FETCH', `cannot download ${url.href}: got ${received} of ${total} bytes`);
  }
  const etagHeader = res.headers.etag;
  return { status: 'ok', finalUrl: url.href, etag: etagHeader || undefined, cacheMaxAge: parseCacheMaxAge(res.headers['cache-control']) };
}

/** Fetches a small body into memory (discovery pages, keys, signatures); 404 gives undefined when `missingOk`. */
export async function fetchBytes(urlText: string, policy: HttpPolicy, limit: number, missingOk = false): Promise<{ body: Buffer; finalUrl: string } | undefined> {
  const { res, url } = await open(urlText, {}, policy);
  const status = res.statusCode ?? 0;
  if (status === 404 && missingOk) {
    res.resume();
    return undefined;
  }
  if (status !== 200) {
    res.resume();
    throw statusError(url, status);
  }
  try {
    const body = await readBounded(res, limit, () => new RktError('FETCH', `cannot fetch ${url.href}: response larger than ${limit} bytes`));
    return { body, finalUrl: url.href };
  } catch (err) {
    if (err instanceof RktError) throw err;
    throw new RktError('FETCH', `cannot fetch ${url.href}: ${describeCause(err)}`, { cause: err });
  }
}
