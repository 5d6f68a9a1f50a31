// OCI content digests ("algorithm:hex"): parsing, and the streaming hash that checks a blob against one.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { RktError } from '../../common/errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** "sha256:<hex>" */
  readonly text: string;
}

const HEX_LEN: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Parses "sha256:<64 hex>" or "sha512:<128 hex>"; `what` names the field in the error. */
export function parseDigest(text: string, what: string): Digest {
  const m = /^(sha256|sha512):([0-9a-f]+)$/.exec(text);
  const alg = m?.[1] as DigestAlgorithm | undefined;
  const hex = m?.[2];
  if (!alg || !hex || hex.length !== HEX_LEN[alg]) {
    throw new RktError('IMAGE_INVALID', `invalid digest ${JSON.stringify(text.slice(0, 140))} in ${what}`, {
      hint: 'a digest is sha256:<64 lowercase hex digits> (or sha512:<128>)',
    });
  }
  return { algorithm: alg, hex, text };
}

/** The hex part of a digest's text ("sha256:ab.." -> "ab.."). */
export function digestHex(text: string): string {
  return text.slice(text.indexOf(':') + 1);
}

export function digestOf(bytes: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Checks in-memory bytes (a manifest, index or config) against the digest and size it was asked for. */
export function checkBytes(bytes: Buffer, expected: Digest, size: number | undefined, what: string): void {
  if (size !== undefined && bytes.length !== size) {
    throw new RktError('IMAGE_INVALID', `${what} is ${bytes.length} bytes but its descriptor says ${size}`, {
      hint: 'the image or the registry is corrupt; nothing was stored',
    });
  }
  const got = digestOf(bytes, expected.algorithm);
  if (got !== expected.text) {
    throw new RktError('IMAGE_INVALID', `${what} has digest ${got}, expected ${expected.text}`, {
      hint: 'the image or the registry is corrupt, or it was tampered with; nothing was stored',
    });
  }
}

/**
 * A pass-through stream that hashes and counts what flows through it and fails the stream (before its
 * end is signalled downstream) when the size or digest is wrong, so nothing downstream can commit a
 * blob that did not match its descriptor.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash;
  private received = 0;

  constructor(
    private readonly expected: Digest,
    private readonly size: number | undefined,
    private readonly what: string,
  ) {
    super();
    this.hash = createHash(expected.algorithm);
  }

  get bytes(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.received += chunk.length;
    if (this.size !== undefined && this.received > this.size) {
      cb(new RktError('IMAGE_INVALID', `${this.what} is larger than the ${this.size} bytes its descriptor says`, {
        hint: 'the image or the registry is corrupt; nothing of it was kept',
      }));
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.received !== this.size) {
      cb(new RktError('IMAGE_INVALID', `${this.what} ended after ${this.received} of ${this.size} bytes`, {
        hint: 'the download was cut short or the image is corrupt; nothing of it was kept, fetch again',
      }));
      return;
    }
    const got = `${this.expected.algorithm}:${this.hash.digest('hex')}`;
    if (got !== this.expected.text) {
      cb(new RktError('IMAGE_INVALID', `${this.what} has digest ${got}, expected ${this.expected.text}`, {
        hint: 'the image or the registry is corrupt, or it was tampered with; nothing of it was kept',
      }));
      return;
    }
    cb();
  }
}
