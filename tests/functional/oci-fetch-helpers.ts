// Shared by the oci-fetch-*.test.ts files: a private rkt store and config driven through the built CLI,
// a snapshot of the store's OCI parts (to prove a refused fetch left nothing behind), the refusal shape
// every test checks, images with hand-made layer blobs, and raw pushes into the test registry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { rktBin, runRkt, tempRktDirs, type RktDirs, type RunResult } from '../harness/aci.js';
import {
  configDocument, OCI_MEDIA, sha256, type BuiltBlob, type BuiltImage, type BuiltIndex, type BuiltLayer, type Compression, type ImageConfigSpec,
} from '../harness/oci-image.js';
import type { TestRegistry } from '../harness/registry.js';
import { pushBlob, pushManifest, type RegistryPushTarget } from '../harness/sigstore-key.js';

export interface OciFetchEnv {
  readonly dirs: RktDirs;
  /** The store (--dir). */
  readonly dir: string;
  /** Environment for every rkt run; tests add NODE_EXTRA_CA_CERTS here. */
  readonly env: Record<string, string>;
  rkt(args: readonly string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult>;
  /** Starts rkt without waiting for it (to run two at once, or to kill it). */
  spawn(args: readonly string[]): ResultPromise;
  cleanup(): Promise<void>;
}

export async function makeOciFetchEnv(caCert?: string): Promise<OciFetchEnv> {
  const dirs = await tempRktDirs('rkt-oci-fetch-');
  const env: Record<string, string> = caCert ? { NODE_EXTRA_CA_CERTS: caCert } : {};
  return {
    dirs,
    dir: dirs.dir,
    env,
    rkt: (args, opts = {}) => runRkt(args, { dirs, env: opts.env ?? env, timeoutMs: opts.timeoutMs ?? 90_000 }),
    spawn: (args) => execa(process.execPath, [rktBin(), ...dirs.globalArgs(), ...args], { reject: false, env, stdin: 'ignore' }),
    cleanup: () => dirs.cleanup(),
  };
}

/** A fresh store in the same config dirs (to fetch into an empty store again). */
export async function resetStore(e: OciFetchEnv): Promise<void> {
  await fs.rm(e.dir, { recursive: true, force: true });
  await fs.mkdir(e.dir);
}

/** rkt's auth.d entry of kind dockerAuth, in the local config. */
export async function writeDockerAuth(e: OciFetchEnv, host: string, user: string, password: string): Promise<void> {
  const d = path.join(e.dirs.localConfig, 'auth.d');
  await fs.mkdir(d, { recursive: true });
  await fs.writeFile(path.join(d, 'registry.json'), JSON.stringify({ rktKind: 'dockerAuth', rktVersion: 'v1', registries: [host], credentials: { user, password } }));
}

async function names(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).sort();
}

export interface StoreState {
  readonly images: string[];
  readonly layers: string[];
  readonly blobs: string[];
  readonly trees: string[];
}

export async function storeState(dir: string): Promise<StoreState> {
  const cas = path.join(dir, 'cas');
  return {
    images: await names(path.join(cas, 'images')),
    layers: await names(path.join(cas, 'layers')),
    blobs: await names(path.join(cas, 'blobs', 'sha256')),
    trees: await names(path.join(cas, 'trees')),
  };
}

/** Work dirs a finished rkt left in cas/tmp (a clean failure removes its own). */
export async function casTmp(dir: string): Promise<string[]> {
  return names(path.join(dir, 'cas', 'tmp'));
}

/** Exit 254 and exactly one stderr line `<command>: ...` matching `re`. */
export function assertRefused(r: RunResult, re: RegExp, command = 'fetch'): void {
  assert.equal(r.exitCode, 254, `expected a refusal, got ${r.exitCode}: ${r.stderr}${r.stdout}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one error line expected, got:\n${r.stderr}`);
  assert.ok(lines[0]?.startsWith(`${command}: `), lines[0]);
  assert.match(lines[0] ?? '', re);
  assert.equal(r.stdout, '', 'nothing on stdout');
}

/**
 * After a refusal: the store holds exactly what it held before (no image, no layer tree, no blob),
 * every layer dir there is complete, no work dir was left, and `rkt image list` still works.
 */
export async function assertStoreUnchanged(e: OciFetchEnv, before: StoreState): Promise<void> {
  assert.deepEqual(await storeState(e.dir), before, 'the refused fetch left nothing in the store');
  assert.deepEqual(await casTmp(e.dir), [], 'no work dir left in cas/tmp');
  for (const l of before.layers) {
    await fs.access(path.join(e.dir, 'cas', 'layers', l, 'layer.json'));
  }
  const list = await e.rkt(['image', 'list', '--full', '--no-legend']);
  assert.equal(list.exitCode, 0, list.stderr);
}

/** The full image ID a successful fetch printed (with --full). */
export function fetchedId(r: RunResult): string {
  assert.equal(r.exitCode, 0, `fetch failed: ${r.stderr}`);
  const id = r.stdout.trim();
  assert.match(id, /^sha512-[0-9a-f]{64}$/, `not a full image ID: ${r.stdout}`);
  return id;
}

/** `rkt [globals] fetch --full [fetchFlags] image`, which must succeed. */
export async function fetchOk(e: OciFetchEnv, image: string, globals: readonly string[] = [], fetchFlags: readonly string[] = []): Promise<string> {
  return fetchedId(await e.rkt([...globals, 'fetch', '--full', ...fetchFlags, image]));
}

/** rkt's image ID for an OCI manifest. */
export function imageIdOf(manifestBytes: Buffer): string {
  return `sha512-${createHash('sha512').update(manifestBytes).digest('hex').slice(0, 64)}`;
}

export const layerDirOf = (diffId: string): string => `sha256-${diffId.slice('sha256:'.length)}`;

/** A layer whose bytes are given exactly (truncated, mislabelled, bombs); `diffId` is what the config will claim. */
export function rawLayer(bytes: Buffer, diffId: string, mediaType: string = OCI_MEDIA.layerGzip, compression: Compression = 'gzip'): BuiltLayer {
  return { mediaType, digest: sha256(bytes), size: bytes.length, bytes, compression, tar: Buffer.alloc(0), diffId };
}

/** An OCI image over the given layers (blobs as they are), with a generated config. */
export function imageOf(layers: readonly BuiltLayer[], config: ImageConfigSpec = {}): BuiltImage {
  const configBytes = Buffer.from(JSON.stringify(configDocument(config, layers.map((l) => l.diffId))));
  const cfg: BuiltBlob = { mediaType: OCI_MEDIA.config, digest: sha256(configBytes), size: configBytes.length, bytes: configBytes };
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MEDIA.manifest,
    config: { mediaType: cfg.mediaType, digest: cfg.digest, size: cfg.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  const m: BuiltBlob = { mediaType: OCI_MEDIA.manifest, digest: sha256(manifestBytes), size: manifestBytes.length, bytes: manifestBytes };
  return {
    kind: 'image', manifestMediaType: OCI_MEDIA.manifest, manifestBytes, manifestDigest: m.digest, configBytes, configDigest: cfg.digest,
    configMediaType: OCI_MEDIA.config, layers, platform: config.platform ?? { architecture: 'amd64', os: 'linux' }, blobs: [m, cfg, ...layers],
  };
}

export function pushTarget(reg: TestRegistry, repository: string, ca: Buffer): RegistryPushTarget {
  return { origin: reg.origin, repository, ca };
}

/**
 * Pushes an image or index with the distribution API (blobs, then manifests by digest, then the top one
 * by tag), exactly as built: skopeo would pick one platform of an index or re-encode.
 */
export async function pushRaw(t: RegistryPushTarget, built: BuiltImage | BuiltIndex, tag: string): Promise<void> {
  const manifests = new Set<string>([OCI_MEDIA.manifest, OCI_MEDIA.index, OCI_MEDIA.dockerManifest, OCI_MEDIA.dockerList]);
  const seen = new Set<string>();
  const all = built.blobs;
  for (const b of all) {
    if (manifests.has(b.mediaType) || seen.has(b.digest)) continue;
    seen.add(b.digest);
    await pushBlob(t, b.bytes);
  }
  // Children before parents: an index's manifests must exist before the index names them.
  for (const b of [...all].reverse()) {
    if (!manifests.has(b.mediaType) || seen.has(b.digest)) continue;
    seen.add(b.digest);
    await pushManifest(t, b.digest, b.bytes, b.mediaType);
  }
  const top = built.kind === 'image' ? { bytes: built.manifestBytes, mediaType: built.manifestMediaType } : { bytes: built.indexBytes, mediaType: built.mediaType };
  await pushManifest(t, tag, top.bytes, top.mediaType);
}

/** Waits (bounded) until `cond` holds; the bound guards against a hang, it is not the check. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Lines of rkt --debug output saying a layer was unpacked (not found in the store). */
export function unpackedLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /: unpacked into sha256:[0-9a-f]{64}$/.test(l));
}
