// A real Docker registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 with
// temp storage, TLS from the test CA (or plain http), and optionally distribution's token auth backed
// by a small Node token server here that checks basic credentials, counts requests and signs ES256
// JWTs whose x5c header carries the signing certificate (distribution verifies it against its
// rootcertbundle). Images get in with skopeo copy from an OCI layout, which writeTinyOciLayout makes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, sign, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execa } from 'execa';
import { makeTarBuffer } from './aci.js';
import { makeTestCa, type TestCa } from './https-server.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const TOKEN_SERVICE = 'rkt-test-registry';
export const TOKEN_ISSUER = 'rkt-test-token-issuer';

export interface TokenAuthOptions {
  /** user -> password accepted by the token server. */
  readonly users: Readonly<Record<string, string>>;
  /** Anonymous token requests get pull access (like Docker Hub) instead of 401. */
  readonly anonymousPull?: boolean;
}

export interface RegistryHarnessOptions {
  /** TLS with the test CA (default); false serves plain http. */
  readonly tls?: boolean;
  /** A CA to reuse (else one is made in the registry's temp dir). */
  readonly ca?: TestCa;
  readonly tokenAuth?: TokenAuthOptions;
}

export interface TokenRequest {
  /** The basic-auth user, or undefined for an anonymous request. */
  readonly user: string | undefined;
  readonly service: string | null;
  readonly scopes: readonly string[];
  readonly status: number;
}

/** What the token server answers; changeable between tests. */
export interface TokenBehaviour {
  /** Seconds put in expires_in (and the JWT's exp); undefined leaves expires_in out. */
  expiresIn: number | undefined;
  /** The JSON field carrying the token. */
  field: 'token' | 'access_token';
}

export interface TestRegistry {
  readonly port: number;
  /** 127.0.0.1:<port>, the host part of docker:// references. */
  readonly host: string;
  readonly origin: string;
  readonly ca: TestCa;
  /** The registry's temp dir (storage, config, log). */
  readonly root: string;
  /** Every token request so far, oldest first (empty without token auth). */
  readonly tokenRequests: TokenRequest[];
  readonly token: TokenBehaviour;
  readonly tokenOrigin: string | undefined;
  /** skopeo copy oci:DIR:LAYOUT_TAG docker://HOST/REF (REF is REPO:TAG). */
  pushOciLayout(layoutDir: string, ref: string, opts?: { layoutTag?: string; creds?: { user: string; password: string } }): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An ES256 JWT as distribution's token auth reads it: x5c names the leaf, aud the service. */
function signToken(certPem: string, keyPem: string, claims: Record<string, unknown>): string {
  const leaf = new X509Certificate(certPem).raw.toString('base64');
  const header = { typ: 'JWT', alg: 'ES256', x5c: [leaf] };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), { key: keyPem, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

async function startTokenServer(ca: TestCa, auth: TokenAuthOptions, log: TokenRequest[], behaviour: TokenBehaviour): Promise<{ server: https.Server; origin: string }> {
  const certPem = await fs.readFile(ca.serverCert, 'utf8');
  const keyPem = await fs.readFile(ca.serverKey, 'utf8');
  const server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const service = url.searchParams.get('service');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    let authed = false;
    const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (m?.[1]) {
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      user = colon >= 0 ? decoded.slice(0, colon) : decoded;
      authed = colon >= 0 && auth.users[user] === decoded.slice(colon + 1);
    }
    const answer = (status: number, body: unknown) => {
      log.push({ user, service, scopes, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname !== '/token') return answer(404, { error: 'not found' });
    if (user !== undefined && !authed) return answer(401, { error: 'bad credentials' });
    if (user === undefined && !auth.anonymousPull) return answer(401, { error: 'credentials required' });
    const allowed = authed ? ['pull', 'push', 'delete', '*'] : ['pull'];
    const access = scopes.map(parseScope).filter((a): a is Access => a !== undefined)
      .map((a) => ({ ...a, actions: a.actions.filter((x) => allowed.includes(x)) }));
    const now = Math.floor(Date.now() / 1000);
    const lifetime = behaviour.expiresIn ?? 60;
    const token = signToken(certPem, keyPem, {
      iss: TOKEN_ISSUER, sub: user ?? '', aud: service ?? '', exp: now + lifetime, nbf: now - 5, iat: now,
      jti: randomBytes(8).toString('hex'), access,
    });
    answer(200, { [behaviour.field]: token, ...(behaviour.expiresIn !== undefined ? { expires_in: behaviour.expiresIn } : {}), issued_at: new Date().toISOString() });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function registryConfig(root: string, port: number, ca: TestCa, tls: boolean, tokenOrigin: string | undefined): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(path.join(root, 'storage'))}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (tls) lines.push('  tls:', `    certificate: ${JSON.stringify(ca.serverCert)}`, `    key: ${JSON.stringify(ca.serverKey)}`);
  if (tokenOrigin) {
    lines.push('auth:', '  token:', `    realm: ${tokenOrigin}/token`, `    service: ${TOKEN_SERVICE}`, `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${JSON.stringify(ca.caCert)}`);
  }
  return lines.join('\n') + '\n';
}

/** Waits until the registry answers HTTP at all (200 or 401 on /v2/). */
async function waitReady(origin: string, proc: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited with ${proc.exitCode}: ${await fs.readFile(logFile, 'utf8').catch(() => '')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = (origin.startsWith('https:') ? https : http).get(`${origin}/v2/`, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not come up at ${origin}: ${await fs.readFile(logFile, 'utf8').catch(() => '')}`);
}

export async function startRegistry(opts: RegistryHarnessOptions = {}): Promise<TestRegistry> {
  const tls = opts.tls ?? true;
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-registry-'));
  const ca = opts.ca ?? (await makeTestCa(path.join(root, 'ca')));
  const tokenRequests: TokenRequest[] = [];
  const token: TokenBehaviour = { expiresIn: 300, field: 'token' };
  const tokenSrv = opts.tokenAuth ? await startTokenServer(ca, opts.tokenAuth, tokenRequests, token) : undefined;
  const port = await freePort();
  const configFile = path.join(root, 'config.yml');
  await fs.writeFile(configFile, registryConfig(root, port, ca, tls, tokenSrv?.origin));
  const logFile = path.join(root, 'registry.log');
  const log = createWriteStream(logFile);
  // A clean environment: REGISTRY_* variables would override the config file.
  const proc = spawn(REGISTRY_BIN, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const certDir = path.join(root, 'certs.d');
  await fs.mkdir(certDir);
  await fs.copyFile(ca.caCert, path.join(certDir, 'ca.crt'));
  const policy = path.join(root, 'policy.json');
  await fs.writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  let stopping: Promise<void> | undefined;
  // Idempotent: a test may stop the registry itself and the cleanup stops it again.
  const stop = (): Promise<void> => (stopping ??= stopOnce());
  const stopOnce = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (tokenSrv) {
      tokenSrv.server.closeAllConnections();
      await new Promise<void>((resolve) => tokenSrv.server.close(() => resolve()));
    }
    log.end();
    await fs.rm(root, { recursive: true, force: true });
  };
  try {
    await waitReady(origin, proc, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    host: `127.0.0.1:${port}`,
    origin,
    ca,
    root,
    tokenRequests,
    token,
    tokenOrigin: tokenSrv?.origin,
    async pushOciLayout(layoutDir, ref, pushOpts = {}) {
      const colon = ref.lastIndexOf(':');
      const layoutTag = pushOpts.layoutTag ?? (colon > 0 ? ref.slice(colon + 1) : 'latest');
      const creds = pushOpts.creds ?? (opts.tokenAuth ? Object.entries(opts.tokenAuth.users).map(([user, password]) => ({ user, password }))[0] : undefined);
      const args = ['copy', '--quiet', '--policy', policy, '--authfile', path.join(root, 'no-auth.json'),
        ...(tls ? ['--dest-cert-dir', certDir] : ['--dest-tls-verify=false']),
        ...(creds ? ['--dest-creds', `${creds.user}:${creds.password}`] : []),
        `oci:${layoutDir}:${layoutTag}`, `docker://${`127.0.0.1:${port}`}/${ref}`];
      const r = await execa('skopeo', args, { reject: false, env: { HOME: root, XDG_RUNTIME_DIR: root }, timeout: 60_000 });
      if (r.exitCode !== 0) throw new Error(`skopeo copy to ${ref} failed (${r.exitCode}): ${String(r.stderr)}`);
    },
    stop,
  };
}

export interface TinyOciImage {
  readonly dir: string;
  readonly tag: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
  readonly config: Buffer;
  readonly configDigest: string;
  /** The gzip layer as stored. */
  readonly layer: Buffer;
  readonly layerDigest: string;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function putBlob(dir: string, bytes: Buffer): Promise<string> {
  const d = sha256(bytes);
  await fs.writeFile(path.join(dir, 'blobs', 'sha256', d.slice('sha256:'.length)), bytes);
  return d;
}

/** An OCI image layout with one gzip layer holding `files` (plus `fillerBytes` of random data). */
export async function writeTinyOciLayout(dir: string, spec: { tag?: string; files?: Record<string, string>; fillerBytes?: number } = {}): Promise<TinyOciImage> {
  const tag = spec.tag ?? 'latest';
  await fs.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const files: Record<string, string | Buffer> = { hello: 'hello from an OCI image\n', ...spec.files };
  if (spec.fillerBytes) files['filler'] = randomBytes(spec.fillerBytes);
  const tar = await makeTarBuffer(Object.entries(files).map(([name, body]) => ({
    header: { name, mode: 0o644, size: Buffer.byteLength(body), type: 'file' as const, mtime: new Date(0) }, body,
  })));
  const layer = zlib.gzipSync(tar);
  const layerDigest = await putBlob(dir, layer);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/true'] }, rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
  }));
  const configDigest = await putBlob(dir, config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
  }));
  const manifestDigest = await putBlob(dir, manifest);
  await fs.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await fs.writeFile(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { dir, tag, manifest, manifestDigest, config, configDigest, layer, layerDigest };
}
