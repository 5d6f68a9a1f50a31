// Stage0's side of registration: registerPod/unregisterPod talk to a running `rkt metadata-service`
// over its unix socket and keep the pod dir's `mds-registered` marker in step.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import { parsePodManifest } from '../../common/appc/index.js';
import { RktError, describeCause, errnoCode } from '../../common/errors.js';
import { appImageManifestPath, appInfoManifestPath, podManifestPath } from '../../common/pod-layout.js';
import { mdsRegisteredPath, mdsSocketPath } from './constants.js';
import type { PodRegistration } from './pod-registry.js';

export interface MdsRegistration {
  /** Pass to the stage1 as `--mds-token=<token>`; it is the last path segment of AC_METADATA_URL. */
  token: string;
  /** The service's public TCP port (also recorded in the pod's `mds-registered` marker). */
  port: number;
}

/** Contents of `<podDir>/mds-registered`. */
export interface MdsRegisteredMarker {
  port: number;
  socket: string;
}

export interface RegisterPodOptions {
  /** The rkt data dir (`--dir`); the service socket is `<dataDir>/metadata-svc.sock`. */
  dataDir: string;
  /** The prepared pod's directory (holds `pod` and each app's image manifest). */
  podDir: string;
  uuid: string;
  /** Source addresses that also identify this pod to the service (optional; the token is the primary key). */
  ips?: readonly string[];
  /** Overrides the socket derived from dataDir. */
  socketPath?: string;
}

export interface UnregisterPodOptions {
  podDir: string;
  uuid: string;
  dataDir?: string;
  socketPath?: string;
}

interface SocketReply {
  status: number;
  body: string;
}

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK']);

function unreachable(socket: string, err: unknown): RktError {
  return new RktError('MDS', `cannot reach the metadata service at ${socket}: ${errnoCode(err) ?? describeCause(err)}`, {
    hint: 'start "rkt metadata-service" (with the same --dir) first, or run without --mds-register',
    cause: err,
  });
}

function socketRequest(socket: string, method: string, path: string, body?: string): Promise<SocketReply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const req = http.request(
      {
        socketPath: socket,
        method,
        path,
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {},
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

/** Low level: registers manifests already in memory. Returns the service's public port. */
export async function registerPodWithService(socket: string, reg: PodRegistration): Promise<number> {
  const { uuid, ...body } = reg;
  let r: SocketReply;
  try {
    r = await socketRequest(socket, 'PUT', `/pods/${encodeURIComponent(uuid)}`, JSON.stringify(body));
  } catch (err) {
    throw unreachable(socket, err);
  }
  if (r.status !== 200) {
    throw new RktError('MDS', `metadata service refused pod ${uuid}: ${r.body.trim() || `HTTP ${r.status}`}`);
  }
  let port: unknown;
  try {
    port = (JSON.parse(r.body) as { port?: unknown }).port;
  } catch {
    port = undefined;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RktError('MDS', `metadata service gave an invalid registration reply: ${r.body.slice(0, 200)}`);
  }
  return port;
}

/** Low level: removes a registration. False when the service did not know the pod. */
export async function unregisterPodWithService(socket: string, uuid: string): Promise<boolean> {
  const r = await socketRequest(socket, 'DELETE', `/pods/${encodeURIComponent(uuid)}`);
  if (r.status === 200) return true;
  if (r.status === 404) return false;
  throw new RktError('MDS', `metadata service could not unregister pod ${uuid}: ${r.body.trim() || `HTTP ${r.status}`}`);
}

/** A fresh 256-bit token, as lower-case hex. */
export function newMdsToken(): string {
  return randomBytes(32).toString('hex');
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new RktError('MDS', `cannot register pod: cannot read ${what} ${file}: ${errnoCode(err) ?? describeCause(err)}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RktError('MDS', `cannot register pod: ${what} ${file} is not valid JSON`, { cause: err });
  }
}

async function appManifestFile(podDir: string, app: string): Promise<string> {
  const info = appInfoManifestPath(podDir, app);
  return (await fs.access(info).then(() => true, () => false)) ? info : appImageManifestPath(podDir, app);
}

/**
 * Registers a prepared pod: reads `<podDir>/pod` and each app's image manifest, sends them with a new
 * token, and writes `<podDir>/mds-registered`. Throws RktError('MDS') when the service is not running.
 */
export async function registerPod(o: RegisterPodOptions): Promise<MdsRegistration> {
  const socket = o.socketPath ?? mdsSocketPath(o.dataDir);
  const manifest = await readJsonFile(podManifestPath(o.podDir), 'pod manifest');
  const pod = parsePodManifest(manifest);
  const apps: PodRegistration['apps'] = [];
  for (const app of pod.apps) {
    apps.push({ name: app.name, manifest: await readJsonFile(await appManifestFile(o.podDir, app.name), `image manifest of app "${app.name}"`) });
  }
  const token = newMdsToken();
  const reg: PodRegistration = { uuid: o.uuid, token, manifest, apps };
  if (o.ips !== undefined) reg.ips = [...o.ips];
  const port = await registerPodWithService(socket, reg);
  const marker: MdsRegisteredMarker = { port, socket };
  const file = mdsRegisteredPath(o.podDir);
  try {
    await fs.writeFile(`${file}.tmp`, JSON.stringify(marker) + '\n', { mode: 0o644 });
    await fs.rename(`${file}.tmp`, file);
  } catch (err) {
    await unregisterPodWithService(socket, o.uuid).catch(() => false);
    throw new RktError('MDS', `cannot write ${file}: ${errnoCode(err) ?? describeCause(err)}`, { cause: err });
  }
  return { token, port };
}

/** Reads `<podDir>/mds-registered`; undefined when the pod was never registered. */
export async function readMdsRegistered(podDir: string): Promise<MdsRegisteredMarker | undefined> {
  let text: string;
  try {
    text = await fs.readFile(mdsRegisteredPath(podDir), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<MdsRegisteredMarker>;
    if (typeof v.port === 'number' && typeof v.socket === 'string') return { port: v.port, socket: v.socket };
  } catch {
    // fall through: an unreadable marker still means "was registered"
  }
  return { port: 0, socket: '' };
}

/**
 * Undoes registerPod (rkt did this in gc). Returns true when the service dropped the pod; false when there was
 * nothing to drop (no marker, service not running, or it no longer knew the pod). Removes the marker either way.
 */
export async function unregisterPod(o: UnregisterPodOptions): Promise<boolean> {
  const marker = await readMdsRegistered(o.podDir);
  if (!marker) return false;
  const socket = o.socketPath ?? (marker.socket !== '' ? marker.socket : o.dataDir !== undefined ? mdsSocketPath(o.dataDir) : '');
  let dropped = false;
  if (socket !== '') {
    try {
      dropped = await unregisterPodWithService(socket, o.uuid);
    } catch (err) {
      // A service that is gone took its in-memory registrations with it.
      if (!UNREACHABLE.has(errnoCode(err) ?? '')) throw err instanceof RktError ? err : unreachable(socket, err);
    }
  }
  await fs.rm(mdsRegisteredPath(o.podDir), { force: true });
  return dropped;
}
