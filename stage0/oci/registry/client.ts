// A client of one repository on a Docker Registry HTTP API v2 / OCI distribution registry: manifests
// by tag or digest, blobs as streams, and the auth dance (anonymous, Basic, Bearer tokens from the
// realm the registry names). It checks no digests (the puller does) but bounds every size.
import type http from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { RktError, describeCause } from '../../../common/errors.js';
import { parseDigest } from '../digest.js';
import { MANIFEST_ACCEPT, MAX_DOCUMENT_BYTES, type Descriptor } from '../documents.js';
import { formatDockerReference, type DockerReference } from '../reference.js';
import type { ImageSource } from '../source.js';
import type { Credentials, FoundCredentials } from './credentials.js';
import { isPlainHttpAnswer, readBody, showUrl, Transport, transportHint, type Opened } from './transport.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

export interface RegistryOptions {
  /** Skip TLS certificate checks (--insecure-options=tls). */
  readonly insecureTls: boolean;
  /** Allow a registry (or token realm) on plain http (--insecure-options=http). */
  readonly allowHttp: boolean;
  readonly credentials?: Credentials | FoundCredentials;
  /** Socket silence that fails a request, body included (default 30 s). */
  readonly idleTimeoutMs?: number;
  /** Longest wait for response headers (default 60 s). */
  readonly headersTimeoutMs?: number;
  /** PEM CAs trusted besides the system store; rkt itself relies on NODE_EXTRA_CA_CERTS. */
  readonly extraCa?: readonly string[];
  /** Told each decision (URLs, auth scheme, token fetches, redirects); never given a secret. */
  readonly debug?: (msg: string) => void;
  /** Called as a blob's body arrives: (digest, bytes so far, descriptor size). */
  readonly onProgress?: (what: string, received: number, total: number | undefined) => void;
}

export interface FetchedManifest {
  readonly bytes: Buffer;
  /** Content-Type without parameters. */
  readonly mediaType: string | undefined;
  readonly digestHeader: string | undefined;
}

const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_HEADERS_MS = 60_000;
const DEFAULT_TOKEN_SECONDS = 60;
const MAX_TOKEN_RESPONSE = 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

type AuthState =
  | { readonly kind: 'basic' }
  | { readonly kind: 'bearer'; readonly realm: URL; readonly service: string | undefined; readonly scope: string };

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

function oneLine(s: string, max = 200): string {
  const t = s.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first error of a registry's `{"errors":[{"code","message"}]}` body, as "CODE: message". */
function registryErrorText(body: Buffer): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(v) || !Array.isArray(v['errors'])) return undefined;
  const first: unknown = v['errors'][0];
  if (!isRecord(first)) return undefined;
  const code = typeof first['code'] === 'string' ? first['code'] : undefined;
  const message = typeof first['message'] === 'string' ? first['message'] : undefined;
  if (!code && !message) return undefined;
  return oneLine([code, message].filter(Boolean).join(': '));
}

async function errorDetail(res: http.IncomingMessage): Promise<string> {
  try {
    const text = registryErrorText(await readBody(res, MAX_ERROR_BODY));
    return text ? ` (${text})` : '';
  } catch {
    return '';
  }
}

function mediaTypeOf(res: http.IncomingMessage): string | undefined {
  const ct = res.headers['content-type'];
  if (!ct) return undefined;
  const mt = ct.split(';')[0]?.trim().toLowerCase();
  return mt || undefined;
}

export class RegistryClient {
  private readonly transport: Transport;
  private readonly image: string;
  private protocol: 'https:' | 'http:' | undefined;
  private auth: AuthState | undefined;
  private token: Token | undefined;
  private tokenInFlight: Promise<Token> | undefined;

  constructor(readonly ref: DockerReference, private readonly opts: RegistryOptions) {
    this.transport = new Transport({
      insecureTls: opts.insecureTls,
      allowHttp: opts.allowHttp,
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_MS,
      headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_MS,
      ...(opts.extraCa ? { extraCa: opts.extraCa } : {}),
      ...(opts.debug ? { debug: opts.debug } : {}),
    });
    this.image = formatDockerReference(ref, false);
  }

  private debug(msg: string): void {
    this.opts.debug?.(`registry ${this.ref.apiHost}: ${msg}`);
  }

  private fail(what: string, why: string, hint?: string, cause?: unknown): RktError {
    return new RktError('FETCH', `cannot fetch ${what} of ${this.image} from ${this.ref.apiHost}: ${why}`, {
      ...(hint ? { hint } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  private credsHint(): string {
    return `add credentials for ${this.ref.host} to auth.d (rktKind "dockerAuth") or ~/.docker/config.json (docker login)`;
  }

  private credsSource(): string {
    const c = this.opts.credentials;
    return c && 'source' in c ? ` (from ${c.source})` : '';
  }

  private basicHeader(): string | undefined {
    const c = this.opts.credentials;
    return c ? 'Basic ' + Buffer.from(`${c.user}:${c.password}`).toString('base64') : undefined;
  }

  /** Sends one GET to the registry, choosing https (or, when allowed, plain http) on first use. */
  private async send(path: string, headers: Record<string, string>, authorization: string | undefined, what: string): Promise<Opened> {
    const protocols: Array<'https:' | 'http:'> = this.protocol ? [this.protocol] : ['https:', 'http:'];
    for (const protocol of protocols) {
      const url = new URL(`${protocol}//${this.ref.apiHost}${path}`);
      this.debug(`GET ${showUrl(url)}${authorization ? ` with ${authorization.split(' ')[0]} authorization` : ''}`);
      try {
        const opened = await this.transport.get(url, {
          headers,
          ...(authorization !== undefined ? { authorization, authHost: url.host, authProtocol: url.protocol } : {}),
        });
        this.protocol = protocol;
        return opened;
      } catch (err) {
        if (err instanceof RktError) throw err;
        if (protocol === 'https:' && !this.protocol && isPlainHttpAnswer(err)) {
          if (this.opts.allowHttp) {
            this.debug('the registry does not speak TLS; using plain http (allowed by --insecure-options=http)');
            continue;
          }
          throw this.fail(what, 'the registry answers plain http, not https', 'allow plain http for it with --insecure-options=http', err);
        }
        throw this.fail(what, describeCause(err), transportHint(err), err);
      }
    }
    throw this.fail(what, 'no protocol left to try');
  }

  private async authorization(what: string): Promise<string | undefined> {
    const a = this.auth;
    if (!a) return undefined;
    if (a.kind === 'basic') return this.basicHeader();
    if (!this.token || Date.now() >= this.token.expiresAt) {
      if (this.token) this.debug('token expired; fetching a new one');
      this.token = await this.fetchToken(a, what);
    }
    return `Bearer ${this.token.value}`;
  }

  private fetchToken(a: Extract<AuthState, { kind: 'bearer' }>, what: string): Promise<Token> {
    // Parallel blob downloads that all meet an expired token share one fetch.
    if (!this.tokenInFlight) {
      this.tokenInFlight = this.fetchTokenOnce(a, what).finally(() => {
        this.tokenInFlight = undefined;
      });
    }
    return this.tokenInFlight;
  }

  private async fetchTokenOnce(a: Extract<AuthState, { kind: 'bearer' }>, what: string): Promise<Token> {
    const url = new URL(a.realm.href);
    if (a.service !== undefined) url.searchParams.set('service', a.service);
    url.searchParams.set('scope', a.scope);
    const basic = this.basicHeader();
    this.debug(`fetching a token from ${url.href}${basic ? ` with the credentials for ${this.ref.host}${this.credsSource()}` : ' anonymously'}`);
    const started = Date.now();
    let opened: Opened;
    try {
      opened = await this.transport.get(url, {
        headers: { accept: 'application/json' },
        ...(basic ? { authorization: basic, authHost: url.host, authProtocol: url.protocol } : {}),
      });
    } catch (err) {
      if (err instanceof RktError) throw err;
      throw this.fail(what, `token server ${url.host}: ${describeCause(err)}`, transportHint(err), err);
    }
    const { res } = opened;
    const status = res.statusCode ?? 0;
    if (status === 401 || status === 403) {
      res.resume();
      throw this.fail(what, basic ? `the token server refused the credentials${this.credsSource()} (HTTP ${status})` : `the token server requires credentials (HTTP ${status})`,
        basic ? `check the user and password for ${this.ref.host}` : this.credsHint());
    }
    if (status !== 200) {
      const detail = await errorDetail(res);
      throw this.fail(what, `token server ${url.host} answered HTTP ${status}${detail}`, 'the registry\'s token service is failing; try again later');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readBody(res, MAX_TOKEN_RESPONSE)).toString('utf8'));
    } catch (err) {
      throw this.fail(what, `token server ${url.host} sent an unreadable answer: ${describeCause(err)}`, 'the registry\'s token service is misbehaving', err);
    }
    if (!isRecord(parsed)) throw this.fail(what, `token server ${url.host} did not answer a JSON object`);
    const tok = typeof parsed['token'] === 'string' && parsed['token'] !== '' ? parsed['token']
      : typeof parsed['access_token'] === 'string' && parsed['access_token'] !== '' ? parsed['access_token'] : undefined;
    if (tok === undefined) throw this.fail(what, `token server ${url.host} sent no "token" or "access_token"`);
    const exp = parsed['expires_in'];
    const seconds = typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp : DEFAULT_TOKEN_SECONDS;
    this.debug(`token received (valid for ${seconds} s)`);
    return { value: tok, expiresAt: started + seconds * 1000 };
  }

  /** Chooses how to answer a 401 from its challenges: Bearer when offered, else Basic. */
  private adoptChallenge(challenges: readonly Challenge[], what: string, sent: string | undefined): void {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
    if (bearer) {
      const realmText = bearer.params['realm'] ?? '';
      let realm: URL;
      try {
        realm = new URL(realmText);
      } catch {
        throw this.fail(what, `the registry names an invalid token realm ${JSON.stringify(oneLine(realmText, 100))}`);
      }
      if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.opts.allowHttp)) {
        throw this.fail(what, `the registry's token realm ${showUrl(realm)} is not https`, 'allow plain http with --insecure-options=http if you trust the network');
      }
      const service = bearer.params['service'];
      const scope = `repository:${this.ref.repository}:pull`;
      const cur = this.auth;
      const same = cur?.kind === 'bearer' && cur.realm.href === realm.href && cur.service === service;
      // A request that went out before a parallel one fetched the token must not throw that token away;
      // only a token the registry itself refused is dropped.
      if (same && this.token && sent !== `Bearer ${this.token.value}`) return;
      this.debug(`auth scheme Bearer (realm ${showUrl(realm)}${service !== undefined ? `, service ${JSON.stringify(service)}` : ''}, scope ${scope})`);
      this.auth = { kind: 'bearer', realm, service, scope };
      this.token = undefined;
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.opts.credentials) {
        throw this.fail(what, 'the registry requires authentication (HTTP 401, Basic)', this.credsHint());
      }
      this.debug(`auth scheme Basic with the credentials for ${this.ref.host}${this.credsSource()}`);
      this.auth = { kind: 'basic' };
      return;
    }
    const schemes = challenges.map((c) => c.scheme).join(', ');
    throw this.fail(what, schemes ? `the registry asks for unsupported authentication (${oneLine(schemes, 60)})` : 'the registry requires authentication (HTTP 401) but sent no challenge',
      this.credsHint());
  }

  /** A GET with auth: one retry after a 401, with whatever the challenge asks for. */
  private async authedGet(path: string, headers: Record<string, string>, what: string): Promise<Opened> {
    let authorization = await this.authorization(what);
    let opened = await this.send(path, headers, authorization, what);
    if (opened.res.statusCode !== 401) return opened;
    const challenges = parseWwwAuthenticate((opened.res.headersDistinct['www-authenticate'] ?? []).join(', '));
    opened.res.resume();
    const hadAuth = authorization !== undefined;
    const before = this.auth?.kind;
    this.adoptChallenge(challenges, what, authorization);
    if (hadAuth && before === 'basic' && this.auth?.kind === 'basic') {
      throw this.fail(what, `the registry rejected the credentials${this.credsSource()} (HTTP 401)`, `check the user and password for ${this.ref.host}`);
    }
    authorization = await this.authorization(what);
    opened = await this.send(path, headers, authorization, what);
    if (opened.res.statusCode === 401) {
      opened.res.resume();
      const why = this.auth?.kind === 'bearer'
        ? (this.opts.credentials ? `the registry refused the token issued for the credentials${this.credsSource()} (HTTP 401)` : 'the registry requires authentication (HTTP 401)')
        : `the registry rejected the credentials${this.credsSource()} (HTTP 401)`;
      throw this.fail(what, why, this.opts.credentials ? `check that the credentials for ${this.ref.host} may pull ${this.ref.repository}` : this.credsHint());
    }
    return opened;
  }

  private checkReference(reference: string): void {
    if (reference.includes(':')) parseDigest(reference, `the reference of ${this.image}`);
    else if (!TAG.test(reference)) {
      throw new RktError('USAGE', `invalid tag ${JSON.stringify(oneLine(reference, 140))} for ${this.image}`, { hint: 'a tag is up to 128 letters, digits, "_", "." and "-"' });
    }
  }

  private async statusError(opened: Opened, what: string, notFoundHint: string): Promise<RktError> {
    const status = opened.res.statusCode ?? 0;
    const detail = await errorDetail(opened.res);
    if (status === 404) return this.fail(what, `not found (HTTP 404)${detail}`, notFoundHint);
    if (status === 403) return this.fail(what, `access denied (HTTP 403)${detail}`, this.opts.credentials ? `check that the credentials for ${this.ref.host} may pull ${this.ref.repository}` : this.credsHint());
    if (status === 429) return this.fail(what, `rate limited (HTTP 429)${detail}`, 'wait and try again, or log in to get a higher limit');
    return this.fail(what, `bad HTTP status ${status}${detail}`, status >= 500 ? 'the registry is failing; try again later' : undefined);
  }

  /** The manifest or index at a tag or digest; undefined on 404 only when `missingOk`. */
  async getManifest(reference: string, opts: { missingOk?: boolean; maxBytes?: number } = {}): Promise<FetchedManifest | undefined> {
    this.checkReference(reference);
    const what = `manifest ${reference}`;
    const limit = Math.min(opts.maxBytes ?? MAX_DOCUMENT_BYTES, MAX_DOCUMENT_BYTES);
    const opened = await this.authedGet(`/v2/${this.ref.repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT }, what);
    const { res } = opened;
    if (res.statusCode === 404 && opts.missingOk) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) {
      throw await this.statusError(opened, what, `check the repository name and the ${reference.includes(':') ? 'digest' : 'tag'}, and that the image was pushed to ${this.ref.host}`);
    }
    let bytes: Buffer;
    try {
      bytes = await readBody(res, limit);
    } catch (err) {
      if (err instanceof RangeError) throw this.fail(what, `the manifest is ${err.message}`, 'the registry serves something that is not an image manifest');
      throw this.fail(what, describeCause(err), transportHint(err), err);
    }
    const dh = res.headers['docker-content-digest'];
    const digestHeader = typeof dh === 'string' && dh !== '' ? dh.trim() : undefined;
    const mediaType = mediaTypeOf(res);
    this.debug(`manifest ${reference}: ${bytes.length} bytes, ${mediaType ?? 'no content type'}${digestHeader ? `, ${digestHeader}` : ''}`);
    return { bytes, mediaType, digestHeader };
  }

  /** A blob's body, bounded by the descriptor's size; errors reach the stream as RktErrors. */
  async openBlob(desc: Descriptor): Promise<Readable> {
    const digest = desc.digest.text;
    const what = `blob ${digest}`;
    const opened = await this.authedGet(`/v2/${this.ref.repository}/blobs/${digest}`, { accept: '*/*' }, what);
    const { res } = opened;
    if (res.statusCode !== 200) {
      throw await this.statusError(opened, what, 'the image names a blob the registry does not have: push the image again');
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > desc.size) {
      res.destroy();
      throw this.fail(what, `the registry sends ${declared} bytes but the descriptor says ${desc.size}`, 'the image or the registry is corrupt');
    }
    const from = opened.url.host === this.ref.apiHost ? '' : ` (from ${opened.url.host})`;
    const onProgress = this.opts.onProgress;
    let received = 0;
    const fail = (why: string, err?: unknown) => this.fail(what, `${why}${from}`, err === undefined ? 'the image or the registry is corrupt' : transportHint(err), err);
    const bounded = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        received += chunk.length;
        if (received > desc.size) {
          cb(fail(`more than the ${desc.size} bytes the descriptor says`));
          return;
        }
        onProgress?.(digest, received, desc.size);
        cb(null, chunk);
      },
    });
    res.on('error', (err) => bounded.destroy(err instanceof RktError ? err : fail(describeCause(err), err)));
    bounded.on('close', () => {
      if (!res.complete) res.destroy();
    });
    res.pipe(bounded);
    return bounded;
  }

  close(): void {
    this.transport.close();
  }
}

/** An ImageSource over a registry: the top document is the manifest at the reference's digest, else its tag. */
export function registrySource(ref: DockerReference, opts: RegistryOptions): ImageSource {
  return clientImageSource(new RegistryClient(ref, opts));
}

/** The ImageSource of an existing client, so a signature check can share its token and connections. */
export function clientImageSource(client: RegistryClient): ImageSource {
  const ref = client.ref;
  const must = (m: FetchedManifest | undefined, reference: string): FetchedManifest => {
    if (!m) throw new RktError('INTERNAL', `manifest ${reference} of ${formatDockerReference(ref)} vanished`);
    return m;
  };
  return {
    description: `docker://${formatDockerReference(ref)}`,
    async top() {
      const reference = ref.digest?.text ?? ref.tag ?? 'latest';
      const m = must(await client.getManifest(reference), reference);
      return { bytes: m.bytes, mediaType: m.mediaType, expectedDigest: ref.digest?.text ?? m.digestHeader };
    },
    async manifest(desc) {
      return must(await client.getManifest(desc.digest.text, { maxBytes: desc.size }), desc.digest.text).bytes;
    },
    blob: (desc) => client.openBlob(desc),
    async close() {
      client.close();
    },
  };
}
