// The per-image metadata file (info.json): its typed shape, and strict parsing of what is on disk.
import { readFile } from 'node:fs/promises';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';

export interface ImageInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  importTime: Date;
  lastUsed: Date;
  /** Bytes of the stored (uncompressed) ACI. */
  size: number;
  origin?: string;
  etag?: string;
  cacheMaxAge?: number;
  signatureVerified?: boolean;
  /** Which key verified the image ("sigstore key … trusted for …"), when one did. */
  verifiedBy?: string;
  /** Set for OCI/Docker images; ACIs have none. */
  oci?: OciImageInfo;
  /** Other names the same image was imported under (another tag, another registry): it answers to each. */
  aliases?: ImageAlias[];
}

export interface ImageAlias {
  name: string;
  labels: Record<string, string>;
  /** The reference that name was fetched by (OCI images). */
  reference?: string;
}

export interface OciLayerInfo {
  /** Digest of the blob as served (compressed). */
  digest: string;
  /** sha256 of the uncompressed tar: the key of the layer tree. */
  diffId: string;
  size: number;
  mediaType: string;
}

export interface OciImageInfo {
  /** The reference it was fetched by, e.g. docker://127.0.0.1:5000/acme/app:1.0. */
  reference: string;
  manifestDigest: string;
  configDigest: string;
  /** Bottom layer first, as in the manifest. */
  layers: OciLayerInfo[];
}

interface InfoJson {
  id: string;
  name: string;
  labels: Record<string, string>;
  importTime: string;
  lastUsed: string;
  size: number;
  origin?: string;
  etag?: string;
  cacheMaxAge?: number;
  signatureVerified?: boolean;
  verifiedBy?: string;
  oci?: OciImageInfo;
  aliases?: ImageAlias[];
}

export function serializeInfo(info: ImageInfo): string {
  const j: InfoJson = {
    id: info.id,
    name: info.name,
    labels: info.labels,
    importTime: info.importTime.toISOString(),
    lastUsed: info.lastUsed.toISOString(),
    size: info.size,
  };
  if (info.origin !== undefined) j.origin = info.origin;
  if (info.etag !== undefined) j.etag = info.etag;
  if (info.cacheMaxAge !== undefined) j.cacheMaxAge = info.cacheMaxAge;
  if (info.signatureVerified !== undefined) j.signatureVerified = info.signatureVerified;
  if (info.verifiedBy !== undefined) j.verifiedBy = info.verifiedBy;
  if (info.oci !== undefined) j.oci = info.oci;
  if (info.aliases !== undefined && info.aliases.length > 0) j.aliases = info.aliases;
  return JSON.stringify(j, null, 1) + '\n';
}

function bad(file: string, why: string): RktError {
  return new RktError('STORE', `corrupt image metadata ${file}: ${why}`, { hint: 'remove the image with "rkt image rm" and fetch it again' });
}

export function parseInfo(text: string, file: string): ImageInfo {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw bad(file, describeCause(err));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(file, 'not a JSON object');
  const o = v as Record<string, unknown>;
  const str = (k: string): string => {
    const x = o[k];
    if (typeof x !== 'string') throw bad(file, `${k} must be a string`);
    return x;
  };
  const optStr = (k: string): string | undefined => (o[k] === undefined ? undefined : str(k));
  const date = (k: string): Date => {
    const d = new Date(str(k));
    if (Number.isNaN(d.getTime())) throw bad(file, `${k} is not a date`);
    return d;
  };
  const labels = parseLabels(o['labels'], 'labels', file);
  const size = o['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(file, 'size must be a non-negative integer');
  const info: ImageInfo = { id: str('id'), name: str('name'), labels, importTime: date('importTime'), lastUsed: date('lastUsed'), size };
  const origin = optStr('origin');
  if (origin !== undefined) info.origin = origin;
  const etag = optStr('etag');
  if (etag !== undefined) info.etag = etag;
  const cma = o['cacheMaxAge'];
  if (cma !== undefined) {
    if (typeof cma !== 'number') throw bad(file, 'cacheMaxAge must be a number');
    info.cacheMaxAge = cma;
  }
  const sv = o['signatureVerified'];
  if (sv !== undefined) {
    if (typeof sv !== 'boolean') throw bad(file, 'signatureVerified must be a boolean');
    info.signatureVerified = sv;
  }
  const vb = optStr('verifiedBy');
  if (vb !== undefined) info.verifiedBy = vb;
  if (o['oci'] !== undefined) info.oci = parseOciInfo(o['oci'], file);
  if (o['aliases'] !== undefined) info.aliases = parseAliases(o['aliases'], file);
  return info;
}

function parseLabels(v: unknown, what: string, file: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(file, `${what} must be an object`);
  const labels: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw bad(file, `${what === 'labels' ? 'label' : `${what} label`} ${k} must be a string`);
    labels[k] = val;
  }
  return labels;
}

function parseAliases(v: unknown, file: string): ImageAlias[] {
  if (!Array.isArray(v)) throw bad(file, 'aliases must be a list');
  return v.map((a: unknown, i) => {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) throw bad(file, `aliases[${i}] must be an object`);
    const r = a as Record<string, unknown>;
    if (typeof r['name'] !== 'string' || r['name'] === '') throw bad(file, `aliases[${i}].name must be a string`);
    const alias: ImageAlias = { name: r['name'], labels: parseLabels(r['labels'], `aliases[${i}]`, file) };
    if (r['reference'] !== undefined) {
      if (typeof r['reference'] !== 'string') throw bad(file, `aliases[${i}].reference must be a string`);
      alias.reference = r['reference'];
    }
    return alias;
  });
}

const OCI_DIGEST = /^sha256:[0-9a-f]{64}$/;

function parseOciInfo(v: unknown, file: string): OciImageInfo {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(file, 'oci must be an object');
  const o = v as Record<string, unknown>;
  const s = (k: string, x: unknown, re?: RegExp): string => {
    if (typeof x !== 'string' || (re && !re.test(x))) throw bad(file, `oci.${k} is not valid`);
    return x;
  };
  const layers = o['layers'];
  if (!Array.isArray(layers)) throw bad(file, 'oci.layers must be a list');
  return {
    reference: s('reference', o['reference']),
    manifestDigest: s('manifestDigest', o['manifestDigest'], OCI_DIGEST),
    configDigest: s('configDigest', o['configDigest'], OCI_DIGEST),
    layers: layers.map((l: unknown, i) => {
      if (typeof l !== 'object' || l === null) throw bad(file, `oci.layers[${i}] must be an object`);
      const r = l as Record<string, unknown>;
      const size = r['size'];
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(file, `oci.layers[${i}].size is not valid`);
      return {
        digest: s(`layers[${i}].digest`, r['digest'], /^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$/),
        diffId: s(`layers[${i}].diffId`, r['diffId'], OCI_DIGEST),
        size,
        mediaType: s(`layers[${i}].mediaType`, r['mediaType']),
      };
    }),
  };
}

/** Reads info.json; undefined when the image is not (or no longer) in the store. */
export async function readInfo(file: string): Promise<ImageInfo | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw new RktError('STORE', `cannot read image metadata ${file}: ${errnoCode(err) ?? describeCause(err)}`, { cause: err });
  }
  return parseInfo(text, file);
}
