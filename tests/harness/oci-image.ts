// Builds OCI / Docker test images in memory (layer tars, configs, manifests, indexes) and writes them as an
// OCI image layout, an oci-archive or a docker-archive (legacy `docker save` and the Docker 25+ form).
// Everything is deterministic (fixed mtimes, sorted JSON keys where order matters), so a test can assert
// digests. Hostile cases get raw tar headers and raw config bytes, which nothing here sanitises.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { makeTarBuffer } from './aci.js';

export const OCI_MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  inToto: 'application/vnd.in-toto+json',
} as const;

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

/** Fixed so that the same spec always gives the same digests. */
export const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');
export const FIXED_CREATED = '2020-01-01T00:00:00Z';

export type Compression = 'none' | 'gzip' | 'zstd';

interface Owner {
  uid?: number;
  gid?: number;
  mtime?: Date;
}

/** The header fields tar-stream writes, plus the PAX records it also accepts (untyped upstream). */
export type RawTarHeader = Partial<Omit<tar.Header, 'pax'>> & { name: string; pax?: Record<string, string> };

export type LayerEntry =
  | ({ type: 'file'; path: string; content?: string | Buffer; mode?: number } & Owner)
  | ({ type: 'dir'; path: string; mode?: number } & Owner)
  | ({ type: 'symlink'; path: string; target: string } & Owner)
  /** A hard link at `path` to the earlier entry `target` (a path in the same layer). */
  | ({ type: 'hardlink'; path: string; target: string } & Owner)
  /** Deletes `path` from the layers below: written as `dir/.wh.base`. */
  | { type: 'whiteout'; path: string }
  /** Hides everything below `dir` from lower layers: written as `dir/.wh..wh..opq`. */
  | { type: 'opaque'; dir: string }
  /** Written exactly as given: `../x`, `/abs`, devices, odd types, PAX records. */
  | { type: 'raw'; header: RawTarHeader; body?: string | Buffer };

export interface LayerSpec {
  entries: readonly LayerEntry[];
  /** Default gzip, like most registries. */
  compression?: Compression;
  /** Replaces the media type derived from compression and manifest flavour. */
  mediaType?: string;
  /** Layer-descriptor annotations. */
  annotations?: Record<string, string>;
}

export interface PlatformSpec {
  architecture: string;
  os: string;
  variant?: string;
}

export interface ImageConfigSpec {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  exposedPorts?: string[];
  volumes?: string[];
  labels?: Record<string, string>;
  stopSignal?: string;
  /** Default linux/amd64. */
  platform?: PlatformSpec;
  created?: string;
  /** Merged over the generated top-level config object (replaces keys). */
  extra?: Record<string, unknown>;
}

export interface ImageSpec {
  layers: readonly LayerSpec[];
  config?: ImageConfigSpec;
  /** 'oci' (default) or Docker schema 2 media types for manifest, config and gzip layers. */
  flavour?: 'oci' | 'docker';
  /** Manifest annotations. */
  annotations?: Record<string, string>;
  /** Used verbatim as the config blob instead of the generated one (hostile / malformed cases). */
  rawConfig?: Buffer;
  /** Replaces the generated diff_ids (a config that lies about its layers). */
  diffIds?: string[];
}

export interface BuiltBlob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Buffer;
}

export interface BuiltLayer extends BuiltBlob {
  readonly compression: Compression;
  /** The uncompressed tar and its digest (the config's diff_id). */
  readonly tar: Buffer;
  readonly diffId: string;
}

export interface BuiltImage {
  readonly kind: 'image';
  readonly manifestMediaType: string;
  readonly manifestBytes: Buffer;
  readonly manifestDigest: string;
  readonly configBytes: Buffer;
  readonly configDigest: string;
  readonly configMediaType: string;
  readonly layers: readonly BuiltLayer[];
  readonly platform: PlatformSpec;
  /** Every blob of this image: manifest, config, layers. */
  readonly blobs: readonly BuiltBlob[];
}

export interface BuiltIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly indexBytes: Buffer;
  readonly indexDigest: string;
  /** The platform images, in index order (the attestation, when present, is in `blobs` only). */
  readonly images: readonly BuiltImage[];
  /** Every blob reachable from the index, itself included. */
  readonly blobs: readonly BuiltBlob[];
}

export type Built = BuiltImage | BuiltIndex;

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function hexOf(digest: string): string {
  const i = digest.indexOf(':');
  return i >= 0 ? digest.slice(i + 1) : digest;
}

function blob(mediaType: string, bytes: Buffer): BuiltBlob {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes };
}

function descriptorOf(b: BuiltBlob, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, ...extra };
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

// ---- tar ----------------------------------------------------------------------------------------------

export interface TarMember {
  header: RawTarHeader;
  body?: string | Buffer;
}

/** Packs members into one tar in memory, in the order given (the ACI harness's packer; PAX records pass through). */
export function packTar(members: readonly TarMember[]): Promise<Buffer> {
  return makeTarBuffer(members);
}

function whiteoutName(p: string): string {
  const dir = path.posix.dirname(p);
  const base = path.posix.basename(p);
  return dir === '.' ? `.wh.${base}` : `${dir}/.wh.${base}`;
}

function layerMember(e: LayerEntry): TarMember {
  const time = (o: Owner): Date => o.mtime ?? FIXED_MTIME;
  switch (e.type) {
    case 'file':
      return {
        header: { name: e.path, type: 'file', mode: e.mode ?? 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: time(e) },
        body: e.content ?? '',
      };
    case 'dir':
      return { header: { name: e.path, type: 'directory', mode: e.mode ?? 0o755, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: time(e) } };
    case 'symlink':
      return { header: { name: e.path, type: 'symlink', linkname: e.target, mode: 0o777, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: time(e) } };
    case 'hardlink':
      return { header: { name: e.path, type: 'link', linkname: e.target, mode: 0o644, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: time(e) } };
    case 'whiteout':
      return { header: { name: whiteoutName(e.path), type: 'file', mode: 0o644, mtime: FIXED_MTIME }, body: '' };
    case 'opaque':
      return { header: { name: `${e.dir.replace(/\/+$/, '')}/.wh..wh..opq`, type: 'file', mode: 0o644, mtime: FIXED_MTIME }, body: '' };
    case 'raw':
      return { header: { mtime: FIXED_MTIME, ...e.header }, ...(e.body !== undefined ? { body: e.body } : {}) };
  }
}

export async function layerTar(entries: readonly LayerEntry[]): Promise<Buffer> {
  return packTar(entries.map(layerMember));
}

export function compress(bytes: Buffer, c: Compression): Buffer {
  switch (c) {
    case 'none':
      return bytes;
    case 'gzip':
      return gzipSync(bytes);
    case 'zstd': {
      const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: bytes, maxBuffer: 1 << 30 });
      if (r.error) throw r.error;
      if (r.status !== 0) throw new Error(`zstd failed (${r.status}): ${r.stderr.toString()}`);
      return r.stdout;
    }
  }
}

function layerMediaType(c: Compression, flavour: 'oci' | 'docker'): string {
  if (flavour === 'docker') {
    if (c === 'gzip') return OCI_MEDIA.dockerLayerGzip;
    if (c === 'none') return OCI_MEDIA.dockerLayer;
    // Docker's media types have no zstd; containerd-era tools use the OCI one there.
    return OCI_MEDIA.layerZstd;
  }
  return c === 'none' ? OCI_MEDIA.layer : c === 'gzip' ? OCI_MEDIA.layerGzip : OCI_MEDIA.layerZstd;
}

export async function buildLayer(spec: LayerSpec, flavour: 'oci' | 'docker' = 'oci'): Promise<BuiltLayer> {
  const compression = spec.compression ?? 'gzip';
  const t = await layerTar(spec.entries);
  const bytes = compress(t, compression);
  const mediaType = spec.mediaType ?? layerMediaType(compression, flavour);
  return { ...blob(mediaType, bytes), compression, tar: t, diffId: sha256(t) };
}

// ---- config, manifest, index ---------------------------------------------------------------------------

function setOf(keys: readonly string[] | undefined): Record<string, Record<string, never>> | undefined {
  if (!keys) return undefined;
  return Object.fromEntries(keys.map((k) => [k, {}]));
}

export function configDocument(c: ImageConfigSpec, diffIds: readonly string[]): Record<string, unknown> {
  const platform = c.platform ?? { architecture: 'amd64', os: 'linux' };
  const run: Record<string, unknown> = {};
  if (c.user !== undefined) run['User'] = c.user;
  if (c.exposedPorts) run['ExposedPorts'] = setOf(c.exposedPorts);
  if (c.env) run['Env'] = c.env;
  if (c.entrypoint) run['Entrypoint'] = c.entrypoint;
  if (c.cmd) run['Cmd'] = c.cmd;
  if (c.volumes) run['Volumes'] = setOf(c.volumes);
  if (c.workingDir !== undefined) run['WorkingDir'] = c.workingDir;
  if (c.labels) run['Labels'] = c.labels;
  if (c.stopSignal !== undefined) run['StopSignal'] = c.stopSignal;
  return {
    created: c.created ?? FIXED_CREATED,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    config: run,
    rootfs: { type: 'layers', diff_ids: [...diffIds] },
    history: diffIds.map(() => ({ created: c.created ?? FIXED_CREATED, created_by: 'tests/harness/oci-image.ts' })),
    ...(c.extra ?? {}),
  };
}

export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const flavour = spec.flavour ?? 'oci';
  const layers: BuiltLayer[] = [];
  for (const l of spec.layers) layers.push(await buildLayer(l, flavour));
  const cfgSpec = spec.config ?? {};
  const platform = cfgSpec.platform ?? { architecture: 'amd64', os: 'linux' };
  const configMediaType = flavour === 'docker' ? OCI_MEDIA.dockerConfig : OCI_MEDIA.config;
  const configBytes = spec.rawConfig ?? json(configDocument(cfgSpec, spec.diffIds ?? layers.map((l) => l.diffId)));
  const config = blob(configMediaType, configBytes);
  const manifestMediaType = flavour === 'docker' ? OCI_MEDIA.dockerManifest : OCI_MEDIA.manifest;
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: descriptorOf(config),
    layers: layers.map((l, i) => descriptorOf(l, spec.layers[i]?.annotations ? { annotations: spec.layers[i]?.annotations } : {})),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const manifestBytes = json(manifest);
  const m = blob(manifestMediaType, manifestBytes);
  return {
    kind: 'image',
    manifestMediaType,
    manifestBytes,
    manifestDigest: m.digest,
    configBytes,
    configDigest: config.digest,
    configMediaType,
    layers,
    platform,
    blobs: [m, config, ...layers],
  };
}

function manifestBlob(img: BuiltImage): BuiltBlob {
  return blob(img.manifestMediaType, img.manifestBytes);
}

/** An in-toto attestation manifest for `subject`, shaped like the ones buildx attaches. */
async function attestationFor(subject: BuiltImage): Promise<{ manifest: BuiltBlob; blobs: BuiltBlob[] }> {
  const statement = json({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://spdx.dev/Document',
    subject: [{ name: 'test', digest: { sha256: hexOf(subject.manifestDigest) } }],
    predicate: { spdxVersion: 'SPDX-2.3' },
  });
  const layer = blob(OCI_MEDIA.inToto, statement);
  const config = blob(OCI_MEDIA.config, json({ architecture: 'unknown', os: 'unknown', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  const manifest = blob(
    OCI_MEDIA.manifest,
    json({
      schemaVersion: 2,
      mediaType: OCI_MEDIA.manifest,
      config: descriptorOf(config),
      layers: [descriptorOf(layer, { annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } })],
    }),
  );
  return { manifest, blobs: [config, layer] };
}

export interface IndexSpec {
  /** One image per platform; each image's config platform goes into its index entry. */
  images: readonly BuiltImage[];
  /** Adds a buildx-style attestation entry (platform unknown/unknown) for the first image. */
  attestation?: boolean;
  flavour?: 'oci' | 'docker';
  annotations?: Record<string, string>;
}

export async function buildIndex(spec: IndexSpec): Promise<BuiltIndex> {
  const mediaType = spec.flavour === 'docker' ? OCI_MEDIA.dockerList : OCI_MEDIA.index;
  const entries: Record<string, unknown>[] = [];
  const blobs: BuiltBlob[] = [];
  for (const img of spec.images) {
    entries.push(descriptorOf(manifestBlob(img), { platform: { ...img.platform } }));
    blobs.push(...img.blobs);
  }
  const first = spec.images[0];
  if (spec.attestation && first) {
    const att = await attestationFor(first);
    entries.push(
      descriptorOf(att.manifest, {
        platform: { architecture: 'unknown', os: 'unknown' },
        annotations: { 'vnd.docker.reference.digest': first.manifestDigest, 'vnd.docker.reference.type': 'attestation-manifest' },
      }),
    );
    blobs.push(att.manifest, ...att.blobs);
  }
  const indexBytes = json({ schemaVersion: 2, mediaType, manifests: entries, ...(spec.annotations ? { annotations: spec.annotations } : {}) });
  const self = blob(mediaType, indexBytes);
  return { kind: 'index', mediaType, indexBytes, indexDigest: self.digest, images: spec.images, blobs: [self, ...blobs] };
}

/** linux/amd64 + linux/arm64 images from the same layers (arm64 first, as buildx often orders them) plus an attestation. */
export async function buildMultiArch(spec: ImageSpec, opts: { attestation?: boolean } = {}): Promise<BuiltIndex> {
  const cfg = spec.config ?? {};
  const arm = await buildImage({ ...spec, config: { ...cfg, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } } });
  const amd = await buildImage({ ...spec, config: { ...cfg, platform: { architecture: 'amd64', os: 'linux' } } });
  return buildIndex({ images: [arm, amd], attestation: opts.attestation ?? true });
}

// ---- OCI layout, oci-archive ----------------------------------------------------------------------------

export interface LayoutEntry {
  /** The org.opencontainers.image.ref.name annotation (absent: an unnamed entry). */
  name?: string;
  image: Built;
  /** More annotations on the index.json entry. */
  annotations?: Record<string, string>;
}

export interface LayoutOptions {
  /** Replaces the oci-layout file's content (wrong versions, garbage). */
  ociLayoutBytes?: Buffer | null;
  /** Replaces index.json's content. */
  indexBytes?: Buffer;
}

function topBlob(b: Built): BuiltBlob {
  return b.kind === 'image' ? manifestBlob(b) : blob(b.mediaType, b.indexBytes);
}

/** The files of an OCI image layout, relative path -> bytes (blobs deduplicated). */
export function layoutFiles(entries: readonly LayoutEntry[], opts: LayoutOptions = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (opts.ociLayoutBytes !== null) files.set('oci-layout', opts.ociLayoutBytes ?? json({ imageLayoutVersion: '1.0.0' }));
  const manifests = entries.map((e) => {
    const top = topBlob(e.image);
    const annotations = { ...(e.annotations ?? {}), ...(e.name !== undefined ? { [REF_NAME_ANNOTATION]: e.name } : {}) };
    return descriptorOf(top, {
      ...(e.image.kind === 'image' ? { platform: { ...e.image.platform } } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    });
  });
  files.set('index.json', opts.indexBytes ?? json({ schemaVersion: 2, mediaType: OCI_MEDIA.index, manifests }));
  for (const e of entries) {
    for (const b of e.image.blobs) files.set(`blobs/sha256/${hexOf(b.digest)}`, b.bytes);
  }
  return files;
}

async function writeFiles(dir: string, files: Map<string, Buffer>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [rel, bytes] of files) {
    const dest = path.join(dir, rel);
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, bytes);
  }
}

export async function writeLayout(dir: string, entries: readonly LayoutEntry[], opts: LayoutOptions = {}): Promise<void> {
  await writeFiles(dir, layoutFiles(entries, opts));
}

/** Tar members for a file map, with the directories they need first (as `tar -C DIR .` would list them). */
function membersOf(files: Map<string, Buffer>): TarMember[] {
  const dirs = new Set<string>();
  for (const rel of files.keys()) {
    for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  }
  return [
    ...[...dirs].sort().map((d) => ({ header: { name: `${d}/`, type: 'directory' as const, mode: 0o755, mtime: FIXED_MTIME } })),
    ...[...files].map(([name, body]) => ({ header: { name, type: 'file' as const, mode: 0o644, mtime: FIXED_MTIME }, body })),
  ];
}

export interface ArchiveOptions extends LayoutOptions {
  /** Members added after the layout's own (hostile names, symlinks, duplicates). */
  extraMembers?: readonly TarMember[];
  /** Prefix every member name with "./" (GNU tar's `tar -C DIR .` style). */
  dotSlash?: boolean;
}

function withOptions(members: TarMember[], opts: ArchiveOptions): TarMember[] {
  const all = opts.dotSlash ? members.map((m) => ({ ...m, header: { ...m.header, name: `./${m.header.name}` } })) : members;
  return [...all, ...(opts.extraMembers ?? [])];
}

export async function ociArchiveBytes(entries: readonly LayoutEntry[], opts: ArchiveOptions = {}): Promise<Buffer> {
  return packTar(withOptions(membersOf(layoutFiles(entries, opts)), opts));
}

export async function writeOciArchive(file: string, entries: readonly LayoutEntry[], opts: ArchiveOptions = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await ociArchiveBytes(entries, opts));
}

// ---- docker-archive --------------------------------------------------------------------------------------

export interface DockerArchiveImage {
  image: BuiltImage;
  /** e.g. ["busybox:latest"]; docker save writes them as given on its command line. */
  repoTags: string[];
}

export interface DockerArchiveOptions {
  /**
   * 'legacy': manifest.json + `<id>/layer.tar` (uncompressed) + `<hex>.json` config + repositories.
   * 'oci' (Docker 25+): the same manifest.json, but pointing into an OCI layout held in the same tar.
   */
  form: 'legacy' | 'oci';
  /** Replaces manifest.json's content. */
  manifestJson?: Buffer;
  extraMembers?: readonly TarMember[];
}

/** The v1 "layer id" docker save uses as a directory name; any stable hex string will do for tests. */
function legacyLayerId(img: BuiltImage, i: number): string {
  return createHash('sha256').update(`${img.configDigest}/${i}`).digest('hex');
}

/**
 * The image as `docker save` holds it: the same config, layers uncompressed (application/vnd.oci.image.layer.v1.tar),
 * hence a different manifest digest. Docker 25+ archives reference this manifest from their index.json.
 */
export function uncompressedVariant(img: BuiltImage): BuiltImage {
  const layers: BuiltLayer[] = img.layers.map((l) => ({ ...blob(OCI_MEDIA.layer, l.tar), compression: 'none', tar: l.tar, diffId: l.diffId }));
  const config = blob(OCI_MEDIA.config, img.configBytes);
  const manifestBytes = json({ schemaVersion: 2, mediaType: OCI_MEDIA.manifest, config: descriptorOf(config), layers: layers.map((l) => descriptorOf(l)) });
  const m = blob(OCI_MEDIA.manifest, manifestBytes);
  return {
    kind: 'image',
    manifestMediaType: OCI_MEDIA.manifest,
    manifestBytes,
    manifestDigest: m.digest,
    configBytes: img.configBytes,
    configDigest: config.digest,
    configMediaType: OCI_MEDIA.config,
    layers,
    platform: img.platform,
    blobs: [m, config, ...layers],
  };
}

/** The files of a docker-archive; `written` gets, per input image, the image as the archive holds it. */
export function dockerArchiveFiles(images: readonly DockerArchiveImage[], opts: DockerArchiveOptions, written: BuiltImage[] = []): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const manifest: Array<Record<string, unknown>> = [];
  const repositories: Record<string, Record<string, string>> = {};
  if (opts.form === 'legacy') {
    for (const { image, repoTags } of images) {
      written.push(uncompressedVariant(image));
      const configPath = `${hexOf(image.configDigest)}.json`;
      files.set(configPath, image.configBytes);
      const layers: string[] = [];
      image.layers.forEach((l, i) => {
        const id = legacyLayerId(image, i);
        files.set(`${id}/VERSION`, Buffer.from('1.0'));
        files.set(`${id}/json`, json({ id, ...(i > 0 ? { parent: legacyLayerId(image, i - 1) } : {}) }));
        files.set(`${id}/layer.tar`, l.tar);
        layers.push(`${id}/layer.tar`);
      });
      manifest.push({ Config: configPath, RepoTags: repoTags, Layers: layers });
      const top = image.layers.length ? legacyLayerId(image, image.layers.length - 1) : '';
      for (const rt of repoTags) {
        const c = rt.lastIndexOf(':');
        (repositories[rt.slice(0, c)] ??= {})[rt.slice(c + 1)] = top;
      }
    }
    files.set('repositories', json(repositories));
  } else {
    const index: Record<string, unknown>[] = [];
    for (const { image: given, repoTags } of images) {
      const image = uncompressedVariant(given);
      written.push(image);
      for (const b of image.blobs) files.set(`blobs/sha256/${hexOf(b.digest)}`, b.bytes);
      manifest.push({
        Config: `blobs/sha256/${hexOf(image.configDigest)}`,
        RepoTags: repoTags,
        Layers: image.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
      });
      for (const rt of repoTags) {
        const full = rt.includes('/') ? rt : `docker.io/library/${rt}`;
        index.push(
          descriptorOf(manifestBlob(image), {
            annotations: { [CONTAINERD_NAME_ANNOTATION]: full, [REF_NAME_ANNOTATION]: rt.slice(rt.lastIndexOf(':') + 1) },
          }),
        );
      }
    }
    files.set('oci-layout', json({ imageLayoutVersion: '1.0.0' }));
    files.set('index.json', json({ schemaVersion: 2, mediaType: OCI_MEDIA.index, manifests: index }));
  }
  files.set('manifest.json', opts.manifestJson ?? json(manifest));
  return files;
}

export interface DockerArchive {
  readonly bytes: Buffer;
  /** Per input image, as the archive holds it (uncompressed layers; in the 'oci' form, its manifest digest is real). */
  readonly images: readonly BuiltImage[];
}

export async function dockerArchiveBytes(images: readonly DockerArchiveImage[], opts: DockerArchiveOptions): Promise<DockerArchive> {
  const written: BuiltImage[] = [];
  const files = dockerArchiveFiles(images, opts, written);
  return { bytes: await packTar([...membersOf(files), ...(opts.extraMembers ?? [])]), images: written };
}

export async function writeDockerArchive(file: string, images: readonly DockerArchiveImage[], opts: DockerArchiveOptions): Promise<readonly BuiltImage[]> {
  await mkdir(path.dirname(file), { recursive: true });
  const a = await dockerArchiveBytes(images, opts);
  await writeFile(file, a.bytes);
  return a.images;
}

// ---- a runnable userland ---------------------------------------------------------------------------------

/** Applets linked to /bin/busybox in busyboxLayer(). */
export const OCI_BUSYBOX_APPLETS = [
  'sh', 'echo', 'cat', 'id', 'sleep', 'ls', 'true', 'false', 'env', 'grep', 'mkdir', 'rm', 'touch', 'printf',
  'test', 'hostname', 'ps', 'kill', 'stat', 'wc', 'head', 'tail', 'sed', 'pwd', 'readlink', 'uname', 'whoami',
  'ln', 'cp', 'mv', 'chmod', 'find', 'xargs', 'awk', 'tr', 'cut', 'sort', 'date', 'nc', 'wget', 'mount', 'df',
];

/** The named user busyboxLayer() puts in /etc/passwd and /etc/group. */
export const TEST_USER = {
  name: 'alice',
  uid: 1234,
  group: 'staff',
  gid: 2345,
  home: '/home/alice',
  supplementary: [{ name: 'wheel', gid: 3456 }],
} as const;

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  `${TEST_USER.name}:x:${TEST_USER.uid}:${TEST_USER.gid}:Alice:${TEST_USER.home}:/bin/sh`,
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

export const GROUP = [
  'root:x:0:',
  `${TEST_USER.group}:x:${TEST_USER.gid}:`,
  `wheel:x:3456:${TEST_USER.name}`,
  'nogroup:x:65534:',
  '',
].join('\n');

let busyboxBytes: Buffer | undefined;

/** The entries of a small runnable rootfs: the host's static /bin/busybox, applet links, passwd/group, /tmp. */
export function busyboxEntries(opts: { applets?: readonly string[] } = {}): LayerEntry[] {
  busyboxBytes ??= readFileSync('/bin/busybox');
  return [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', content: busyboxBytes, mode: 0o755 },
    ...(opts.applets ?? OCI_BUSYBOX_APPLETS).map((a): LayerEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    { type: 'dir', path: 'etc' },
    { type: 'file', path: 'etc/passwd', content: PASSWD },
    { type: 'file', path: 'etc/group', content: GROUP },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'home' },
    { type: 'dir', path: TEST_USER.home.slice(1), mode: 0o755, uid: TEST_USER.uid, gid: TEST_USER.gid },
  ];
}

export function busyboxLayer(opts: { applets?: readonly string[]; compression?: Compression } = {}): LayerSpec {
  return { entries: busyboxEntries(opts), compression: opts.compression ?? 'gzip' };
}

/** A one-layer busybox image that runs `cmd` (default: a shell that echoes and exits). */
export async function busyboxImage(config: ImageConfigSpec = {}, more: readonly LayerSpec[] = []): Promise<BuiltImage> {
  return buildImage({
    layers: [busyboxLayer(), ...more],
    config: { env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cmd: ['/bin/sh', '-c', 'echo hello'], ...config },
  });
}
