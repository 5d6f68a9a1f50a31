// Pulling one OCI image into the store: resolve the reference to a manifest (through an index when
// there is one), check every document against its digest, verify the signature, then fetch, verify
// and unpack the layers the store lacks (in parallel, bounded) and publish the image. Nothing the
// source sends is trusted: every digest and size is checked here, whatever the source.
import { Readable } from 'node:stream';
import { forEachBounded } from '../../common/bounded.js';
import { readBounded } from '../fetch/read-bounded.js';
import { RktError } from '../../common/errors.js';
import type { Store } from '../store/index.js';
import type { OciLayerInfo } from '../store/info.js';
import { acNameFor, appcManifestFor } from './config-to-app.js';
import { checkBytes, digestHex, parseDigest, VerifyingStream, digestOf, type Digest } from './digest.js';
import {
  MAX_DOCUMENT_BYTES, parseImageConfig, parseManifestOrIndex, type ImageConfigDoc, type ImageManifestDoc, type LayerDescriptor,
} from './documents.js';
import { hostPlatform, selectPlatform } from './platform.js';
import { formatDockerReference, formatOciReference, type OciReference } from './reference.js';
import type { ImageSource } from './source.js';

/** Index within index is allowed by the spec; deeper than this is a loop or an attack. */
const MAX_INDEX_DEPTH = 4;
const PARALLEL_LAYERS = 3;

export interface SignatureCheck {
  (manifestDigest: Digest): Promise<{ verifiedBy: string }>;
}

export interface PullEnv {
  store: Store;
  verify: boolean;
  debug(m: string): void;
  progress(m: string): void;
  endProgress(): void;
}

export interface OpenedSource {
  source: ImageSource;
  /** Checks the image's signatures (throws when unsigned or untrusted). */
  checkSignature: SignatureCheck;
}

export interface ResolvedImage {
  manifestBytes: Buffer;
  manifestDigest: string;
  manifest: ImageManifestDoc;
  configBytes: Buffer;
  config: ImageConfigDoc;
}

/** The manifest (through any index), and the config, all digest-checked. */
export async function resolveManifest(source: ImageSource, env: Pick<PullEnv, 'debug'>): Promise<ResolvedImage> {
  const top = await source.top();
  const what = source.description;
  let bytes = top.bytes;
  let mediaType = top.mediaType;
  let digest: string;
  if (top.expectedDigest !== undefined) {
    const d = parseDigest(top.expectedDigest, `${what} (manifest digest)`);
    checkBytes(bytes, d, top.expectedSize, `the manifest of ${what}`);
    digest = d.text;
  } else {
    // Only a synthesised manifest (a legacy docker-archive) comes without a digest: its layers are still
    // checked against the config's diff_ids below.
    digest = digestOf(bytes);
    env.debug(`${what}: no manifest digest to check against (synthesised manifest ${digest})`);
  }
  const host = hostPlatform();
  for (let depth = 0; ; depth++) {
    const doc = parseManifestOrIndex(bytes, mediaType, `manifest ${digest} of ${what}`);
    if (doc.kind === 'manifest') {
      if (doc.config.size > MAX_DOCUMENT_BYTES) throw new RktError('IMAGE_INVALID', `config of ${what} is ${doc.config.size} bytes, over the ${MAX_DOCUMENT_BYTES}-byte bound`);
      const stream = await source.blob(doc.config);
      const check = new VerifyingStream(doc.config.digest, doc.config.size, `config ${doc.config.digest.text} of ${what}`);
      stream.on('error', (e) => check.destroy(e));
      const configBytes = await readBounded(stream.pipe(check), MAX_DOCUMENT_BYTES, () =>
        new RktError('IMAGE_INVALID', `config of ${what} is larger than ${MAX_DOCUMENT_BYTES} bytes`, { hint: 'the image is malformed; nothing was stored' }));
      const config = parseImageConfig(configBytes, `config ${doc.config.digest.text} of ${what}`);
      if (config.diffIds.length !== doc.layers.length) {
        throw new RktError('IMAGE_INVALID', `${what}: the manifest lists ${doc.layers.length} layers but the config ${config.diffIds.length} diff_ids`, {
          hint: 'the image is malformed; nothing was stored',
        });
      }
      for (const d of config.diffIds) {
        if (d.algorithm !== 'sha256') throw new RktError('IMAGE_INVALID', `${what}: diff_id ${d.text} is not sha256`);
      }
      if (config.os && config.os !== host.os) {
        throw new RktError('IMAGE_INVALID', `${what} is an image for ${config.os}, not linux`, { hint: 'use a linux image' });
      }
      if (config.architecture && config.architecture !== host.architecture) {
        env.debug(`${what}: config says architecture ${config.architecture}, the host is ${host.architecture}; it may not run`);
      }
      return { manifestBytes: bytes, manifestDigest: digest, manifest: doc, configBytes, config };
    }
    if (depth >= MAX_INDEX_DEPTH) {
      throw new RktError('IMAGE_INVALID', `${what}: indexes nest deeper than ${MAX_INDEX_DEPTH}`, { hint: 'the index refers to itself or is hostile' });
    }
    const pick = selectPlatform(doc, host, what, env.debug);
    bytes = await source.manifest(pick);
    checkBytes(bytes, pick.digest, pick.size, `manifest ${pick.digest.text} of ${what}`);
    mediaType = pick.mediaType;
    digest = pick.digest.text;
  }
}

export type LayerUnpacker = (opts: {
  source: Readable;
  descriptor: LayerDescriptor;
  diffId: Digest;
  rootfs: string;
  blobOut: string;
  onBytes: (n: number) => void;
  what: string;
}) => Promise<{ compressedSize: number; uncompressedSize: number }>;

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Fetches and unpacks the layers the store lacks; layers already there are neither downloaded nor unpacked. */
export async function pullLayers(env: PullEnv, source: ImageSource, img: ResolvedImage, unpack: LayerUnpacker): Promise<OciLayerInfo[]> {
  const layers = img.manifest.layers;
  const missing: number[] = [];
  for (let i = 0; i < layers.length; i++) {
    if (!(await env.store.hasLayer(img.config.diffIds[i]!.text))) missing.push(i);
  }
  env.debug(`${source.description}: ${layers.length} layers, ${layers.length - missing.length} already in the store, ${missing.length} to fetch`);
  const total = missing.reduce((n, i) => n + layers[i]!.size, 0);
  const got = new Map<number, number>();
  let lastShown = 0;
  const show = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastShown < 200) return;
    lastShown = now;
    const done = [...got.values()].reduce((a, b) => a + b, 0);
    env.progress(`Downloading ${missing.length} layer${missing.length === 1 ? '' : 's'} of ${source.description}: ${mib(done)} / ${mib(total)}`);
  };
  await forEachBounded(missing, PARALLEL_LAYERS, async (i) => {
    const desc = layers[i]!;
    const diffId = img.config.diffIds[i]!;
    const what = `layer ${i + 1}/${layers.length} ${desc.digest.text.slice(0, 19)} of ${source.description}`;
    const outcome = await env.store.ensureLayer(diffId.text, async ({ rootfs, blobTmp }) => {
      const stream = await source.blob(desc);
      const r = await unpack({
        source: stream, descriptor: desc, diffId, rootfs, blobOut: blobTmp, what,
        onBytes: (n) => {
          got.set(i, n);
          show();
        },
      });
      return { digest: desc.digest.text, mediaType: desc.mediaType, compressedSize: r.compressedSize, uncompressedSize: r.uncompressedSize };
    });
    got.set(i, desc.size);
    env.debug(`${what}: ${outcome === 'present' ? 'unpacked meanwhile by another rkt' : `unpacked into ${diffId.text}`}`);
  });
  if (missing.length > 0) {
    show(true);
    env.endProgress();
  }
  return layers.map((d, i) => ({ digest: d.digest.text, diffId: img.config.diffIds[i]!.text, size: d.size, mediaType: d.mediaType }));
}

/** What the store keeps as name and version for a reference. */
export function identityOf(ref: OciReference, manifestDigest: string): { name: string; version: string; reference: string } {
  const reference = formatOciReference(ref);
  const shortDigest = digestHex(manifestDigest).slice(0, 12);
  switch (ref.transport) {
    case 'docker':
      return { name: acNameFor(formatDockerReference(ref.ref, false)), version: ref.ref.tag ?? shortDigest, reference };
    case 'docker-archive':
      return ref.ref
        ? { name: acNameFor(formatDockerReference(ref.ref, false)), version: ref.ref.tag ?? shortDigest, reference }
        : { name: acNameFor(`docker-archive/${baseName(ref.path)}`), version: shortDigest, reference };
    case 'oci':
    case 'oci-archive':
      return { name: acNameFor(`${ref.transport}/${baseName(ref.path)}`), version: ref.name ?? shortDigest, reference };
  }
}

function baseName(p: string): string {
  const parts = p.split('/').filter((x) => x !== '');
  return (parts.pop() ?? 'image').replace(/\.(tar|oci|tgz)$/, '');
}

/** Pulls the image the opened source names; returns its store ID. */
export async function pullImage(env: PullEnv, ref: OciReference, opened: OpenedSource, unpack: LayerUnpacker): Promise<string> {
  const { source } = opened;
  const img = await resolveManifest(source, env);
  let verifiedBy: string | undefined;
  if (env.verify) {
    verifiedBy = (await opened.checkSignature(parseDigest(img.manifestDigest, 'manifest digest'))).verifiedBy;
    env.debug(`${source.description}: ${verifiedBy}`);
  } else {
    env.debug(`${source.description}: signature not checked (--insecure-options=image)`);
  }
  const layers = await pullLayers(env, source, img, unpack);
  const id = identityOf(ref, img.manifestDigest);
  const appManifest = appcManifestFor(img.config, { ...id, manifestDigest: img.manifestDigest, configDigest: img.manifest.config.digest.text });
  const labels: Record<string, string> = {};
  for (const l of appManifest.labels) labels[l.name] = l.value;
  return env.store.importOciImage({
    manifestBytes: img.manifestBytes,
    configBytes: img.configBytes,
    appManifest,
    name: id.name,
    labels,
    oci: { reference: id.reference, manifestDigest: img.manifestDigest, configDigest: img.manifest.config.digest.text, layers },
    signatureVerified: verifiedBy !== undefined,
    ...(verifiedBy !== undefined ? { verifiedBy } : {}),
  });
}
