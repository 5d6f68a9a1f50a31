// What the three local sources share: reading an OCI image layout (oci-layout, index.json, blobs/<alg>/<hex>)
// through a small file-access interface, so a directory, an oci-archive and a Docker 25+ docker-archive
// are one code path; choosing an index.json entry by name; and turning descriptors into blob paths safely.
import type { Readable } from 'node:stream';
import { RktError } from '../../../common/errors.js';
import { parseDigest } from '../digest.js';
import { MAX_DOCUMENT_BYTES, MEDIA, parseManifestOrIndex, type Descriptor, type ImageIndex } from '../documents.js';
import type { TopDocument } from '../source.js';
import type { TarIndex } from './tar-index.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

/** Read access to the files of a layout, by path relative to its root ("index.json", "blobs/sha256/…"). */
export interface LayoutFiles {
  /** For messages: "directory /x" or "archive /x.tar". */
  readonly where: string;
  /** The file's bytes, or undefined when it does not exist; larger than `max` is an IMAGE_INVALID error. */
  read(rel: string, max: number, what: string): Promise<Buffer | undefined>;
  /** The file as a stream, or undefined when it does not exist. */
  open(rel: string): Promise<Readable | undefined>;
}

export function invalidLayout(where: string, why: string, hint = 'the image layout is malformed; write it again (skopeo copy, buildah push, docker save)'): RktError {
  return new RktError('IMAGE_INVALID', `invalid OCI layout in ${where}: ${why}`, { hint });
}

export function hostileLayout(where: string, why: string): RktError {
  return new RktError('IMAGE_HOSTILE', `refusing OCI layout in ${where}: ${why}`, {
    hint: 'the layout tries to reach files outside itself; do not use it',
  });
}

/**
 * blobs/<alg>/<hex> for a descriptor. The digest is parsed again from its text (a Descriptor can be built
 * by any caller) so only a well-formed algorithm and hex string ever become a path component.
 */
export function blobPath(desc: Descriptor, where: string): string {
  const text = typeof desc.digest?.text === 'string' ? desc.digest.text : '';
  let d;
  try {
    d = parseDigest(text, 'a descriptor');
  } catch {
    throw hostileLayout(where, `descriptor digest ${JSON.stringify(text.slice(0, 140))} is not algorithm:hex, so it cannot name a blob`);
  }
  if (d.algorithm !== desc.digest.algorithm || d.hex !== desc.digest.hex) {
    throw hostileLayout(where, `descriptor digest ${JSON.stringify(text.slice(0, 140))} does not match its parts`);
  }
  return `blobs/${d.algorithm}/${d.hex}`;
}

/** Digest strings in index.json that try to be paths get a hostile error, not a mere "invalid digest". */
function checkRawDigests(bytes: Buffer, where: string): void {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return; // parseManifestOrIndex reports it precisely.
  }
  const list = typeof v === 'object' && v !== null ? (v as { manifests?: unknown }).manifests : undefined;
  if (!Array.isArray(list)) return;
  for (const e of list) {
    const dg = typeof e === 'object' && e !== null ? (e as { digest?: unknown }).digest : undefined;
    if (typeof dg === 'string' && (dg.includes('/') || dg.includes('\\') || dg.includes('..'))) {
      throw hostileLayout(where, `index.json names blob ${JSON.stringify(dg.slice(0, 140))}, a path outside blobs/`);
    }
  }
}

export class LayoutReader {
  constructor(readonly files: LayoutFiles) {}

  get where(): string {
    return this.files.where;
  }

  /** Checks oci-layout and parses index.json. */
  async index(): Promise<ImageIndex> {
    const marker = await this.files.read('oci-layout', 4096, 'oci-layout');
    if (marker === undefined) {
      throw invalidLayout(this.where, 'there is no oci-layout file', 'an OCI image layout has oci-layout, index.json and blobs/; write one with skopeo copy ... oci:DIR:NAME');
    }
    let version: unknown;
    try {
      version = (JSON.parse(marker.toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      throw invalidLayout(this.where, 'oci-layout is not JSON');
    }
    if (version !== '1.0.0') {
      throw invalidLayout(this.where, `oci-layout says imageLayoutVersion ${JSON.stringify(version)}, rkt reads "1.0.0"`);
    }
    const bytes = await this.files.read('index.json', MAX_DOCUMENT_BYTES, 'index.json');
    if (bytes === undefined) throw invalidLayout(this.where, 'there is no index.json');
    checkRawDigests(bytes, this.where);
    const doc = parseManifestOrIndex(bytes, MEDIA.ociIndex, `index.json in ${this.where}`);
    if (doc.kind !== 'index') throw invalidLayout(this.where, 'index.json is a manifest, not an index');
    return doc;
  }

  /** A manifest or index blob, bounded by MAX_DOCUMENT_BYTES. */
  async document(desc: Descriptor): Promise<Buffer> {
    const rel = blobPath(desc, this.where);
    if (desc.size > MAX_DOCUMENT_BYTES) {
      throw invalidLayout(this.where, `${desc.digest.text} is ${desc.size} bytes, more than the ${MAX_DOCUMENT_BYTES} a manifest may have`);
    }
    const b = await this.files.read(rel, MAX_DOCUMENT_BYTES, `document ${desc.digest.text}`);
    if (b === undefined) throw missingBlob(this.where, desc);
    return b;
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const s = await this.files.open(blobPath(desc, this.where));
    if (s === undefined) throw missingBlob(this.where, desc);
    return s;
  }

  async top(desc: Descriptor): Promise<TopDocument> {
    return { bytes: await this.document(desc), mediaType: desc.mediaType, expectedDigest: desc.digest.text, expectedSize: desc.size };
  }
}

function missingBlob(where: string, desc: Descriptor): RktError {
  return new RktError('IMAGE_NOT_FOUND', `blob ${desc.digest.text} is missing from ${where}`, {
    hint: 'the layout is incomplete (a partial copy, or blobs removed by hand); copy the image again',
  });
}

function nameOf(d: Descriptor): string | undefined {
  return d.annotations[REF_NAME];
}

function listNames(index: ImageIndex): string {
  const names = index.manifests.map((d) => nameOf(d) ?? `(unnamed ${d.digest.text.slice(0, 19)})`);
  return names.length ? names.join(', ') : 'nothing';
}

/**
 * The index.json entry the user named (by org.opencontainers.image.ref.name), or the only entry when no
 * name was given. `shown` is the layout as the user wrote it, e.g. "oci:/x".
 */
export function selectEntry(index: ImageIndex, name: string | undefined, shown: string): Descriptor {
  if (name === undefined) {
    const only = index.manifests[0];
    if (index.manifests.length === 1 && only) return only;
    if (index.manifests.length === 0) {
      throw new RktError('IMAGE_NOT_FOUND', `${shown} holds no images (its index.json lists none)`, { hint: 'copy an image into it first' });
    }
    throw new RktError('IMAGE_AMBIGUOUS', `${shown} holds ${index.manifests.length} images (${listNames(index)}); say which one`, {
      hint: `add the name: ${shown}:NAME`,
    });
  }
  const hits = index.manifests.filter((d) => nameOf(d) === name);
  const hit = hits[0];
  if (hits.length === 1 && hit) return hit;
  if (hits.length > 1) {
    throw new RktError('IMAGE_AMBIGUOUS', `${shown} has ${hits.length} entries named ${JSON.stringify(name)}`, {
      hint: 'the layout is ambiguous; give each image its own name (skopeo copy ... oci:DIR:NAME)',
    });
  }
  throw new RktError('IMAGE_NOT_FOUND', `${shown} has no image named ${JSON.stringify(name)} (it holds: ${listNames(index)})`, {
    hint: 'names are the org.opencontainers.image.ref.name annotations in index.json',
  });
}

/** A layout's files as members of an indexed tar (an oci-archive, a Docker 25+ docker-archive). */
export function tarLayoutFiles(tar: TarIndex, where: string): LayoutFiles {
  return {
    where,
    async read(rel, max, what) {
      const m = tar.resolve(rel);
      return m ? tar.read(m, max, what) : undefined;
    },
    async open(rel) {
      const m = tar.resolve(rel);
      return m ? tar.stream(m) : undefined;
    },
  };
}
