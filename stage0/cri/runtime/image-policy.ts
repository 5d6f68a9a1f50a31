// The image side: CRI names images as registry references ("busybox", "host:5000/app:1") or by the id
// PullImage returned; the store keeps OCI images with the reference they were fetched by. Which registries
// must be signed, and which may be reached over plain HTTP, is the endpoint's configuration (CRI requests
// carry no such flag).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { formatDockerReference, parseDockerReference, type DockerReference } from '../../oci/reference.js';
import { annotationOf, OCI_ANNOTATION } from '../../oci/config-to-app.js';
import { openStore, type ImageInfo } from '../../store/index.js';
import { CriError, invalidArgument } from '../errors.js';
import type { AuthConfig } from '../messages.js';
import type { RktCli } from '../rkt-cli.js';

export interface ImagePolicyConfig {
  /** References under these prefixes (host[/repo...]) must verify; others are fetched without signatures. */
  verifyPrefixes: readonly string[];
  /** Registries (host[:port]) reached over plain HTTP or with unverified TLS; a registry's mirror counts too. */
  insecureRegistries: readonly string[];
  /** The mirror rkt fetches a registry's images from (mirrors.d), read at each pull. */
  mirrorOf: (host: string) => string | undefined;
}

function parseRef(image: string): DockerReference {
  try {
    return parseDockerReference(image.replace(/^docker:\/\//, ''));
  } catch (err) {
    throw invalidArgument(`image "${image}": ${err instanceof Error ? err.message : String(err)}`);
  }
}

const underPrefix = (ref: string, prefix: string): boolean => ref === prefix || ref.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`) || ref.startsWith(`${prefix}:`);

export class ImagePolicy {
  constructor(private readonly dataDir: string, private readonly rkt: RktCli, private readonly cfg: ImagePolicyConfig) {}

  async ociImages(): Promise<ImageInfo[]> {
    const store = await openStore(this.dataDir);
    return (await store.listImages()).filter((i) => i.oci !== undefined);
  }

  /** The stored OCI image an image string names (a store id or prefix, or a registry reference), if here. */
  async find(image: string): Promise<ImageInfo | undefined> {
    if (image === '') throw invalidArgument('the image is empty');
    const images = await this.ociImages();
    if (/^sha512-[0-9a-f]+$/.test(image)) return images.find((i) => i.id === image || i.id.startsWith(image));
    const want = parseRef(image);
    const wantText = formatDockerReference(want);
    return images.find((i) => references(i).some((have) => {
      if (formatDockerReference(have) === wantText) return true;
      return want.digest !== undefined && i.oci!.manifestDigest === want.digest.text && formatDockerReference(have, false) === formatDockerReference(want, false);
    }));
  }

  async resolveLocal(image: string): Promise<string | undefined> {
    return (await this.find(image))?.id;
  }

  /** `rkt fetch docker://...` under the policy, with the request's credentials in a private config layer. */
  async pull(image: string, auth: AuthConfig | null): Promise<string> {
    const ref = parseRef(image);
    const text = formatDockerReference(ref);
    const insecure: string[] = [];
    if (!this.cfg.verifyPrefixes.some((p) => underPrefix(text, p))) insecure.push('image');
    const mirror = this.cfg.mirrorOf(ref.host);
    if (this.cfg.insecureRegistries.includes(ref.host) || (mirror !== undefined && this.cfg.insecureRegistries.includes(mirror))) insecure.push('http', 'tls');
    const args = ['fetch', '--pull-policy=update', '--full'];
    let authDir: string | undefined;
    const creds = credentials(auth);
    if (creds !== undefined) {
      authDir = path.join(os.tmpdir(), `rkt-cri-auth-${randomBytes(6).toString('hex')}`);
      await fs.mkdir(path.join(authDir, 'auth.d'), { recursive: true, mode: 0o700 });
      const entry = { rktKind: 'dockerAuth', rktVersion: 'v1', registries: [ref.host], credentials: { user: creds.user, password: creds.password } };
      await fs.writeFile(path.join(authDir, 'auth.d', 'cri.json'), JSON.stringify(entry), { mode: 0o600 });
    }
    try {
      const global = [...(insecure.length > 0 ? [`--insecure-options=${insecure.join(',')}`] : []), ...(authDir ? [`--user-config=${authDir}`] : [])];
      const r = await this.rkt.run([...global, ...args, `docker://${text}`]);
      const id = r.stdout.trim().split('\n').at(-1)?.trim() ?? '';
      if (!/^sha512-[0-9a-f]+$/.test(id)) throw new CriError(GrpcStatus.INTERNAL, `rkt fetch printed no image id for ${text}`);
      return id;
    } finally {
      if (authDir) await fs.rm(authDir, { recursive: true, force: true });
    }
  }

  /** Removing an absent image succeeds, also when a concurrent RemoveImage took it first (kubelet retries). */
  async remove(image: string): Promise<void> {
    const id = await this.resolveLocal(image);
    if (id === undefined) return;
    try {
      await this.rkt.run(['image', 'rm', id]);
    } catch (err) {
      if ((await this.resolveLocal(id)) !== undefined) throw err;
    }
  }

  /** The CRI Image messages of stored images, each config's user included (one store opening for all). */
  async messages(images: readonly ImageInfo[]): Promise<Array<Record<string, unknown>>> {
    if (images.length === 0) return [];
    const store = await openStore(this.dataDir);
    return Promise.all(images.map(async (i) => imageMessage(i, annotationOf(await store.getImageManifest(i.id), OCI_ANNOTATION.user))));
  }
}

function credentials(auth: AuthConfig | null): { user: string; password: string } | undefined {
  if (auth === null) return undefined;
  if (auth.username !== '') return { user: auth.username, password: auth.password };
  if (auth.auth !== '') {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw invalidArgument('AuthConfig.auth is not base64 of user:password');
    return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (auth.identity_token !== '' || auth.registry_token !== '') throw invalidArgument('token credentials (identity_token, registry_token) are not supported: give username and password');
  return undefined;
}

/** Every registry reference a stored OCI image was pulled by: its newest, then its aliases'. */
function references(i: ImageInfo): DockerReference[] {
  const texts = [i.oci!.reference, ...(i.aliases ?? []).flatMap((a) => (a.reference !== undefined ? [a.reference] : []))];
  return texts.flatMap((t) => {
    try {
      return [parseRef(t)];
    } catch {
      return []; // a docker-archive: or oci-layout origin is no registry reference
    }
  });
}

/**
 * Image message of the CRI: tags and digests as kubelet compares them; the config's user as kubelet's
 * runAsNonRoot check reads it (a numeric user is a uid, a name is a username; the group is not reported).
 */
export function imageMessage(i: ImageInfo, user?: string): Record<string, unknown> {
  const who = (user ?? '').split(':')[0] ?? '';
  const refs = references(i);
  const tags = refs.flatMap((r) => (r.tag !== undefined ? [`${formatDockerReference(r, false)}:${r.tag}`] : []));
  const digests = refs.map((r) => `${formatDockerReference(r, false)}@${i.oci!.manifestDigest}`);
  return {
    id: i.id,
    repo_tags: [...new Set(tags)],
    repo_digests: [...new Set(digests)],
    size: String(i.size),
    uid: /^[0-9]+$/.test(who) ? { value: who } : null,
    username: /^[0-9]+$/.test(who) ? '' : who,
    spec: { image: i.id, annotations: {} },
    pinned: false,
  };
}
