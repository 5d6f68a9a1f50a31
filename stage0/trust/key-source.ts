// Reads a public key to trust from a path or an http(s) URL (plain http only when allowed).
import fs from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode } from '../../common/errors.js';
import { fetchBytes, type HttpPolicy } from '../fetch/http.js';
import { readPublicKey, type PublicKeyInfo } from './pgp.js';

const MAX_KEY_BYTES = 1024 * 1024;

export interface KeyFromSource extends PublicKeyInfo {
  readonly source: string;
  /** True when the key came over verified TLS (for --trust-keys-from-https). */
  readonly viaHttps: boolean;
}

export async function readKeySource(source: string, policy: HttpPolicy): Promise<KeyFromSource> {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    const got = await fetchBytes(url.href, policy, MAX_KEY_BYTES);
    if (!got) throw new RktError('KEY_INVALID', `cannot fetch public key ${source}: not found`);
    const info = await readPublicKey(got.body, source);
    const finalHttps = new URL(got.finalUrl).protocol === 'https:';
    return { ...info, source, viaHttps: finalHttps && !policy.insecureTls };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !source.startsWith('file://')) {
    throw new RktError('USAGE', `cannot read public key ${source}: unsupported URL scheme`, { hint: 'give a file path or an https:// URL' });
  }
  const file = source.startsWith('file://') ? new URL(source).pathname : path.resolve(source);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new RktError('KEY_INVALID', `cannot read public key ${file}: ${errnoCode(err) ?? String(err)}`, {
      cause: err,
      hint: 'give the path of an armored public key (gpg --armor --export <key id> > key.asc)',
    });
  }
  return { ...(await readPublicKey(bytes, file)), source: file, viaHttps: false };
}
