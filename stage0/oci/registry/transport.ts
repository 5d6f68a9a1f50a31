// The HTTP layer under the registry client: keep-alive agents (several blobs download at once),
// bounded redirects, an Authorization header that only ever goes to the host it belongs to, and
// timeouts so that a registry that accepts and then says nothing fails in bounded time.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { RktError, describeCause, errnoCode } from '../../../common/errors.js';
import { readBounded } from '../../fetch/read-bounded.js';

export interface TransportOptions {
  readonly insecureTls: boolean;
  readonly allowHttp: boolean;
  /** Socket silence (connecting, waiting for headers, or mid-body) that fails a request. */
  readonly idleTimeoutMs: number;
  /** Longest wait from sending a request to its response headers, data or not. */
  readonly headersTimeoutMs: number;
  /** PEM CA certificates trusted besides the system store (tests; rkt itself uses NODE_EXTRA_CA_CERTS). */
  readonly extraCa?: readonly string[];
  readonly debug?: (msg: string) => void;
}

export const MAX_REDIRECTS = 10;

/** A request to send: Authorization goes only to `authHost` over `authProtocol`. */
export interface Outgoing {
  readonly headers: Readonly<Record<string, string>>;
  readonly authorization?: string;
  readonly authHost?: string;
  readonly authProtocol?: string;
}

export interface Opened {
  readonly res: http.IncomingMessage;
  /** Where the response came from, after redirects. */
  readonly url: URL;
}

/** A URL as it may be shown: redirect targets (storage backends) carry signatures in their query. */
export function showUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The server answered the TLS handshake with something else: most likely plain http on that port. */
export function isPlainHttpAnswer(err: unknown): boolean {
  const code = errnoCode(err) ?? '';
  return code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    /wrong version number|packet length too long|http request/i.test(describeCause(err));
}

export class TimeoutError extends Error {}

export function transportHint(err: unknown): string | undefined {
  if (err instanceof TimeoutError) return 'the registry accepted the connection but stopped answering; check the host and port, or try again later';
  const msg = describeCause(err);
  const code = errnoCode(err) ?? '';
  if (/certificate|self.signed|unable to verify|CERT_|unable to get local issuer/i.test(msg) || code.startsWith('CERT_') || code.includes('SELF_SIGNED')) {
    return 'the registry certificate is not trusted: add its CA with NODE_EXTRA_CA_CERTS=<ca.pem>, or skip the check with --insecure-options=tls';
  }
  if (code === 'ECONNREFUSED') return 'nothing listens there: check the registry host and port';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the registry host name does not resolve: check it and the network';
  return undefined;
}

export class Transport {
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;

  constructor(private readonly opts: TransportOptions) {
    const ca = opts.extraCa && opts.extraCa.length > 0 ? [...tls.rootCertificates, ...opts.extraCa] : undefined;
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: !opts.insecureTls, ...(ca ? { ca } : {}) });
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }

  private checkScheme(url: URL): void {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:') {
      if (this.opts.allowHttp) return;
      throw new RktError('FETCH', `refusing to use ${showUrl(url)} over plain http`, {
        hint: 'use a registry on https, or allow plain http with --insecure-options=http',
      });
    }
    throw new RktError('FETCH', `cannot use ${showUrl(url)}: unsupported URL scheme ${url.protocol}`);
  }

  private once(url: URL, headers: Record<string, string>): Promise<http.IncomingMessage> {
    const { idleTimeoutMs, headersTimeoutMs } = this.opts;
    return new Promise((resolve, reject) => {
      const isHttps = url.protocol === 'https:';
      const req = (isHttps ? https : http).request(url, { method: 'GET', headers, agent: isHttps ? this.httpsAgent : this.httpAgent });
      let res: http.IncomingMessage | undefined;
      const headersTimer = setTimeout(() => {
        req.destroy(new TimeoutError(`no response from ${url.host} within ${headersTimeoutMs / 1000} s`));
      }, headersTimeoutMs);
      req.setTimeout(idleTimeoutMs, () => {
        if (res?.complete) return;
        const err = new TimeoutError(`no data from ${url.host} for ${idleTimeoutMs / 1000} s`);
        // Failing the response (when there is one) is what a reader of the body sees.
        res?.destroy(err);
        req.destroy(err);
      });
      req.on('response', (r) => {
        clearTimeout(headersTimer);
        res = r;
        resolve(r);
      });
      req.on('error', (err) => {
        clearTimeout(headersTimer);
        if (!res) reject(err);
      });
      req.end();
    });
  }

  /** GET with redirects; returns the last response, whatever its status, for the caller to judge. */
  async get(start: URL, out: Outgoing): Promise<Opened> {
    let url = start;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      this.checkScheme(url);
      const headers: Record<string, string> = { 'user-agent': 'rkt-ts', ...out.headers };
      const sendAuth = out.authorization !== undefined && url.host === out.authHost && url.protocol === (out.authProtocol ?? url.protocol);
      if (sendAuth && out.authorization !== undefined) headers['authorization'] = out.authorization;
      const res = await this.once(url, headers);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        res.resume();
        const next = new URL(location, url);
        const keepsAuth = out.authorization !== undefined && next.host === out.authHost && next.protocol === (out.authProtocol ?? next.protocol);
        this.opts.debug?.(`redirect ${status} from ${showUrl(url)} to ${showUrl(next)}${out.authorization !== undefined && !keepsAuth ? ' (Authorization not sent: another host)' : ''}`);
        url = next;
        continue;
      }
      return { res, url };
    }
    throw new RktError('FETCH', `cannot fetch ${showUrl(start)}: more than ${MAX_REDIRECTS} redirects`, { hint: 'the registry or its storage is misconfigured' });
  }
}

/** Reads a whole (small) body, failing past `limit` bytes. */
export async function readBody(res: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy();
    throw new RangeError(`larger than ${limit} bytes (${declared})`);
  }
  return readBounded(res, limit, () => new RangeError(`larger than ${limit} bytes`));
}
