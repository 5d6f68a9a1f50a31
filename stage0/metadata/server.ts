// The running service: the public HTTP listener for apps, the registration listener on a unix socket,
// the per-instance HMAC key, and an orderly shutdown that removes the socket it created.
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';
import { newHmacKey } from './hmac.js';
import { PodRegistry } from './pod-registry.js';
import { handlePublicRequest, redactTarget, type MdsResponse } from './public-api.js';
import { handleRegistrationRequest } from './registration-api.js';
import { readBounded } from '../fetch/read-bounded.js';

export interface MetadataServiceOptions {
  /** TCP port for apps; 0 picks a free one (tests). */
  port: number;
  /** Address to listen on; rkt listened on every IPv4 address so pods on any network reach it. */
  address: string;
  socketPath: string;
  /** One line per request and registration; the service itself never prints. */
  log?: (line: string) => void;
}

export interface RunningMetadataService {
  readonly port: number;
  readonly address: string;
  readonly socketPath: string;
  readonly registry: PodRegistry;
  close(): Promise<void>;
}

const PUBLIC_BODY_LIMIT = 1 << 20;
const REGISTRATION_BODY_LIMIT = 64 << 20;
/** Longest sun_path Linux accepts, less the terminating NUL. */
const MAX_SOCKET_PATH = 107;

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return readBounded(req, limit, () => new BodyTooLarge());
}

function send(res: http.ServerResponse, r: MdsResponse): void {
  const body = Buffer.from(r.body, 'utf8');
  res.writeHead(r.status, { ...r.headers, 'Content-Length': String(body.length) });
  res.end(body);
}

function makeServer(limit: number, handle: (req: http.IncomingMessage, body: Buffer) => MdsResponse, log: (l: string) => void): http.Server {
  const server = http.createServer((req, res) => {
    readBody(req, limit).then(
      (body) => {
        const r = handle(req, body);
        send(res, r);
        log(`${req.method ?? '?'} ${redactTarget(req.url ?? '')} - ${r.status}`);
      },
      (err: unknown) => {
        if (err instanceof BodyTooLarge) send(res, { status: 413, headers: { 'Content-Type': 'text/plain; charset=us-ascii', Connection: 'close' }, body: 'request body too large\n' });
        else res.destroy();
      },
    );
  });
  // A stuck or slow client must not hold a connection forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

function listenTcp(server: http.Server, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host: address, exclusive: true }, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : port);
    });
  });
}

function listenUnix(server: http.Server, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => reject(err);
    server.once('error', onError);
    server.listen(file, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** True when something accepts connections on the socket (another service instance). */
function socketAnswers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Clears the way for our socket: a dead one from a crashed instance goes, a live one or a non-socket stays. */
async function claimSocketPath(file: string): Promise<void> {
  const st = await fs.lstat(file).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) {
    throw new RktError('MDS', `cannot create registration socket ${file}: a file that is not a socket is in the way`, { hint: 'remove it if it is not needed' });
  }
  if (await socketAnswers(file)) {
    throw new RktError('MDS', `metadata service already running: ${file} accepts connections`, { hint: 'stop the other "rkt metadata-service" first, or use another --dir' });
  }
  await fs.unlink(file);
}

function listenError(err: unknown, address: string, port: number): RktError {
  const code = errnoCode(err);
  const where = `${address.includes(':') ? `[${address}]` : address}:${port}`;
  if (code === 'EADDRINUSE') {
    return new RktError('MDS', `cannot listen on ${where}: address already in use`, {
      hint: 'another metadata service (or program) holds the port; stop it or choose another with --listen-port',
      cause: err,
    });
  }
  if (code === 'EACCES') return new RktError('MDS', `cannot listen on ${where}: permission denied`, { hint: 'ports below 1024 need root', cause: err });
  if (code === 'EADDRNOTAVAIL') return new RktError('MDS', `cannot listen on ${where}: no such local address`, { hint: 'check --listen-address', cause: err });
  return new RktError('MDS', `cannot listen on ${where}: ${code ?? String(err)}`, { cause: err });
}

/** Starts both listeners. Throws RktError('MDS') when the port or the socket cannot be taken. */
export async function startMetadataService(o: MetadataServiceOptions): Promise<RunningMetadataService> {
  const log = o.log ?? ((): void => {});
  if (Buffer.byteLength(o.socketPath) > MAX_SOCKET_PATH) {
    throw new RktError('MDS', `registration socket path is too long (${Buffer.byteLength(o.socketPath)} bytes, limit ${MAX_SOCKET_PATH}): ${o.socketPath}`, { hint: 'use a shorter --dir' });
  }
  const registry = new PodRegistry();
  const hmacKey = newHmacKey();
  const publicServer = makeServer(PUBLIC_BODY_LIMIT, (req, body) => handlePublicRequest({ registry, hmacKey }, {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    remoteAddress: req.socket.remoteAddress,
    contentType: req.headers['content-type'],
    body,
  }), log);
  let port: number;
  try {
    port = await listenTcp(publicServer, o.port, o.address);
  } catch (err) {
    throw listenError(err, o.address, o.port);
  }
  const regState = { registry, port, onChange: (what: string, uuid: string) => log(`pod ${uuid} ${what}`) };
  const regServer = makeServer(REGISTRATION_BODY_LIMIT, (req, body) => handleRegistrationRequest(regState, {
    method: req.method ?? 'GET', url: req.url ?? '/', body,
  }), () => {});
  try {
    await fs.mkdir(path.dirname(o.socketPath), { recursive: true, mode: 0o755 });
    await claimSocketPath(o.socketPath);
    // Bind under a temporary name and restrict it before it gets its real name, so it is never reachable with
    // loose permissions; link() rather than rename() so a rival instance that got there first is not replaced.
    const tmp = `${o.socketPath}.${process.pid}.tmp`;
    await fs.rm(tmp, { force: true });
    await listenUnix(regServer, tmp);
    await fs.chmod(tmp, 0o600);
    try {
      await fs.link(tmp, o.socketPath);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      throw new RktError('MDS', `metadata service already running: ${o.socketPath} appeared while starting`, { hint: 'stop the other "rkt metadata-service" first, or use another --dir' });
    } finally {
      await fs.unlink(tmp).catch(() => {});
    }
  } catch (err) {
    await closeServer(publicServer);
    if (regServer.listening) await closeServer(regServer);
    if (err instanceof RktError) throw err;
    throw new RktError('MDS', `cannot create registration socket ${o.socketPath}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  const st = await fs.stat(o.socketPath);
  return {
    port,
    address: o.address,
    socketPath: o.socketPath,
    registry,
    async close() {
      await Promise.all([closeServer(publicServer), closeServer(regServer)]);
      // Remove the socket only if it is still ours (not replaced by a newer instance).
      const now = await fs.stat(o.socketPath).catch(() => undefined);
      if (now && now.ino === st.ino && now.dev === st.dev) await fs.unlink(o.socketPath).catch(() => {});
    },
  };
}
