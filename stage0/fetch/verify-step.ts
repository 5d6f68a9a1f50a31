// The verification step every fetcher runs before an image enters the store: signature
// required (unless --insecure-options=image), checked against the keys trusted for the name.
import fs from 'node:fs/promises';
import { RktError } from '../../common/errors.js';
import { verifyImageSignature } from '../trust/verify.js';
import type { FetchEnv } from './env.js';

export interface SignatureInput {
  readonly bytes: Uint8Array | undefined;
  /** Where it was looked for (path or URL), for messages. */
  readonly source: string;
}

let warnedInsecure = false;

export function missingSignature(imageSource: string, where: string): RktError {
  return new RktError('SIGNATURE_MISSING', `image ${imageSource} is not signed: no signature found at ${where}`, {
    hint: 'put a detached signature (gpg --armor --detach-sign) next to the image as <image>.asc, pass --signature=FILE, or skip verification with --insecure-options=image',
  });
}

/** Returns true when the image was verified; throws when it must not be used. */
export async function verifyFetched(env: FetchEnv, file: string, imageSource: string, name: string, sig: SignatureInput): Promise<boolean> {
  if (!env.verify) {
    if (!warnedInsecure) {
      env.ctx.output.warn('warning: image signature verification is disabled (--insecure-options=image)');
      warnedInsecure = true;
    }
    return false;
  }
  if (sig.bytes === undefined) throw missingSignature(imageSource, sig.source);
  const data = await fs.readFile(file);
  const signer = await verifyImageSignature({
    layers: env.layers,
    name,
    data,
    signature: sig.bytes,
    imageSource,
    signatureSource: sig.source,
  });
  env.ctx.output.warn(['signature verified:', ...signer.uids.map((u) => `  ${u}`)].join('\n'));
  return true;
}
