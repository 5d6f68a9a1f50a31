// docker-archive:FILE[:REPO:TAG]: what `docker save` (and `skopeo copy ... docker-archive:`) writes. Its
// manifest.json lists images by RepoTags. Since Docker 25 the same tar also holds an OCI layout whose
// manifests are real and verifiable, and those are used when one matches; older archives have no manifest
// at all, so one is derived from manifest.json (the layer tars hashed once here) and the config's diff_ids
// are what the puller verifies the layers against.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RktError, describeCause } from '../../../common/errors.js';
import { normalizeEntryName } from '../../image/entry-rules.js';
import { digestOf, parseDigest } from '../digest.js';
import { MAX_DOCUMENT_BYTES, MEDIA, parseManifestOrIndex, type Descriptor } from '../documents.js';
import { formatDockerReference, parseDockerReference, type DockerReference } from '../reference.js';
import type { ImageSource, TopDocument } from '../source.js';
import { LayoutReader, tarLayoutFiles } from './layout-common.js';
import type { LocalSourceOptions } from './oci-layout.js';
import { TarIndex, type TarMember } from './tar-index.js';

/** One element of manifest.json. */
export interface DockerSaveEntry {
  /** Member name of the config JSON. */
  readonly config: string;
  readonly repoTags: readonly string[];
  /** Member names of the layer tars, bottom first. */
  readonly layers: readonly string[];
}

function invalid(file: string, why: string): RktError {
  return new RktError('IMAGE_INVALID', `invalid docker archive ${file}: ${why}`, {
    hint: 'the archive is malformed or truncated; write it again (docker save, skopeo copy ... docker-archive:FILE)',
  });
}

function memberName(raw: string, file: string, what: string): string {
  try {
    return normalizeEntryName(raw, 4096);
  } catch (err) {
    throw new RktError('IMAGE_HOSTILE', `refusing docker archive ${file}: manifest.json ${what} ${JSON.stringify(raw.slice(0, 120))}: ${describeCause(err).replace(/^refusing image: /, '')}`, {
      hint: 'the archive tries to reach outside itself; do not use it',
    });
  }
}

export function parseDockerSaveManifest(bytes: Buffer, file: string): DockerSaveEntry[] {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(file, `manifest.json is not JSON (${describeCause(err)})`);
  }
  if (!Array.isArray(v)) throw invalid(file, 'manifest.json is not a list');
  return v.map((e: unknown, i): DockerSaveEntry => {
    const at = `manifest.json[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw invalid(file, `${at} is not an object`);
    const o = e as Record<string, unknown>;
    const config = o['Config'];
    if (typeof config !== 'string') throw invalid(file, `${at}.Config must be a string`);
    const tags = o['RepoTags'] ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw invalid(file, `${at}.RepoTags must be a list of strings`);
    const layers = o['Layers'];
    if (!Array.isArray(layers) || !layers.every((t) => typeof t === 'string')) throw invalid(file, `${at}.Layers must be a list of strings`);
    return {
      config: memberName(config, file, `${at}.Config`),
      repoTags: tags as string[],
      layers: (layers as string[]).map((l, j) => memberName(l, file, `${at}.Layers[${j}]`)),
    };
  });
}

function sameRef(a: DockerReference, b: DockerReference): boolean {
  return a.host === b.host && a.repository === b.repository && a.tag === b.tag;
}

/** RepoTags as written ("busybox:latest") match the reference in its normalized form (docker.io/library/busybox:latest). */
function tagMatches(repoTag: string, want: DockerReference): boolean {
  try {
    return sameRef(parseDockerReference(repoTag), want);
  } catch {
    return false; // A tag rkt cannot parse names nothing the user can type.
  }
}

export function selectDockerSaveEntry(entries: readonly DockerSaveEntry[], ref: DockerReference | undefined, file: string): DockerSaveEntry {
  const shown = (es: readonly DockerSaveEntry[]): string => es.map((e) => (e.repoTags.length ? e.repoTags.join(' ') : '(untagged)')).join(', ') || 'nothing';
  if (ref === undefined) {
    const only = entries[0];
    if (entries.length === 1 && only) return only;
    if (entries.length === 0) throw new RktError('IMAGE_NOT_FOUND', `docker archive ${file} holds no images`, { hint: 'its manifest.json is an empty list' });
    throw new RktError('IMAGE_AMBIGUOUS', `docker archive ${file} holds ${entries.length} images (${shown(entries)}); say which one`, {
      hint: `add the tag: docker-archive:${file}:REPO:TAG`,
    });
  }
  if (ref.tag === undefined) {
    throw new RktError('USAGE', `docker archive images are named by tag, not digest (${formatDockerReference(ref)})`, {
      hint: `write docker-archive:${file}:REPO:TAG`,
    });
  }
  const hits = entries.filter((e) => e.repoTags.some((t) => tagMatches(t, ref)));
  const hit = hits[0];
  if (hits.length === 1 && hit) return hit;
  if (hits.length > 1) throw new RktError('IMAGE_AMBIGUOUS', `docker archive ${file} has ${hits.length} images tagged ${formatDockerReference(ref)}`, { hint: 'the archive is ambiguous; save the images again' });
  throw new RktError('IMAGE_NOT_FOUND', `docker archive ${file} has no image tagged ${formatDockerReference(ref)} (it holds: ${shown(entries)})`, {
    hint: 'use one of the RepoTags in its manifest.json',
  });
}

function layerMediaType(head: Buffer): string {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return MEDIA.ociLayerGzip;
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return MEDIA.ociLayerZstd;
  return MEDIA.ociLayer;
}

interface Derived {
  readonly manifest: Buffer;
  readonly blobs: ReadonlyMap<string, TarMember>;
}

class DockerArchiveSource implements ImageSource {
  private derived: Promise<Derived> | undefined;

  constructor(
    readonly description: string,
    private readonly tar: TarIndex,
    private readonly entry: DockerSaveEntry,
    /** Docker 25+: the archive's own manifest for this entry. */
    private readonly oci: { reader: LayoutReader; desc: Descriptor } | undefined,
  ) {}

  private member(name: string, what: string): TarMember {
    const m = this.tar.resolve(name);
    if (!m) throw invalid(this.tar.file, `manifest.json names ${what} ${name}, which is not in the archive`);
    return m;
  }

  private async hash(m: TarMember): Promise<{ digest: string; head: Buffer }> {
    const h = createHash('sha256');
    let head: Buffer | undefined;
    for await (const chunk of this.tar.stream(m)) {
      const b = chunk as Buffer;
      head ??= b.subarray(0, 8);
      h.update(b);
    }
    return { digest: `sha256:${h.digest('hex')}`, head: head ?? Buffer.alloc(0) };
  }

  /** The manifest an old docker save never wrote: config and layers described by what the archive holds. */
  private async derive(): Promise<Derived> {
    const blobs = new Map<string, TarMember>();
    const cm = this.member(this.entry.config, 'config');
    const config = await this.tar.read(cm, MAX_DOCUMENT_BYTES, 'image config');
    const configDigest = digestOf(config);
    blobs.set(configDigest, cm);
    const layers = [];
    for (const name of this.entry.layers) {
      const m = this.member(name, 'layer');
      const { digest, head } = await this.hash(m);
      blobs.set(digest, m);
      layers.push({ mediaType: layerMediaType(head), digest, size: m.size });
    }
    const manifest = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: config.length }, layers }),
    );
    return { manifest, blobs };
  }

  private legacy(): Promise<Derived> {
    this.derived ??= this.derive();
    return this.derived;
  }

  async top(): Promise<TopDocument> {
    if (this.oci) return this.oci.reader.top(this.oci.desc);
    return { bytes: (await this.legacy()).manifest, mediaType: MEDIA.ociManifest, expectedDigest: undefined };
  }

  async manifest(desc: Descriptor): Promise<Buffer> {
    if (this.oci) return this.oci.reader.document(desc);
    throw new RktError('IMAGE_NOT_FOUND', `${this.description} holds no manifest ${desc.digest.text}`, {
      hint: 'a docker archive without an OCI layout has no manifests; rkt derives the one it needs',
    });
  }

  async blob(desc: Descriptor): Promise<Readable> {
    if (this.oci) return this.oci.reader.blob(desc);
    const m = (await this.legacy()).blobs.get(desc.digest.text);
    if (!m) {
      throw new RktError('IMAGE_NOT_FOUND', `${this.description} holds no blob ${desc.digest.text}`, {
        hint: 'ask only for the config and layers of the manifest top() returned',
      });
    }
    return this.tar.stream(m);
  }

  async close(): Promise<void> {
    await this.tar.close();
  }
}

/**
 * In a Docker 25+ archive, the manifest (in index.json, directly or one index down) whose config is the
 * entry's config blob. Undefined when the archive has no layout or no manifest matches.
 */
async function findOciManifest(tar: TarIndex, entry: DockerSaveEntry, debug: ((m: string) => void) | undefined): Promise<{ reader: LayoutReader; desc: Descriptor } | undefined> {
  if (!tar.has('index.json') || !tar.has('oci-layout')) return undefined;
  const m = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(entry.config);
  if (!m) return undefined;
  const configDigest = parseDigest(`${m[1]}:${m[2]}`, `manifest.json Config in ${tar.file}`).text;
  const reader = new LayoutReader(tarLayoutFiles(tar, `archive ${tar.file}`));
  const index = await reader.index();
  const visit = async (descs: readonly Descriptor[], depth: number): Promise<Descriptor | undefined> => {
    for (const d of descs) {
      let doc;
      try {
        doc = parseManifestOrIndex(await reader.document(d), d.mediaType, `${d.digest.text} in ${tar.file}`);
      } catch (err) {
        if (err instanceof RktError && err.code === 'IMAGE_HOSTILE') throw err;
        debug?.(`skipping ${d.digest.text} in ${tar.file}: ${describeCause(err)}`);
        continue;
      }
      if (doc.kind === 'manifest' && doc.config.digest.text === configDigest) return d;
      if (doc.kind === 'index' && depth === 0) {
        const inner = await visit(doc.manifests, 1);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  const desc = await visit(index.manifests, 0);
  if (desc === undefined) debug?.(`no manifest in the OCI layout of ${tar.file} has config ${configDigest}; deriving one from manifest.json`);
  return desc ? { reader, desc } : undefined;
}

export async function openDockerArchive(file: string, ref: DockerReference | undefined, opts: LocalSourceOptions): Promise<ImageSource> {
  const description = `docker-archive:${file}${ref ? `:${formatDockerReference(ref)}` : ''}`;
  const tar = await TarIndex.open(file, opts);
  try {
    const mm = tar.resolve('manifest.json');
    if (!mm) {
      if (tar.has('index.json')) {
        throw new RktError('IMAGE_INVALID', `invalid docker archive ${file}: there is no manifest.json, but there is an index.json`, {
          hint: `it looks like a tar of an OCI layout: write oci-archive:${file}`,
        });
      }
      throw invalid(file, 'there is no manifest.json');
    }
    const entries = parseDockerSaveManifest(await tar.read(mm, MAX_DOCUMENT_BYTES, 'manifest.json'), file);
    const entry = selectDockerSaveEntry(entries, ref, file);
    const oci = await findOciManifest(tar, entry, opts.debug);
    opts.debug?.(`${description}: ${oci ? `OCI manifest ${oci.desc.digest.text}` : 'legacy archive, manifest derived from manifest.json'}`);
    return new DockerArchiveSource(description, tar, entry, oci);
  } catch (err) {
    await tar.close();
    throw err;
  }
}
