// Reads an ACI once: decompresses, hashes the tar stream (the image ID), optionally copies it out, and
// checks every entry and the manifest without writing anything else to disk.
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import tar from 'tar-stream';
import { RktError, describeCause } from '../../common/errors.js';
import { parseImageManifest, type ImageManifest } from '../../common/appc/index.js';
import { openTarSource, type Compression } from './compression.js';
import { EntryChecker } from './entry-rules.js';
import { DEFAULT_LIMITS, maxTarBytes, type ImageLimits } from './limits.js';

export interface ScanResult {
  /** sha512-<64 hex>: the first half of the SHA-512 of the uncompressed tar. */
  readonly id: string;
  readonly manifest: ImageManifest;
  /** The manifest bytes exactly as stored in the archive. */
  readonly manifestRaw: Buffer;
  /** Size of the uncompressed tar. */
  readonly tarBytes: number;
  readonly compression: Compression;
}

export interface ScanOptions {
  limits?: ImageLimits;
  /** Receives the uncompressed tar bytes (the store's blob). */
  copyTo?: FileHandle;
}

export function imageIdFromDigest(hexDigest: string): string {
  return `sha512-${hexDigest.slice(0, 64)}`;
}

export function parseManifestBytes(raw: Buffer, where: string): ImageManifest {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new RktError('MANIFEST_INVALID', `invalid image manifest in ${where}: not valid JSON: ${describeCause(err)}`, {
      hint: 'the manifest must be a JSON ImageManifest',
      cause: err,
    });
  }
  try {
    return parseImageManifest(json);
  } catch (err) {
    if (err instanceof RktError) {
      throw new RktError(err.code, `${err.message} (in ${where})`, { hint: err.hint, cause: err });
    }
    throw err;
  }
}

export async function scanAci(file: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const maxBytes = maxTarBytes(limits);
  const src = await openTarSource(file);
  const hash = createHash('sha512');
  let tarBytes = 0;
  const out = opts.copyTo;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      tarBytes += chunk.length;
      if (tarBytes > maxBytes) {
        cb(new RktError('IMAGE_HOSTILE', `refusing image: uncompressed archive exceeds ${maxBytes} bytes`, { hint: 'the image exceeds the size limit' }));
        return;
      }
      hash.update(chunk);
      if (out) out.write(chunk).then(() => cb(null, chunk), (e: unknown) => cb(e as Error));
      else cb(null, chunk);
    },
  });
  const extract = tar.extract();
  src.stream.on('error', (e) => tee.destroy(e));
  tee.on('error', (e) => extract.destroy(e));
  src.stream.pipe(tee).pipe(extract);

  const checker = new EntryChecker(limits);
  let manifestRaw: Buffer | undefined;
  try {
    for await (const entry of extract) {
      const e = checker.check(entry.header);
      if (e.name === 'manifest') {
        const parts: Buffer[] = [];
        for await (const c of entry) parts.push(c as Buffer);
        manifestRaw = Buffer.concat(parts);
      } else {
        for await (const _ of entry) {
          // content is hashed by the tee; nothing to keep here
        }
      }
    }
    // Drain anything after the end-of-archive blocks so the hash covers the whole stream.
    await src.done();
    checker.finish();
  } catch (err) {
    src.abort();
    tee.destroy();
    await src.done().catch((doneErr: unknown) => {
      if (!(err instanceof RktError)) throw doneErr;
    });
    if (err instanceof RktError) throw err;
    throw new RktError('IMAGE_INVALID', `invalid image ${file}: ${describeCause(err)}`, { cause: err, hint: 'the archive is corrupt or truncated' });
  }
  if (manifestRaw === undefined) throw new RktError('IMAGE_INVALID', 'invalid image: no "manifest" entry');
  const manifest = parseManifestBytes(manifestRaw, file);
  return { id: imageIdFromDigest(hash.digest('hex')), manifest, manifestRaw, tarBytes, compression: src.compression };
}
