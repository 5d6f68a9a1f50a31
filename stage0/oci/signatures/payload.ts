// The JSON payload both signature kinds sign (Red Hat's "simple signing" format): what image
// (manifest digest) under what name (docker reference) the signer vouches for.
//
//   {"critical": {"type": T, "image": {"docker-manifest-digest": D}, "identity": {"docker-reference": R}},
//    "optional": {...}}
//
// T is "atomic container signature" in OpenPGP simple signatures and "cosign container image
// signature" in sigstore ones. Everything under "critical" must be understood, so unknown keys
// there are refused, as containers/image does; "optional" is never trusted and never read.
import { RktError } from '../../../common/errors.js';
import { parseDockerReference, formatDockerReference, type DockerReference } from '../reference.js';
import type { Digest } from '../digest.js';

export const SIMPLE_SIGNING_TYPE = 'atomic container signature';
export const SIGSTORE_SIGNING_TYPE = 'cosign container image signature';

export interface SignaturePayload {
  readonly type: string;
  readonly manifestDigest: string;
  /** The docker-reference as written in the payload. */
  readonly identity: string;
}

function invalid(what: string, why: string): RktError {
  return new RktError('SIGNATURE_INVALID', `invalid signature payload in ${what}: ${why}`, {
    hint: 'the signature is corrupt or was not made by skopeo, podman or cosign; sign the image again',
  });
}

function object(v: unknown, key: string, what: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(what, `${key} must be an object`);
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw invalid(what, `${key} has unknown field ${JSON.stringify(extra[0])}`);
  return o;
}

function string(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw invalid(what, `${key} must be a non-empty string`);
  return v;
}

/** Parses a payload; `expectedType` is the signature kind's type string. */
export function parseSignaturePayload(bytes: Buffer, expectedType: string, what: string): SignaturePayload {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(what, 'not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(what, 'not a JSON object');
  const top = v as Record<string, unknown>;
  const critical = object(top['critical'], 'critical', what, ['type', 'image', 'identity']);
  const type = string(critical, 'type', what);
  if (type !== expectedType) throw invalid(what, `critical.type is ${JSON.stringify(type.slice(0, 80))}, not "${expectedType}"`);
  const image = object(critical['image'], 'critical.image', what, ['docker-manifest-digest']);
  const identity = object(critical['identity'], 'critical.identity', what, ['docker-reference']);
  return { type, manifestDigest: string(image, 'docker-manifest-digest', what), identity: string(identity, 'docker-reference', what) };
}

/** True when the reference string names a tag explicitly (parseDockerReference fills in "latest"). */
function hasExplicitTag(ref: string): boolean {
  const noDigest = ref.split('@')[0] ?? '';
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  return last.includes(':');
}

/**
 * The identity rule: the signed docker-reference must name the same repository (host and path, after
 * docker.io normalization) as the image. When it also names a digest, that must be the manifest's;
 * when it names a tag and the image was asked for by tag, the tags must be equal (so a signature for
 * :1.0 does not vouch for the same bytes served as :latest); a repository-only identity, as cosign
 * writes, vouches for every tag. This is containers/image's matchRepoDigestOrExact with cosign's
 * repository-only identities accepted.
 *
 * Returns undefined when it matches, else why not.
 */
export function identityMismatch(payload: SignaturePayload, image: DockerReference, manifestDigest: Digest): string | undefined {
  if (payload.manifestDigest !== manifestDigest.text) {
    return `it signs manifest ${payload.manifestDigest.slice(0, 80)}, not this image's ${manifestDigest.text}`;
  }
  let signed: DockerReference;
  try {
    signed = parseDockerReference(payload.identity);
  } catch {
    return `its identity ${JSON.stringify(payload.identity.slice(0, 200))} is not a docker reference`;
  }
  const imageRepo = formatDockerReference(image, false);
  if (signed.host !== image.host || signed.repository !== image.repository) {
    return `it was made for ${formatDockerReference(signed, false)}, not ${imageRepo}`;
  }
  if (signed.digest && signed.digest.text !== manifestDigest.text) {
    return `its identity names digest ${signed.digest.text}, not ${manifestDigest.text}`;
  }
  if (hasExplicitTag(payload.identity) && image.digest === undefined && image.tag !== undefined && signed.tag !== image.tag) {
    return `it was made for tag ${signed.tag ?? ''}, not ${image.tag}`;
  }
  return undefined;
}
