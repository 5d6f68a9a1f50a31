// Sigstore (cosign) signatures attached in the registry: the tag `sha256-<manifest hex>.sig` of the
// image's repository holds an OCI manifest whose layers are the signed payloads
// (application/vnd.dev.cosign.simplesigning.v1+json), each with its signature, base64, in the
// annotation dev.cosignproject.cosign/signature. This is where cosign and containers/image
// (`use-sigstore-attachments: true`) put them. Only key-based signatures are checked: keyless
// (Fulcio certificate) signatures need a transparency-log policy rkt does not have.
import { RktError, describeCause } from '../../../common/errors.js';
import { allPrefixKeys, keyringFor, type KeyFileEntry } from '../../trust/keystore.js';
import { loadSigstoreKeyFile, shortKeyId, verifySigstoreSignature, type SigstorePublicKey } from '../../trust/sigstore-key.js';
import { checkBytes, parseDigest, type Digest } from '../digest.js';
import { MAX_DOCUMENT_BYTES, type Descriptor } from '../documents.js';
import { RANK, trustHint, trustedFor, type ImageUnderCheck, type SignatureRegistry, type Verdict } from './common.js';
import { SIGSTORE_SIGNING_TYPE, identityMismatch, parseSignaturePayload } from './payload.js';

export const SIGSTORE_PAYLOAD_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGSTORE_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const SIGSTORE_CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
/** Payloads are a few hundred bytes; anything near this is not a signature. */
export const MAX_SIGSTORE_PAYLOAD_BYTES = 256 * 1024;
/** At most this many signatures of one image are looked at (each costs a blob fetch). */
export const MAX_SIGSTORE_SIGNATURES = 64;

export interface SigstoreSignature {
  readonly payload: Buffer;
  /** Raw signature bytes; undefined when the layer carries none. */
  readonly signature: Buffer | undefined;
  /** True when the layer carries a Fulcio certificate (a keyless signature). */
  readonly keyless: boolean;
  /** e.g. "sigstore signature 1 of 127.0.0.1:5000/acme/app:sha256-….sig" */
  readonly source: string;
}

/** The tag cosign and containers/image attach an image's signatures under. */
export function sigstoreAttachmentTag(d: Digest): string {
  return `${d.algorithm}-${d.hex}.sig`;
}

function invalid(what: string, why: string): RktError {
  return new RktError('SIGNATURE_INVALID', `invalid sigstore signature ${what}: ${why}`, {
    hint: 'the signature artifact in the registry is corrupt or was tampered with; sign the image again',
  });
}

interface AttachmentLayer {
  readonly desc: Descriptor;
}

function parseAttachmentManifest(bytes: Buffer, what: string): AttachmentLayer[] {
  if (bytes.length > MAX_DOCUMENT_BYTES) throw invalid(what, `manifest larger than ${MAX_DOCUMENT_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(what, 'the manifest is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(what, 'the manifest is not a JSON object');
  const m = v as Record<string, unknown>;
  if (m['schemaVersion'] !== 2) throw invalid(what, 'the manifest schemaVersion is not 2');
  const layers = m['layers'];
  if (!Array.isArray(layers)) throw invalid(what, 'the manifest has no layers list');
  const out: AttachmentLayer[] = [];
  layers.forEach((l: unknown, i) => {
    const where = `${what} layers[${i}]`;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) throw invalid(where, 'not an object');
    const d = l as Record<string, unknown>;
    const mediaType = d['mediaType'];
    const digest = d['digest'];
    const size = d['size'];
    if (typeof mediaType !== 'string' || typeof digest !== 'string') throw invalid(where, 'mediaType and digest must be strings');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(where, 'size must be a non-negative integer');
    const ann = d['annotations'];
    const annotations: Record<string, string> = {};
    if (ann !== undefined && ann !== null) {
      if (typeof ann !== 'object' || Array.isArray(ann)) throw invalid(where, 'annotations must be an object');
      for (const [k, val] of Object.entries(ann as Record<string, unknown>)) {
        if (typeof val !== 'string') throw invalid(where, `annotation ${k} must be a string`);
        annotations[k] = val;
      }
    }
    let parsed: Digest;
    try {
      parsed = parseDigest(digest, where);
    } catch {
      throw invalid(where, `bad digest ${JSON.stringify(digest.slice(0, 80))}`);
    }
    out.push({ desc: { mediaType, digest: parsed, size, annotations } });
  });
  return out;
}

function decodeBase64(text: string): Buffer | undefined {
  const t = text.trim();
  if (t === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return undefined;
  return Buffer.from(t, 'base64');
}

/**
 * Fetches the image's sigstore signatures. Returns the signatures that could be read and a refusal
 * for each that could not (bad manifest entries, blobs that do not match their descriptors).
 */
export async function fetchSigstoreSignatures(
  registry: SignatureRegistry,
  image: ImageUnderCheck,
): Promise<{ signatures: SigstoreSignature[]; refused: Verdict[] }> {
  const tag = sigstoreAttachmentTag(image.manifestDigest);
  const where = `${image.name}:${tag}`;
  image.debug(`looking for sigstore signatures at ${where}`);
  const doc = await registry.getManifest(tag, { missingOk: true });
  if (!doc) {
    image.debug(`no sigstore signatures at ${where}`);
    return { signatures: [], refused: [] };
  }
  let layers: AttachmentLayer[];
  try {
    layers = parseAttachmentManifest(doc.bytes, `attachment ${where}`);
  } catch (err) {
    if (err instanceof RktError) return { signatures: [], refused: [{ ok: false, rank: RANK.invalid, error: err }] };
    throw err;
  }
  const signatures: SigstoreSignature[] = [];
  const refused: Verdict[] = [];
  let n = 0;
  for (const { desc } of layers) {
    if (desc.mediaType !== SIGSTORE_PAYLOAD_MEDIA_TYPE) {
      image.debug(`skipping ${where} layer ${desc.digest.text}: media type ${desc.mediaType}`);
      continue;
    }
    n++;
    const source = `sigstore signature ${n} of ${where}`;
    if (n > MAX_SIGSTORE_SIGNATURES) {
      image.debug(`ignoring sigstore signatures after the first ${MAX_SIGSTORE_SIGNATURES} at ${where}`);
      break;
    }
    if (desc.size > MAX_SIGSTORE_PAYLOAD_BYTES) {
      refused.push({ ok: false, rank: RANK.invalid, error: invalid(source, `payload of ${desc.size} bytes is larger than ${MAX_SIGSTORE_PAYLOAD_BYTES}`) });
      continue;
    }
    let payload: Buffer;
    try {
      payload = await registry.blob(desc);
      checkBytes(payload, desc.digest, desc.size, `the payload of ${source}`);
    } catch (err) {
      if (!(err instanceof RktError) || err.code !== 'IMAGE_INVALID') throw err;
      refused.push({ ok: false, rank: RANK.invalid, error: invalid(source, describeCause(err)) });
      continue;
    }
    const sigText = desc.annotations[SIGSTORE_SIGNATURE_ANNOTATION];
    const signature = sigText === undefined ? undefined : decodeBase64(sigText);
    if (sigText !== undefined && signature === undefined) {
      refused.push({ ok: false, rank: RANK.invalid, error: invalid(source, `annotation ${SIGSTORE_SIGNATURE_ANNOTATION} is not base64`) });
      continue;
    }
    signatures.push({ payload, signature, keyless: desc.annotations[SIGSTORE_CERTIFICATE_ANNOTATION] !== undefined, source });
  }
  return { signatures, refused };
}

/** The sigstore keys rkt knows, loaded once per verification. */
export interface SigstoreKeys {
  readonly trusted: ReadonlyArray<{ entry: KeyFileEntry; key: SigstorePublicKey }>;
  readonly masked: ReadonlyArray<{ entry: KeyFileEntry; mask: string; key: SigstorePublicKey }>;
  readonly elsewhere: ReadonlyArray<{ entry: KeyFileEntry; key: SigstorePublicKey }>;
}

export async function loadSigstoreKeys(image: ImageUnderCheck): Promise<SigstoreKeys> {
  const ring = await keyringFor(image.layers, image.name, 'sigstore');
  const trusted = await Promise.all(ring.trusted.map(async (entry) => ({ entry, key: await loadSigstoreKeyFile(entry) })));
  const masked = await Promise.all(ring.masked.map(async (m) => ({ entry: m.masked, mask: m.mask.path, key: await loadSigstoreKeyFile(m.masked) })));
  const ids = new Set(trusted.map((t) => t.key.id));
  const others = (await allPrefixKeys(image.layers, 'sigstore')).filter((e) => !ids.has(e.fingerprint));
  const elsewhere = await Promise.all(others.map(async (entry) => ({ entry, key: await loadSigstoreKeyFile(entry) })));
  return { trusted, masked, elsewhere };
}

/** Judges one sigstore signature. */
export function checkSigstoreSignature(sig: SigstoreSignature, image: ImageUnderCheck, keys: SigstoreKeys): Verdict {
  const refuse = (rank: number, error: RktError): Verdict => ({ ok: false, rank, error });
  if (!sig.signature) {
    return refuse(RANK.invalid, invalid(sig.source, `the layer has no ${SIGSTORE_SIGNATURE_ANNOTATION} annotation`));
  }
  const signature = sig.signature;
  const signer = keys.trusted.find((t) => verifySigstoreSignature(t.key, sig.payload, signature));
  if (signer) {
    const by = `sigstore key sha256:${signer.key.id}`;
    let why: string | undefined;
    try {
      why = identityMismatch(parseSignaturePayload(sig.payload, SIGSTORE_SIGNING_TYPE, sig.source), image.reference, image.manifestDigest);
    } catch (err) {
      if (!(err instanceof RktError)) throw err;
      why = err.message;
    }
    if (why !== undefined) {
      return refuse(RANK.invalidTrusted, new RktError('SIGNATURE_INVALID', `${sig.source} by trusted ${by} does not vouch for image ${image.shown}: ${why}`, {
        hint: 'the signature belongs to another image or name; sign this image (by digest) for this name',
      }));
    }
    return { ok: true, verifiedBy: `${by} trusted for ${trustedFor(signer.entry.scope)}` };
  }
  const masked = keys.masked.find((m) => verifySigstoreSignature(m.key, sig.payload, signature));
  if (masked) {
    return refuse(RANK.trustedElsewhere, new RktError('KEY_UNTRUSTED', `image ${image.shown} is signed by sigstore key sha256:${masked.key.id}, which is trusted by the vendor but masked by ${masked.mask}`, {
      hint: `the empty file ${masked.mask} untrusts that key on purpose; remove it only if you trust the key again`,
    }));
  }
  const other = keys.elsewhere.find((o) => verifySigstoreSignature(o.key, sig.payload, signature));
  if (other) {
    return refuse(RANK.trustedElsewhere, new RktError('KEY_UNTRUSTED', `image ${image.shown} is signed by sigstore key sha256:${other.key.id}, which is trusted only for prefix "${trustedFor(other.entry.scope)}", not for ${image.name}`, {
      hint: trustHint(image.name),
    }));
  }
  // No known key made it. A payload that names another image is invalid whoever signed it; otherwise
  // the signer is unknown (sigstore signatures carry no key id, so it cannot be named).
  let payloadProblem: string | undefined;
  try {
    const p = parseSignaturePayload(sig.payload, SIGSTORE_SIGNING_TYPE, sig.source);
    if (p.manifestDigest !== image.manifestDigest.text) payloadProblem = `it signs manifest ${p.manifestDigest.slice(0, 80)}, not this image's ${image.manifestDigest.text}`;
  } catch (err) {
    if (!(err instanceof RktError)) throw err;
    payloadProblem = err.message;
  }
  if (payloadProblem !== undefined) {
    return refuse(RANK.invalid, new RktError('SIGNATURE_INVALID', `${sig.source} does not hold for image ${image.shown}: ${payloadProblem}`, {
      hint: 'the signature was tampered with or belongs to another image; sign this image again',
    }));
  }
  const tried = keys.trusted.map((t) => shortKeyId(t.key.id));
  const known = tried.length === 0
    ? `no sigstore key is trusted for ${image.name}`
    : `it verifies with none of the sigstore keys trusted for ${image.name} (${tried.join(', ')}): the signer's key is not trusted, or the payload or signature was modified`;
  const kind = sig.keyless ? 'a keyless (Fulcio certificate) sigstore signature, which rkt does not verify' : 'a sigstore key that is not trusted';
  return refuse(RANK.untrusted, new RktError('KEY_UNTRUSTED', `image ${image.shown} is signed by ${kind}: ${known}`, {
    hint: `sigstore signatures do not name their key, so compare with the signer's cosign.pub; ${trustHint(image.name)}`,
  }));
}
