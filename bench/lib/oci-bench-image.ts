// The image the oci-pull suite pulls: five gzip layers shaped like a real application image (an OS base
// with many small files, a runtime with large binaries, dependencies, data, a small app layer on top),
// generated from fixed seeds so every run pushes byte-identical blobs. Top-layer variants share the four
// lower layers, so a tag update changes exactly one layer.
import { createCipheriv, createHash } from 'node:crypto';
import path from 'node:path';
import {
  busyboxEntries, buildLayer, configDocument, OCI_MEDIA, sha256, type BuiltImage, type BuiltLayer, type LayerEntry,
} from '../../tests/harness/oci-image.js';

const MiB = 2 ** 20;
const KiB = 2 ** 10;

/** A deterministic byte stream: AES-256-CTR over zeros, keyed by the seed (fast, and as incompressible as random). */
export class SeededBytes {
  private readonly cipher;
  constructor(seed: string) {
    const key = createHash('sha256').update(seed).digest();
    this.cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }
  bytes(n: number): Buffer {
    return this.cipher.update(Buffer.alloc(n));
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.bytes(4).readUInt32LE(0) % (hi - lo + 1));
  }
}

const WORDS = (
  'the of and to in is for on that with as by at from this be are was an or it not which have has but all can ' +
  'request response error warning info debug service handler config module package version build install ' +
  'update remove cache buffer stream socket thread worker queue timeout retry connect listen started stopped ' +
  'failed success user group file directory path value option default enabled disabled level message status'
).split(' ');

/** Log- and doc-like text: compresses about as well as real text (gzip ~3-4x). */
export function seededText(rng: SeededBytes, n: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  let line = 0;
  while (size < n) {
    const b = rng.bytes(16);
    const words: string[] = [];
    for (let i = 0; i < 2 + (b[0]! % 12); i++) words.push(WORDS[b[i + 1]! % WORDS.length]!);
    const s = `2020-01-01T00:${String(line % 60).padStart(2, '0')}:${String(b[15]! % 60).padStart(2, '0')} svc[${1000 + (b[14]! * 7)}]: ${words.join(' ')}\n`;
    parts.push(s);
    size += s.length;
    line++;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

interface FileSpec {
  path: string;
  content: Buffer;
  mode?: number;
}

/** Layer entries for `files`, each parent directory once and before what it holds (as tar -c lists them). */
function withDirs(files: readonly FileSpec[], extra: readonly LayerEntry[] = []): LayerEntry[] {
  const dirs = new Set<string>();
  for (const f of files) {
    for (let d = path.posix.dirname(f.path); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  }
  return [
    ...[...dirs].sort().map((d): LayerEntry => ({ type: 'dir', path: d })),
    ...files.map((f): LayerEntry => ({ type: 'file', path: f.path, content: f.content, mode: f.mode ?? 0o644 })),
    ...extra,
  ];
}

function smallText(rng: SeededBytes, count: number, avg: number, name: (i: number) => string): FileSpec[] {
  return Array.from({ length: count }, (_, i) => ({ path: name(i), content: seededText(rng, rng.int(Math.floor(avg / 4), Math.floor(avg * 1.75))) }));
}

function smallBinary(rng: SeededBytes, count: number, avg: number, name: (i: number) => string, mode = 0o644): FileSpec[] {
  return Array.from({ length: count }, (_, i) => ({ path: name(i), content: rng.bytes(rng.int(Math.floor(avg / 4), Math.floor(avg * 1.75))), mode }));
}

function large(rng: SeededBytes, count: number, size: number, name: (i: number) => string, kind: 'binary' | 'text'): FileSpec[] {
  return Array.from({ length: count }, (_, i) => ({ path: name(i), content: kind === 'binary' ? rng.bytes(size) : seededText(rng, size) }));
}

const pad = (i: number): string => String(i).padStart(4, '0');

/** `scale` 1 gives ~200 MiB uncompressed; BENCH_QUICK uses less. */
function lowerLayerEntries(scale: number): LayerEntry[][] {
  const n = (x: number): number => Math.max(1, Math.round(x * scale));
  const base = new SeededBytes('oci-pull/base');
  const runtime = new SeededBytes('oci-pull/runtime');
  const deps = new SeededBytes('oci-pull/deps');
  const data = new SeededBytes('oci-pull/data');
  return [
    // OS base: busybox userland, thousands of small docs, some shared libraries.
    [
      ...busyboxEntries(),
      ...withDirs([
        ...smallText(base, n(4000), 4 * KiB, (i) => `usr/share/doc/pkg-${pad(Math.floor(i / 4))}/${['README', 'copyright', 'changelog', 'NEWS'][i % 4]}`),
        ...smallBinary(base, n(40), 256 * KiB, (i) => `usr/lib/x86_64-linux-gnu/libbench${pad(i)}.so.1`, 0o755),
      ]),
    ],
    // Runtime: large incompressible binaries, plus many small compiled modules.
    withDirs([
      ...large(runtime, n(10), 6 * MiB, (i) => `opt/runtime/bin/tool-${pad(i)}`, 'binary').map((f) => ({ ...f, mode: 0o755 })),
      ...smallBinary(runtime, n(1000), 8 * KiB, (i) => `opt/runtime/lib/mod-${pad(Math.floor(i / 50))}/m${pad(i)}.so`),
    ]),
    // Dependencies: source-like small files, some big text bundles, some big binaries.
    withDirs([
      ...smallText(deps, n(3000), 3 * KiB, (i) => `srv/app/node_modules/dep-${pad(Math.floor(i / 20))}/lib/f${pad(i)}.js`),
      ...large(deps, n(4), 8 * MiB, (i) => `srv/app/bundles/bundle-${pad(i)}.js`, 'text'),
      ...large(deps, n(6), 3 * MiB, (i) => `srv/app/native/addon-${pad(i)}.node`, 'binary'),
    ]),
    // Data, and the kind of change a later build makes to what is below: one file replaced, one deleted.
    withDirs(
      [
        ...large(data, n(2), 12 * MiB, (i) => `var/lib/app/blob-${pad(i)}.bin`, 'binary'),
        ...large(data, n(8), 2 * MiB, (i) => `var/lib/app/table-${pad(i)}.csv`, 'text'),
        { path: 'opt/runtime/bin/tool-0000', content: data.bytes(1 * MiB), mode: 0o755 },
      ],
      [{ type: 'whiteout', path: 'usr/share/doc/pkg-0000/NEWS' }],
    ),
  ];
}

/** The small top layer (~6 MiB at scale 1); each variant has different content. */
function topLayerEntries(scale: number, variant: number): LayerEntry[] {
  const rng = new SeededBytes(`oci-pull/top/${variant}`);
  const n = (x: number): number => Math.max(1, Math.round(x * scale));
  return withDirs([
    ...smallText(rng, n(300), 4 * KiB, (i) => `srv/app/src/m${pad(i)}.js`),
    { path: 'srv/app/app.bin', content: rng.bytes(Math.round(4 * MiB * scale)), mode: 0o755 },
    { path: 'srv/app/build-info.txt', content: seededText(rng, Math.round(1 * MiB * scale)) },
  ]);
}

/** An OCI image over already built layers (buildImage would re-pack and re-compress every layer). */
export function imageOf(layers: readonly BuiltLayer[]): BuiltImage {
  const configBytes = Buffer.from(JSON.stringify(configDocument({
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cmd: ['/bin/sh', '-c', 'exit 0'],
  }, layers.map((l) => l.diffId))));
  const config = { mediaType: OCI_MEDIA.config, digest: sha256(configBytes), size: configBytes.length, bytes: configBytes };
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MEDIA.manifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  const manifest = { mediaType: OCI_MEDIA.manifest, digest: sha256(manifestBytes), size: manifestBytes.length, bytes: manifestBytes };
  return {
    kind: 'image',
    manifestMediaType: OCI_MEDIA.manifest,
    manifestBytes,
    manifestDigest: manifest.digest,
    configBytes,
    configDigest: config.digest,
    configMediaType: OCI_MEDIA.config,
    layers,
    platform: { architecture: 'amd64', os: 'linux' },
    blobs: [manifest, config, ...layers],
  };
}

export interface BenchImages {
  lower: readonly BuiltLayer[];
  /** The five-layer image with top variant 0. */
  big: BuiltImage;
  /** Top-layer variant `v` (v >= 1): the four lower layers and top v. */
  updated(v: number): Promise<BuiltImage>;
  /** Just top-layer variant v, as a one-layer image. */
  topOnly(v: number): Promise<BuiltImage>;
}

export async function buildBenchImages(scale: number): Promise<BenchImages> {
  const lower: BuiltLayer[] = [];
  for (const entries of lowerLayerEntries(scale)) lower.push(await buildLayer({ entries, compression: 'gzip' }));
  const tops = new Map<number, BuiltLayer>();
  const top = async (v: number): Promise<BuiltLayer> => {
    let l = tops.get(v);
    if (!l) {
      l = await buildLayer({ entries: topLayerEntries(scale, v), compression: 'gzip' });
      tops.set(v, l);
    }
    return l;
  };
  return {
    lower,
    big: imageOf([...lower, await top(0)]),
    updated: async (v) => imageOf([...lower, await top(v)]),
    topOnly: async (v) => imageOf([await top(v)]),
  };
}

export function uncompressedBytes(img: BuiltImage): number {
  return img.layers.reduce((n, l) => n + l.tar.length, 0);
}

export function compressedBytes(img: BuiltImage): number {
  return img.layers.reduce((n, l) => n + l.size, 0);
}
