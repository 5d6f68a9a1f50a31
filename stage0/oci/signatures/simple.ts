// OpenPGP "simple signing" signatures (what `skopeo copy --sign-by FPR` makes): an OpenPGP signed,
// usually compressed, message whose literal data is the JSON payload, kept in lookaside storage at
// `<lookaside>/<repository>@<algorithm>=<hex>/signature-<n>`, n = 1, 2, … up to the first missing.
import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RktError, describeCause, errnoCode } from '../../../common/errors.js';
import { fetchBytes, type HttpPolicy } from '../../fetch/http.js';
import { allPrefixKeys, keyringFor } from '../../trust/keystore.js';
import { formatFingerprint, keyHasId, loadOpenPgp } from '../../trust/pgp.js';
import { findSigner } from '../../trust/verify.js';
import type { Digest } from '../digest.js';
import { RANK, trustHint, trustedFor, type ImageUnderCheck, type Verdict } from './common.js';
import { SIMPLE_SIGNING_TYPE, identityMismatch, parseSignaturePayload } from './payload.js';

/** A simple signature is well under 1 KiB; the bound keeps a hostile lookaside from feeding rkt a huge file. */
export const MAX_SIMPLE_SIGNATURE_BYTES = 256 * 1024;
/** What the signed message may decompress to (openpgp enforces it), against compression bombs. */
export const MAX_SIMPLE_PAYLOAD_BYTES = 1024 * 1024;
export const MAX_LOOKASIDE_SIGNATURES = 64;

export interface SimpleSignature {
  readonly bytes: Buffer;
  /** The URL it was read from. */
  readonly source: string;
}

/** `<base>/<repository>@<alg>=<hex>/signature-<n>` (n from 1), as containers/image lays it out. */
export function lookasideSignatureUrl(base: string, repository: string, digest: Digest, n: number): string {
  return `${base.replace(/\/+$/, '')}/${repository}@${digest.algorithm}=${digest.hex}/signature-${n}`;
}

async function readOne(url: string, http: HttpPolicy): Promise<Buffer | undefined> {
  const u = new URL(url);
  if (u.protocol === 'file:') {
    const file = fileURLToPath(u);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new RktError('FETCH', `cannot read signature ${file}: ${code ?? describeCause(err)}`, { cause: err });
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new RktError('SIGNATURE_INVALID', `signature ${file} is not a regular file`);
      if (st.size > MAX_SIMPLE_SIGNATURE_BYTES) throw new RktError('SIGNATURE_INVALID', `signature ${file} is larger than ${MAX_SIMPLE_SIGNATURE_BYTES} bytes`);
      const buf = Buffer.alloc(st.size);
      const { bytesRead } = await handle.read(buf, 0, st.size, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }
  const got = await fetchBytes(url, http, MAX_SIMPLE_SIGNATURE_BYTES, true);
  return got?.body;
}

/** Reads signature-1, signature-2, … until the first one that is missing. */
export async function fetchLookasideSignatures(base: string, image: ImageUnderCheck, http: HttpPolicy): Promise<SimpleSignature[]> {
  const out: SimpleSignature[] = [];
  for (let n = 1; n <= MAX_LOOKASIDE_SIGNATURES; n++) {
    const url = lookasideSignatureUrl(base, image.reference.repository, image.manifestDigest, n);
    const bytes = await readOne(url, http);
    if (!bytes) {
      image.debug(`no simple signature at ${url}`);
      break;
    }
    image.debug(`read simple signature ${url} (${bytes.length} bytes)`);
    out.push({ bytes, source: url.startsWith('file:') ? fileURLToPath(url) : url });
  }
  return out;
}

function looksArmored(bytes: Buffer): boolean {
  return bytes.subarray(0, 1024).toString('latin1').includes('-----BEGIN PGP ');
}

/** Judges one simple signature against the OpenPGP keys trusted for the image's name. */
export async function checkSimpleSignature(sig: SimpleSignature, image: ImageUnderCheck): Promise<Verdict> {
  const refuse = (rank: number, error: RktError): Verdict => ({ ok: false, rank, error });
  const pgp = await loadOpenPgp();
  const config = { maxDecompressedMessageSize: MAX_SIMPLE_PAYLOAD_BYTES };
  let message: Awaited<ReturnType<typeof pgp.readMessage<Uint8Array>>>;
  let keyIds: string[];
  try {
    message = looksArmored(sig.bytes)
      ? ((await pgp.readMessage({ armoredMessage: sig.bytes.toString('utf8'), config })) as unknown as typeof message)
      : await pgp.readMessage({ binaryMessage: new Uint8Array(sig.bytes), config });
    keyIds = message.getSigningKeyIDs().map((k) => k.toHex().toLowerCase());
  } catch (err) {
    return refuse(RANK.invalid, new RktError('SIGNATURE_INVALID', `cannot read simple signature ${sig.source}: not an OpenPGP signed message (${describeCause(err)})`, {
      cause: err,
      hint: 'the signature is corrupt or was tampered with; sign the image again with skopeo copy --sign-by',
    }));
  }
  if (keyIds.length === 0) {
    return refuse(RANK.invalid, new RktError('SIGNATURE_INVALID', `simple signature ${sig.source} names no signing key`, {
      hint: 'sign the image again with skopeo copy --sign-by <fingerprint>',
    }));
  }
  const ring = await keyringFor(image.layers, image.name, 'openpgp');
  const signer = await findSigner(ring.trusted, keyIds);
  if (!signer) {
    const masked = await findSigner(ring.masked.map((m) => m.masked), keyIds);
    if (masked) {
      const mask = ring.masked.find((m) => m.masked.path === masked.entry.path)?.mask.path ?? 'an empty file';
      return refuse(RANK.trustedElsewhere, new RktError('KEY_UNTRUSTED', `image ${image.shown} is signed by OpenPGP key ${masked.info.fingerprint}, which is trusted by the vendor but masked by ${mask}`, {
        hint: `the empty file ${mask} untrusts that key on purpose; remove it only if you trust the key again`,
      }));
    }
    const elsewhere = await findSigner(await allPrefixKeys(image.layers, 'openpgp'), keyIds);
    if (elsewhere) {
      const uid = elsewhere.info.uids[0] ?? elsewhere.info.fingerprint;
      return refuse(RANK.trustedElsewhere, new RktError('KEY_UNTRUSTED', `image ${image.shown} is signed by OpenPGP key ${elsewhere.info.fingerprint} (${uid}), which is trusted only for prefix "${trustedFor(elsewhere.entry.scope)}", not for ${image.name}`, {
        hint: trustHint(image.name),
      }));
    }
    return refuse(RANK.untrusted, new RktError('KEY_UNTRUSTED', `image ${image.shown} is signed by an untrusted OpenPGP key (key id ${keyIds.join(', ')})`, {
      hint: trustHint(image.name),
    }));
  }
  const by = `OpenPGP key ${formatFingerprint(signer.info.fingerprint)}${signer.info.uids[0] ? ` (${signer.info.uids[0]})` : ''}`;
  let data: Uint8Array;
  try {
    const result = await pgp.verify({ message, verificationKeys: [signer.info.key], expectSigned: true, format: 'binary', config });
    data = result.data;
    const mine = result.signatures.filter((s) => keyHasId(signer.info.key, s.keyID.toHex().toLowerCase()));
    if (mine.length === 0) throw new Error('no signature by the trusted key');
    for (const s of mine) await s.verified;
  } catch (err) {
    return refuse(RANK.invalidTrusted, new RktError('SIGNATURE_INVALID', `bad simple signature ${sig.source} by ${by} for image ${image.shown} (${describeCause(err)})`, {
      cause: err,
      hint: 'the signature was modified (tampered) or is corrupt; fetch it again from a source you trust, or sign the image again',
    }));
  }
  let why: string | undefined;
  try {
    why = identityMismatch(parseSignaturePayload(Buffer.from(data), SIMPLE_SIGNING_TYPE, sig.source), image.reference, image.manifestDigest);
  } catch (err) {
    if (!(err instanceof RktError)) throw err;
    why = err.message;
  }
  if (why !== undefined) {
    return refuse(RANK.invalidTrusted, new RktError('SIGNATURE_INVALID', `simple signature ${sig.source} by trusted ${by} does not vouch for image ${image.shown}: ${why}`, {
      hint: 'the signature belongs to another image or name; sign this image for this name',
    }));
  }
  return { ok: true, verifiedBy: `${by} trusted for ${trustedFor(signer.entry.scope)}` };
}
