// Sigstore (cosign) public keys: a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) of an ECDSA, ed25519 or
// RSA key. Such a key has no fingerprint of its own, so rkt names it by the sha256 of its DER, which
// anyone can recompute (`openssl pkey -pubin -in cosign.pub -outform DER | sha256sum`).
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import { RktError, describeCause } from '../../common/errors.js';

export interface SigstorePublicKey {
  /** Lower-case hex sha256 of the DER SubjectPublicKeyInfo. */
  readonly id: string;
  /** e.g. "ECDSA P-256", "ed25519", "RSA 3072". */
  readonly algorithm: string;
  /** The key re-encoded as PEM (what the keystore stores). */
  readonly pem: string;
  readonly key: KeyObject;
}

const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/;

/** True when the bytes hold a PEM public key (and so are no OpenPGP key). */
export function looksLikePemPublicKey(bytes: Uint8Array): boolean {
  return PEM_PUBLIC_KEY.test(Buffer.from(bytes.subarray(0, 64 * 1024)).toString('latin1'));
}

/** "sha256:ab12cd34ef56…" as messages show a sigstore key. */
export function shortKeyId(id: string): string {
  return `sha256:${id.slice(0, 16)}…`;
}

function describeAlgorithm(key: KeyObject): string | undefined {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = d?.namedCurve;
      const names: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
      return curve && names[curve] ? `ECDSA ${names[curve]}` : undefined;
    }
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return d?.modulusLength !== undefined && d.modulusLength >= 2048 ? `RSA ${d.modulusLength}` : undefined;
    default:
      return undefined;
  }
}

/** Parses a PEM public key; `source` names it in errors. */
export function readSigstorePublicKey(bytes: Uint8Array, source: string): SigstorePublicKey {
  const m = PEM_PUBLIC_KEY.exec(Buffer.from(bytes).toString('latin1'));
  if (!m) {
    throw new RktError('KEY_INVALID', `cannot read public key ${source}: no PEM "PUBLIC KEY" block`, {
      hint: 'give the cosign public key (cosign.pub), or an armored OpenPGP key',
    });
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: m[0], format: 'pem' });
  } catch (err) {
    throw new RktError('KEY_INVALID', `cannot read public key ${source}: ${describeCause(err)}`, { cause: err });
  }
  const algorithm = describeAlgorithm(key);
  if (!algorithm) {
    throw new RktError('KEY_INVALID', `public key ${source} is a ${key.asymmetricKeyType ?? 'unknown'} key rkt does not verify sigstore signatures with`, {
      hint: 'sigstore keys are ECDSA P-256/P-384/P-521, ed25519 or RSA of at least 2048 bits',
    });
  }
  const der = key.export({ type: 'spki', format: 'der' });
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return { id: createHash('sha256').update(der).digest('hex'), algorithm, pem, key };
}

/**
 * Checks a sigstore signature (raw bytes, already base64-decoded) over a payload, as sigstore's
 * verifiers do: ECDSA (DER r,s) and RSA PKCS#1 v1.5 over SHA-256, ed25519 over the bytes.
 */
export function verifySigstoreSignature(key: SigstorePublicKey, payload: Buffer, signature: Buffer): boolean {
  try {
    if (key.key.asymmetricKeyType === 'ed25519') return cryptoVerify(null, payload, key.key, signature);
    return cryptoVerify('sha256', payload, key.key, signature);
  } catch {
    // A malformed signature (bad DER, wrong length) is just one that does not verify.
    return false;
  }
}

/** Reads a trusted sigstore key file and checks it holds the key its name says. */
export async function loadSigstoreKeyFile(e: { readonly path: string; readonly fingerprint: string }): Promise<SigstorePublicKey> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(e.path);
  } catch (err) {
    throw new RktError('TRUST', `cannot read trusted key ${e.path}: ${describeCause(err)}`, { cause: err });
  }
  const key = readSigstorePublicKey(bytes, e.path);
  if (key.id !== e.fingerprint) {
    throw new RktError('KEY_INVALID', `trusted key ${e.path} holds sigstore key sha256:${key.id}, not the one its name says`, {
      hint: 'remove the file and add the key again with rkt trust',
    });
  }
  return key;
}
