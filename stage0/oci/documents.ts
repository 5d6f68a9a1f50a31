// The OCI / Docker v2 JSON documents an image is made of (index or manifest list, manifest, config),
// parsed from bytes into typed values with precise errors. Nothing here trusts its input.
import { RktError } from '../../common/errors.js';
import { parseDigest, type Digest } from './digest.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNonDistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** What the registry is asked for (Accept) when reading a manifest by tag or digest. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

/** Largest manifest, index or config rkt reads (the distribution spec's registries accept 4 MiB). */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

export type LayerCompression = 'none' | 'gzip' | 'zstd';

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations: Readonly<Record<string, string>>;
}

export interface LayerDescriptor extends Descriptor {
  readonly compression: LayerCompression;
}

export interface ImageManifestDoc {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly LayerDescriptor[];
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ImageConfigDoc {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly config: RunConfig;
  /** Uncompressed layer digests, bottom first. */
  readonly diffIds: readonly Digest[];
  readonly created?: string;
}

/** The `config` object of an image config: what the image says to run and how. */
export interface RunConfig {
  readonly user?: string;
  readonly exposedPorts: readonly string[];
  readonly env: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly volumes: readonly string[];
  readonly workingDir?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly stopSignal?: string;
}

type Json = Record<string, unknown>;

function invalid(what: string, why: string): RktError {
  return new RktError('IMAGE_INVALID', `invalid ${what}: ${why}`, { hint: 'the image is malformed; nothing was stored' });
}

function parseJsonObject(bytes: Buffer, what: string): Json {
  if (bytes.length > MAX_DOCUMENT_BYTES) throw invalid(what, `larger than ${MAX_DOCUMENT_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(what, `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(what, 'not a JSON object');
  return v as Json;
}

function optString(o: Json, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(what, `${key} must be a string`);
  return v;
}

function str(o: Json, key: string, what: string): string {
  const v = optString(o, key, what);
  if (v === undefined) throw invalid(what, `${key} is missing`);
  return v;
}

function optObject(o: Json, key: string, what: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(what, `${key} must be an object`);
  return v as Json;
}

function stringMap(o: Json, key: string, what: string): Record<string, string> {
  const m = optObject(o, key, what);
  const out: Record<string, string> = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw invalid(what, `${key}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function optStringList(o: Json, key: string, what: string): string[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalid(what, `${key} must be a list of strings`);
  return v as string[];
}

/** Keys of an object used as a set (ExposedPorts, Volumes: `{"80/tcp": {}}`). */
function keySet(o: Json, key: string, what: string): string[] {
  const m = optObject(o, key, what);
  return m ? Object.keys(m) : [];
}

function parsePlatform(v: unknown, what: string): Platform | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(what, 'platform must be an object');
  const p = v as Json;
  const variant = optString(p, 'variant', what);
  return { architecture: str(p, 'architecture', what), os: str(p, 'os', what), ...(variant ? { variant } : {}) };
}

function parseDescriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(what, 'a descriptor must be an object');
  const d = v as Json;
  const size = d['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(what, 'descriptor size must be a non-negative integer');
  const platform = parsePlatform(d['platform'], what);
  return {
    mediaType: str(d, 'mediaType', what),
    digest: parseDigest(str(d, 'digest', what), what),
    size,
    ...(platform ? { platform } : {}),
    annotations: stringMap(d, 'annotations', what),
  };
}

export function layerCompression(mediaType: string, what: string): LayerCompression {
  switch (mediaType) {
    case MEDIA.ociLayer:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar':
      return 'none';
    case MEDIA.ociLayerGzip:
    case MEDIA.ociLayerNonDistGzip:
    case MEDIA.dockerLayerGzip:
    case MEDIA.dockerLayerForeign:
      return 'gzip';
    case MEDIA.ociLayerZstd:
    case 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd':
      return 'zstd';
    default:
      throw invalid(what, `layer media type ${JSON.stringify(mediaType)} is not supported`);
  }
}

/**
 * Parses a manifest or index. `mediaTypeHint` is the Content-Type or descriptor type it came with; the
 * document's own mediaType wins when present, and without either the shape decides (OCI allows that).
 */
export function parseManifestOrIndex(bytes: Buffer, mediaTypeHint: string | undefined, what: string): ImageIndex | ImageManifestDoc {
  const o = parseJsonObject(bytes, what);
  const own = optString(o, 'mediaType', what);
  const schemaVersion = o['schemaVersion'];
  const mt = own ?? (mediaTypeHint && mediaTypeHint !== 'application/json' && mediaTypeHint !== 'application/octet-stream' ? mediaTypeHint : undefined);
  if (schemaVersion === 1 || mt === MEDIA.dockerSchema1 || mt === MEDIA.dockerSchema1Signed) {
    throw new RktError('IMAGE_INVALID', `${what} is a Docker schema 1 manifest, which rkt does not read`, {
      hint: 'schema 1 is deprecated and unverifiable; push the image again with a current Docker, podman or skopeo (schema 2 / OCI)',
    });
  }
  if (schemaVersion !== 2) throw invalid(what, 'schemaVersion must be 2');
  const isIndex = mt === MEDIA.ociIndex || mt === MEDIA.dockerList || (mt === undefined && Array.isArray(o['manifests']) && o['config'] === undefined);
  if (isIndex) {
    const list = o['manifests'];
    if (!Array.isArray(list)) throw invalid(what, 'manifests must be a list');
    return {
      kind: 'index',
      mediaType: mt ?? MEDIA.ociIndex,
      manifests: list.map((d, i) => parseDescriptor(d, `${what} manifests[${i}]`)),
      annotations: stringMap(o, 'annotations', what),
    };
  }
  if (mt !== undefined && mt !== MEDIA.ociManifest && mt !== MEDIA.dockerManifest) {
    throw invalid(what, `media type ${JSON.stringify(mt)} is not an image manifest or index`);
  }
  const layers = o['layers'];
  if (!Array.isArray(layers)) throw invalid(what, 'layers must be a list');
  return {
    kind: 'manifest',
    mediaType: mt ?? MEDIA.ociManifest,
    config: parseDescriptor(o['config'], `${what} config`),
    layers: layers.map((d, i) => {
      const desc = parseDescriptor(d, `${what} layers[${i}]`);
      return { ...desc, compression: layerCompression(desc.mediaType, `${what} layers[${i}]`) };
    }),
    annotations: stringMap(o, 'annotations', what),
  };
}

export function parseImageConfig(bytes: Buffer, what: string): ImageConfigDoc {
  const o = parseJsonObject(bytes, what);
  const rootfs = optObject(o, 'rootfs', what);
  if (!rootfs) throw invalid(what, 'rootfs is missing');
  if (str(rootfs, 'type', what) !== 'layers') throw invalid(what, 'rootfs.type must be "layers"');
  const ids = optStringList(rootfs, 'diff_ids', what) ?? [];
  const c = optObject(o, 'config', what) ?? {};
  const cw = `${what} config`;
  const user = optString(c, 'User', cw);
  const entrypoint = optStringList(c, 'Entrypoint', cw);
  const cmd = optStringList(c, 'Cmd', cw);
  const workingDir = optString(c, 'WorkingDir', cw);
  const stopSignal = optString(c, 'StopSignal', cw);
  const variant = optString(o, 'variant', what);
  const created = optString(o, 'created', what);
  return {
    architecture: optString(o, 'architecture', what) ?? '',
    os: optString(o, 'os', what) ?? '',
    ...(variant ? { variant } : {}),
    ...(created ? { created } : {}),
    diffIds: ids.map((d, i) => parseDigest(d, `${what} rootfs.diff_ids[${i}]`)),
    config: {
      ...(user ? { user } : {}),
      exposedPorts: keySet(c, 'ExposedPorts', cw),
      env: optStringList(c, 'Env', cw) ?? [],
      ...(entrypoint ? { entrypoint } : {}),
      ...(cmd ? { cmd } : {}),
      volumes: keySet(c, 'Volumes', cw),
      ...(workingDir ? { workingDir } : {}),
      labels: stringMap(c, 'Labels', cw),
      ...(stopSignal ? { stopSignal } : {}),
    },
  };
}
