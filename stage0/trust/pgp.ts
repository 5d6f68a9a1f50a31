// OpenPGP access for trust and verification: loads openpgp lazily (it is slow to load) and
// reads public keys and detached signatures, armored or binary, into plain typed values.
import type * as OpenPgpModule from 'openpgp';
import { RktError, describeCause } from '../../common/errors.js';

export type OpenPgp = typeof OpenPgpModule;
export type PgpPublicKey = OpenPgpModule.PublicKey;
export type PgpSignature = OpenPgpModule.Signature;

let loaded: Promise<OpenPgp> | undefined;

/** The openpgp module, imported on first use only (commands that never verify never pay for it). */
export function loadOpenPgp(): Promise<OpenPgp> {
  loaded ??= import('openpgp');
  return loaded;
}

export interface PublicKeyInfo {
  /** Lower-case hex fingerprint of the primary key. */
  readonly fingerprint: string;
  readonly uids: string[];
  /** The key, ASCII-armored (what the keystore stores). */
  readonly armored: string;
  readonly key: PgpPublicKey;
}

function looksArmored(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  return head.includes('-----BEGIN PGP ');
}

/** Parses one public key (armored or binary); `source` names it in errors. */
export async function readPublicKey(bytes: Uint8Array, source: string): Promise<PublicKeyInfo> {
  const pgp = await loadOpenPgp();
  let key: OpenPgpModule.Key;
  try {
    key = looksArmored(bytes)
      ? await pgp.readKey({ armoredKey: Buffer.from(bytes).toString('utf8') })
      : await pgp.readKey({ binaryKey: bytes });
  } catch (err) {
    throw new RktError('KEY_INVALID', `cannot read public key ${source}: ${describeCause(err)}`, {
      cause: err,
      hint: 'give an OpenPGP public key, e.g. the output of gpg --armor --export <key id>',
    });
  }
  if (key.isPrivate()) {
    throw new RktError('KEY_INVALID', `${source} is a private key`, {
      hint: 'export the public part only: gpg --armor --export <key id>',
    });
  }
  const pub = key.toPublic();
  return { fingerprint: pub.getFingerprint().toLowerCase(), uids: pub.getUserIDs(), armored: pub.armor(), key: pub };
}

/** Parses a detached signature (armored first, binary otherwise). */
export async function readDetachedSignature(bytes: Uint8Array, source: string): Promise<PgpSignature> {
  const pgp = await loadOpenPgp();
  try {
    return looksArmored(bytes)
      ? await pgp.readSignature({ armoredSignature: Buffer.from(bytes).toString('utf8') })
      : await pgp.readSignature({ binarySignature: bytes });
  } catch (err) {
    throw new RktError('SIGNATURE_INVALID', `cannot read signature ${source}: not an OpenPGP detached signature`, {
      cause: err,
      hint: 'sign the image with gpg --armor --detach-sign <image>.aci',
    });
  }
}

/** The key IDs (16 hex, lower case) that made a signature. */
export function signerKeyIds(sig: PgpSignature): string[] {
  return sig.getSigningKeyIDs().map((k) => k.toHex().toLowerCase());
}

/** True when `keyId` names the key's primary key or one of its subkeys. */
export function keyHasId(key: PgpPublicKey, keyId: string): boolean {
  return key.getKeyIDs().some((k) => k.toHex().toLowerCase() === keyId);
}

/** Formats a fingerprint in groups of four, as gpg shows it. */
export function formatFingerprint(fp: string): string {
  return fp.toUpperCase().replace(/(.{4})(?=.)/g, '$1 ');
}
