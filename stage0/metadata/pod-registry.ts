// The service's in-memory table of registered pods: validation on registration, lookup by token or IP.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { parseImageManifest, parsePodManifest, type Annotation } from '../../common/appc/index.js';
import { describeCause } from '../../common/errors.js';
import { TOKEN_RULE } from './constants.js';
import { canonicalUuid } from './hmac.js';

/** What stage0 sends to register one pod (the JSON body of `PUT /pods/<uuid>` on the registration socket). */
export interface PodRegistration {
  uuid: string;
  /** The secret path segment of the pod's AC_METADATA_URL. */
  token: string;
  /** The pod manifest as written in the pod dir (a JSON value, served back verbatim). */
  manifest: unknown;
  /** One image manifest per app of the pod manifest. */
  apps: { name: string; manifest: unknown }[];
  /** Optional source addresses that also identify the pod (requests without a token). */
  ips?: string[];
}

export interface RegisteredApp {
  readonly name: string;
  readonly imageId: string;
  /** The image manifest, serialized once from what was registered. */
  readonly imageManifestJson: string;
  /** Image annotations with the pod's app annotations applied over them (replace in place, else append). */
  readonly annotations: readonly Annotation[];
}

export interface RegisteredPod {
  readonly uuid: string;
  readonly manifestJson: string;
  /** Exactly the manifest's `annotations` value: null when the manifest had none, so both endpoints agree. */
  readonly annotations: readonly Annotation[] | null;
  readonly apps: ReadonlyMap<string, RegisteredApp>;
  readonly ips: readonly string[];
  readonly tokenDigest: string;
}

/** A registration the service refuses; `status` is the HTTP status to answer with. */
export class RegistrationError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Tokens are kept only as digests, so lookups compare digests and a memory dump does not leak tokens. */
function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Strips the IPv4-mapped prefix a dual-stack socket reports (`::ffff:10.0.0.2`). */
export function normalizeIp(addr: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr.toLowerCase();
}

export function mergeAnnotations(image: readonly Annotation[], pod: readonly Annotation[]): Annotation[] {
  const out = image.map((a) => ({ name: a.name, value: a.value }));
  for (const a of pod) {
    const i = out.findIndex((x) => x.name === a.name);
    if (i >= 0) out[i] = { name: a.name, value: a.value };
    else out.push({ name: a.name, value: a.value });
  }
  return out;
}

function annotationsOf(raw: unknown): Annotation[] | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const v = (raw as Record<string, unknown>)['annotations'];
  if (!Array.isArray(v)) return null;
  return v.map((a: unknown) => {
    const o = a as Record<string, unknown>;
    return { name: String(o['name']), value: String(o['value']) };
  });
}

function bad(message: string): RegistrationError {
  return new RegistrationError(400, message);
}

/** Validates a registration into the immutable record the API serves. Throws RegistrationError(400). */
export function buildRegisteredPod(reg: PodRegistration): RegisteredPod {
  const uuid = canonicalUuid(reg.uuid);
  if (uuid === undefined || !reg.uuid.includes('-')) throw bad(`invalid pod uuid "${reg.uuid}"`);
  if (!TOKEN_RULE.test(reg.token)) throw bad('invalid token: expected 32 to 256 characters of [A-Za-z0-9_-]');
  let pod;
  try {
    pod = parsePodManifest(reg.manifest);
  } catch (err) {
    throw bad(describeCause(err));
  }
  const images = new Map<string, unknown>();
  for (const a of reg.apps) {
    if (images.has(a.name)) throw bad(`app "${a.name}" is registered twice`);
    if (!pod.apps.some((p) => p.name === a.name)) throw bad(`app "${a.name}" is not in the pod manifest`);
    images.set(a.name, a.manifest);
  }
  const apps = new Map<string, RegisteredApp>();
  for (const app of pod.apps) {
    const rawImage = images.get(app.name);
    if (rawImage === undefined) throw bad(`app "${app.name}" of the pod manifest has no image manifest`);
    let image;
    try {
      image = parseImageManifest(rawImage);
    } catch (err) {
      throw bad(`app "${app.name}": ${describeCause(err)}`);
    }
    apps.set(app.name, {
      name: app.name,
      imageId: app.image.id,
      imageManifestJson: JSON.stringify(rawImage),
      annotations: mergeAnnotations(image.annotations, app.annotations),
    });
  }
  const ips: string[] = [];
  for (const ip of reg.ips ?? []) {
    if (isIP(ip) === 0) throw bad(`invalid pod ip "${ip}"`);
    ips.push(normalizeIp(ip));
  }
  return {
    uuid,
    manifestJson: JSON.stringify(reg.manifest),
    annotations: annotationsOf(reg.manifest),
    apps,
    ips,
    tokenDigest: digest(reg.token),
  };
}

/** The live table. One instance per service process. */
export class PodRegistry {
  private readonly byUuid = new Map<string, RegisteredPod>();
  private readonly byToken = new Map<string, RegisteredPod>();
  private readonly byIp = new Map<string, RegisteredPod>();

  /** Adds or replaces (same uuid) a pod. Throws RegistrationError: 400 invalid, 409 token/IP of another pod. */
  register(reg: PodRegistration): RegisteredPod {
    const pod = buildRegisteredPod(reg);
    const tokenOwner = this.byToken.get(pod.tokenDigest);
    if (tokenOwner && tokenOwner.uuid !== pod.uuid) throw new RegistrationError(409, 'token is already used by another pod');
    for (const ip of pod.ips) {
      const owner = this.byIp.get(ip);
      if (owner && owner.uuid !== pod.uuid) throw new RegistrationError(409, `ip ${ip} is already registered by pod ${owner.uuid}`);
    }
    this.unregister(pod.uuid);
    this.byUuid.set(pod.uuid, pod);
    this.byToken.set(pod.tokenDigest, pod);
    for (const ip of pod.ips) this.byIp.set(ip, pod);
    return pod;
  }

  /** Returns false when the uuid was not registered. */
  unregister(uuid: string): boolean {
    const pod = this.byUuid.get(canonicalUuid(uuid) ?? uuid);
    if (!pod) return false;
    this.byUuid.delete(pod.uuid);
    this.byToken.delete(pod.tokenDigest);
    for (const ip of pod.ips) if (this.byIp.get(ip) === pod) this.byIp.delete(ip);
    return true;
  }

  findByToken(token: string): RegisteredPod | undefined {
    return this.byToken.get(digest(token));
  }

  findByIp(addr: string): RegisteredPod | undefined {
    return this.byIp.get(normalizeIp(addr));
  }

  uuids(): string[] {
    return [...this.byUuid.keys()].sort();
  }
}
