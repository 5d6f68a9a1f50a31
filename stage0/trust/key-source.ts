// Reads a public key to trust from a path or an http(s) URL (plain http only when allowed): an
// OpenPGP key (ACIs, simple-signed OCI images) or a sigstore PEM public key (cosign-signed OCI images).
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';
import { fetchBytes, type HttpPolicy } from '../fetch/http.js';
import { readPublicKey, type PublicKeyInfo } from './pgp.js';
import { looksLikePemPublicKey, readSigstorePublicKey, type SigstorePublicKey } from './sigstore-key.js';

const MAX_KEY_BYTES = 1024 * 1024;

export interface KeyFromSource extends PublicKeyInfo {
  readonly source: string;
  /** True when the key came over verified TLS (for --trust-keys-from-https). */
  readonly viaHttps: boolean;
}

export interface SigstoreKeyFromSource extends SigstorePublicKey {
  readonly source: string;
  readonly viaHttps: boolean;
}

export type AnyKeyFromSource = ({ readonly kind: 'openpgp' } & KeyFromSource) | ({ readonly kind: 'sigstore' } & SigstoreKeyFromSource);

interface RawKey {
  readonly bytes: Buffer;
  readonly source: string;
  readonly viaHttps: boolean;
}

async function readRaw(source: string, policy: HttpPolicy): Promise<RawKey> {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    const got = await fetchBytes(url.href, policy, MAX_KEY_BYTES);
    if (!got) throw new RktError('KEY_INVALID', `cannot fetch public key ${source}: not found`);
    const finalHttps = new URL(got.finalUrl).protocol === 'https:';
    return { bytes: got.body, source, viaHttps: finalHttps && !policy.insecureTls };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !source.startsWith('file://')) {
    throw new RktError('USAGE', `cannot read public key ${source}: unsupported URL scheme`, { hint: 'give a file path or an https:// URL' });
  }
  const file = source.startsWith('file://') ? new URL(source).pathname : path.resolve(source);
  try {
    return { bytes: await fs.readFile(file), source: file, viaHttps: false };
  } catch (err) {
    throw new RktError('KEY_INVALID', `cannot read public key ${file}: ${errnoCode(err) ?? String(err)}`, {
      cause: err,
      hint: 'give the path of an armored public key (gpg --armor --export <key id> > key.asc) or of a cosign public key (cosign.pub)',
    });
  }
}

/** An OpenPGP key only (appc discovery, ACI trust). */
export async function readKeySource(source: string, policy: HttpPolicy): Promise<KeyFromSource> {
  const raw = await readRaw(source, policy);
  return { ...(await readPublicKey(raw.bytes, raw.source)), source: raw.source, viaHttps: raw.viaHttps };
}

/** An OpenPGP or sigstore key, told apart by the file's content (a PEM "PUBLIC KEY" block is sigstore). */
export async function readAnyKeySource(source: string, policy: HttpPolicy): Promise<AnyKeyFromSource> {
  const raw = await readRaw(source, policy);
  if (looksLikePemPublicKey(raw.bytes)) {
    return { kind: 'sigstore', ...readSigstorePublicKey(raw.bytes, raw.source), source: raw.source, viaHttps: raw.viaHttps };
  }
  return { kind: 'openpgp', ...(await readPublicKey(raw.bytes, raw.source)), source: raw.source, viaHttps: raw.viaHttps };
}
