// What the two signature kinds share: the registry access the puller lends, the image being
// checked, and how one signature's verdict is ranked against the others' when none is accepted.
import type { RktError } from '../../../common/errors.js';
import type { TrustScope, KeystoreLayer } from '../../trust/keystore.js';
import type { Digest } from '../digest.js';
import type { Descriptor } from '../documents.js';
import type { DockerReference } from '../reference.js';

/** The two registry reads signature lookup needs; the puller supplies them from its registry client. */
export interface SignatureRegistry {
  getManifest(tag: string, o: { missingOk: true }): Promise<{ bytes: Buffer; mediaType: string | undefined } | undefined>;
  blob(desc: Descriptor): Promise<Buffer>;
}

export interface ImageUnderCheck {
  readonly reference: DockerReference;
  readonly manifestDigest: Digest;
  /** host/repository: what selects the trusted keys. */
  readonly name: string;
  /** The reference as the user wrote it (with tag or digest), for messages. */
  readonly shown: string;
  readonly layers: readonly KeystoreLayer[];
  readonly debug: (m: string) => void;
}

/**
 * How much a refusal says about the image, highest first: a signature by a trusted key that does
 * not hold (tampered, other image, other name); a signature by a key trusted only elsewhere or
 * masked; a signature that is malformed or names another image; a signature by an unknown key.
 * When no signature is accepted, the highest-ranked refusal is the one reported.
 */
export const RANK = { invalidTrusted: 4, trustedElsewhere: 3, invalid: 2, untrusted: 1 } as const;

export type Verdict =
  | { readonly ok: true; readonly verifiedBy: string }
  | { readonly ok: false; readonly rank: number; readonly error: RktError };

/** How verifiedBy and messages name the scope a key is trusted for. */
export function trustedFor(scope: TrustScope): string {
  return scope.kind === 'root' ? 'every image (root key)' : scope.prefix;
}

export function trustHint(name: string): string {
  return `if you trust the signer, add its public key with: rkt trust --prefix=${name} <key file>; or skip verification with --insecure-options=image`;
}
