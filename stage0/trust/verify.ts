// Verifies a detached OpenPGP signature over image bytes against the keys trusted for the
// image's name, and explains each refusal: tampered, untrusted, trusted elsewhere, masked.
import fs from 'node:fs/promises';
import { RktError, describeCause } from '../../common/errors.js';
import { allPrefixKeys, describeScope, keyringFor, type KeyFileEntry, type KeystoreLayer } from './keystore.js';
import {
  keyHasId,
  loadOpenPgp,
  readDetachedSignature,
  readPublicKey,
  signerKeyIds,
  type PgpPublicKey,
  type PublicKeyInfo,
} from './pgp.js';

export interface VerifiedSigner {
  readonly fingerprint: string;
  readonly uids: string[];
  /** The trusted key file that vouched for the image. */
  readonly keyPath: string;
}

export interface VerifyRequest {
  readonly layers: readonly KeystoreLayer[];
  /** The image name whose prefix selects the trusted keys. */
  readonly name: string;
  /** The image file exactly as fetched (compressed or not). */
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
  /** Human names for error messages. */
  readonly imageSource: string;
  readonly signatureSource: string;
}

/** Reads a trusted OpenPGP key file and checks it holds the key its name says. */
export async function loadKeyFile(e: KeyFileEntry): Promise<PublicKeyInfo> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(e.path);
  } catch (err) {
    throw new RktError('TRUST', `cannot read trusted key ${e.path}: ${describeCause(err)}`, { cause: err });
  }
  const info = await readPublicKey(bytes, e.path);
  if (info.fingerprint !== e.fingerprint) {
    throw new RktError('KEY_INVALID', `trusted key ${e.path} holds key ${info.fingerprint}, not the one its name says`, {
      hint: 'remove the file and add the key again with rkt trust',
    });
  }
  return info;
}

/** The first of the key files whose key (or a subkey) has one of the key IDs. */
export async function findSigner(entries: readonly KeyFileEntry[], keyIds: readonly string[]): Promise<{ entry: KeyFileEntry; info: PublicKeyInfo } | undefined> {
  for (const entry of entries) {
    const info = await loadKeyFile(entry);
    if (keyIds.some((id) => keyHasId(info.key, id))) return { entry, info };
  }
  return undefined;
}

function trustHint(name: string): string {
  return `if you trust the signer, add its public key with: rkt trust --prefix=${name} <public key file or URL>`;
}

/** Throws the most specific "why is the signer not trusted" error. */
async function explainUntrusted(req: VerifyRequest, keyIds: readonly string[], masked: readonly KeyFileEntry[], maskFiles: Map<string, string>): Promise<never> {
  const maskedHit = await findSigner(masked, keyIds);
  if (maskedHit) {
    const mask = maskFiles.get(maskedHit.entry.path) ?? 'an empty file';
    throw new RktError('KEY_UNTRUSTED', `image "${req.name}" is signed by key ${maskedHit.info.fingerprint}, which is trusted by the vendor but masked by ${mask}`, {
      hint: `the empty file ${mask} untrusts that key on purpose; remove it only if you trust the key again`,
    });
  }
  const elsewhere = await findSigner(await allPrefixKeys(req.layers), keyIds);
  if (elsewhere) {
    const uid = elsewhere.info.uids[0] ?? elsewhere.info.fingerprint;
    throw new RktError('KEY_UNTRUSTED', `image "${req.name}" is signed by key ${elsewhere.info.fingerprint} (${uid}), which is trusted only for ${describeScope(elsewhere.entry.scope)}`, {
      hint: trustHint(req.name),
    });
  }
  throw new RktError('KEY_UNTRUSTED', `image "${req.name}" is signed by an untrusted key (key id ${keyIds.join(', ')})`, {
    hint: trustHint(req.name),
  });
}

/** Checks the signature; returns the signer, or throws a KEY_UNTRUSTED / SIGNATURE_INVALID RktError. */
export async function verifyImageSignature(req: VerifyRequest): Promise<VerifiedSigner> {
  const sig = await readDetachedSignature(req.signature, req.signatureSource);
  const keyIds = signerKeyIds(sig);
  if (keyIds.length === 0) {
    throw new RktError('SIGNATURE_INVALID', `signature ${req.signatureSource} names no signing key`, {
      hint: 'sign the image with gpg --armor --detach-sign <image>.aci',
    });
  }
  const ring = await keyringFor(req.layers, req.name);
  const signer = await findSigner(ring.trusted, keyIds);
  if (!signer) {
    const maskFiles = new Map(ring.masked.map((m) => [m.masked.path, m.mask.path]));
    return explainUntrusted(req, keyIds, ring.masked.map((m) => m.masked), maskFiles);
  }
  await checkSignature(req, sig, signer.info.key);
  return { fingerprint: signer.info.fingerprint, uids: signer.info.uids, keyPath: signer.entry.path };
}

async function checkSignature(req: VerifyRequest, sig: Awaited<ReturnType<typeof readDetachedSignature>>, key: PgpPublicKey): Promise<void> {
  const pgp = await loadOpenPgp();
  let failure: unknown;
  try {
    const message = await pgp.createMessage({ binary: req.data });
    const result = await pgp.verify({ message, signature: sig, verificationKeys: [key], format: 'binary' });
    const mine = result.signatures.filter((s) => keyHasId(key, s.keyID.toHex().toLowerCase()));
    if (mine.length === 0) failure = new Error('no signature by the trusted key');
    for (const s of mine) await s.verified;
  } catch (err) {
    failure = err;
  }
  if (failure !== undefined) {
    throw new RktError('SIGNATURE_INVALID', `bad signature for ${req.imageSource}: the image does not match ${req.signatureSource} (${describeCause(failure)})`, {
      cause: failure,
      hint: 'the image or its signature was modified (tampered) or they do not belong together; fetch both again from a source you trust',
    });
  }
}
