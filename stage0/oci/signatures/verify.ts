// "Verified by default" for OCI images: an image is accepted when at least one of its signatures
// (sigstore attachments in the registry, OpenPGP simple signatures in lookaside storage) is made by
// a key trusted for a prefix of its name and vouches for its manifest digest under that name.
// When none is accepted, the refusal that says most about the image is the one thrown.
import { RktError } from '../../../common/errors.js';
import type { HttpPolicy } from '../../fetch/http.js';
import type { KeystoreLayer } from '../../trust/keystore.js';
import type { Digest } from '../digest.js';
import { formatDockerReference, type DockerReference } from '../reference.js';
import type { ImageUnderCheck, SignatureRegistry, Verdict } from './common.js';
import { loadRegistriesD, lookasideFor, registriesDirs } from './registries-d.js';
import { checkSigstoreSignature, fetchSigstoreSignatures, loadSigstoreKeys } from './sigstore.js';
import { checkSimpleSignature, fetchLookasideSignatures } from './simple.js';

export type { SignatureRegistry } from './common.js';

export interface VerifyOciImageOptions {
  /** Undefined for local sources (oci:, oci-archive:, docker-archive: without a name). */
  readonly reference: DockerReference | undefined;
  readonly manifestDigest: Digest;
  /** Fetches the .sig artifact; absent when the image did not come from a registry. */
  readonly registry?: SignatureRegistry;
  readonly keystoreLayers: readonly KeystoreLayer[];
  /**
   * The rkt config directories (system, local, user): registries.d is read from
   * /etc/containers/registries.d, then `<dir>/registries.d` of each; and the policy for http(s) lookasides.
   */
  readonly lookaside: { readonly configDirs: string[]; readonly http: HttpPolicy };
  readonly debug?: (m: string) => void;
  /** How messages name a local image (default "the local image"); additive, optional. */
  readonly description?: string;
}

export interface OciVerification {
  /** e.g. "sigstore key sha256:ab12… trusted for 127.0.0.1:5000/acme". */
  readonly verifiedBy: string;
}

function missing(what: string, name: string | undefined, looked: string[]): RktError {
  const trust = name ? `trust its signer's key with rkt trust --prefix=${name} <key>` : 'trust its signer\'s key with rkt trust';
  return new RktError('SIGNATURE_MISSING', `image ${what} is not signed${looked.length ? `: no signature found (looked ${looked.join('; ')})` : ''}`, {
    hint: `sign it (cosign sign --key, or skopeo copy --sign-by / --sign-by-sigstore-private-key), ${trust}, or skip verification with --insecure-options=image`,
  });
}

/** Verifies an OCI image's signatures; returns which key verified it or throws a RktError. */
export async function verifyOciImage(opts: VerifyOciImageOptions): Promise<OciVerification> {
  const debug = opts.debug ?? ((): void => undefined);
  if (!opts.reference) {
    throw missing(opts.description ?? `${opts.manifestDigest.text} (local)`, undefined, ['a local image has no registry or lookaside to hold signatures']);
  }
  const image: ImageUnderCheck = {
    reference: opts.reference,
    manifestDigest: opts.manifestDigest,
    name: formatDockerReference(opts.reference, false),
    shown: formatDockerReference(opts.reference, true),
    layers: opts.keystoreLayers,
    debug,
  };
  const verdicts: Verdict[] = [];
  const looked: string[] = [];

  if (opts.registry) {
    looked.push(`the registry tag ${image.name}:${opts.manifestDigest.algorithm}-${opts.manifestDigest.hex.slice(0, 12)}….sig`);
    const { signatures, refused } = await fetchSigstoreSignatures(opts.registry, image);
    verdicts.push(...refused);
    if (signatures.length > 0) {
      const keys = await loadSigstoreKeys(image);
      for (const sig of signatures) {
        const v = checkSigstoreSignature(sig, image, keys);
        if (v.ok) {
          debug(`${sig.source}: verified by ${v.verifiedBy}`);
          return { verifiedBy: v.verifiedBy };
        }
        debug(`${sig.source}: ${v.error.message}`);
        verdicts.push(v);
      }
    }
  }

  const dirs = registriesDirs(opts.lookaside.configDirs);
  const lookaside = lookasideFor(await loadRegistriesD(dirs), opts.reference);
  if (lookaside) {
    debug(`lookaside for ${image.name} is ${lookaside.url} (from ${lookaside.source})`);
    looked.push(`the lookaside ${lookaside.url} set in ${lookaside.source}`);
    for (const sig of await fetchLookasideSignatures(lookaside.url, image, opts.lookaside.http)) {
      const v = await checkSimpleSignature(sig, image);
      if (v.ok) {
        debug(`${sig.source}: verified by ${v.verifiedBy}`);
        return { verifiedBy: v.verifiedBy };
      }
      debug(`${sig.source}: ${v.error.message}`);
      verdicts.push(v);
    }
  } else {
    debug(`no registries.d lookaside applies to ${image.name} (read ${dirs.join(', ')})`);
  }

  let worst: (Verdict & { ok: false }) | undefined;
  for (const v of verdicts) if (!v.ok && (!worst || v.rank > worst.rank)) worst = v;
  if (!worst) throw missing(image.shown, image.name, looked);
  if (verdicts.length > 1) {
    const others = verdicts.length - 1;
    throw new RktError(worst.error.code, `${worst.error.message} (and ${others} other signature${others === 1 ? '' : 's'} refused)`, {
      ...(worst.error.hint !== undefined ? { hint: worst.error.hint } : {}),
      cause: worst.error,
    });
  }
  throw worst.error;
}
