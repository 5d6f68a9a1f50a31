// Reads just the image manifest out of a fetched ACI (stopping at it), so the name that picks
// the trusted keys is known before the image enters the store. The store re-validates everything.
import tar from 'tar-stream';
import { RktError, describeCause } from '../../common/errors.js';
import type { ImageManifest } from '../../common/appc/index.js';
import { openTarSource } from '../image/compression.js';
import { parseManifestBytes } from '../image/scan.js';
import { DEFAULT_LIMITS } from '../image/limits.js';

function isManifestEntry(name: string): boolean {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  return n === 'manifest';
}

export async function peekManifest(file: string, where: string): Promise<ImageManifest> {
  const src = await openTarSource(file);
  const extract = tar.extract();
  const max = DEFAULT_LIMITS.maxManifestBytes;
  let raw: Buffer | undefined;
  try {
    raw = await new Promise<Buffer | undefined>((resolve, reject) => {
      let settled = false;
      const finish = (v: Buffer | undefined, err?: unknown): void => {
        if (settled) return;
        settled = true;
        if (err !== undefined) reject(err);
        else resolve(v);
      };
      extract.on('entry', (header, stream, next) => {
        if (!isManifestEntry(header.name) || header.type !== 'file') {
          stream.on('end', next);
          stream.resume();
          return;
        }
        if ((header.size ?? 0) > max) {
          finish(undefined, new RktError('IMAGE_HOSTILE', `refusing image ${where}: manifest larger than ${max} bytes`));
          return;
        }
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
        stream.on('end', () => finish(Buffer.concat(chunks)));
        stream.on('error', (e) => finish(undefined, e));
      });
      extract.on('finish', () => finish(undefined));
      extract.on('error', (e) => finish(undefined, e));
      src.stream.on('error', (e) => finish(undefined, e));
      src.stream.pipe(extract);
    });
  } catch (err) {
    if (err instanceof RktError) throw err;
    throw new RktError('IMAGE_INVALID', `invalid image ${where}: cannot read the archive: ${describeCause(err)}`, { cause: err });
  } finally {
    src.abort();
    extract.destroy();
  }
  if (!raw) {
    throw new RktError('IMAGE_INVALID', `invalid image ${where}: no manifest in the archive`, {
      hint: 'an ACI holds a "manifest" file next to its "rootfs" directory',
    });
  }
  return parseManifestBytes(raw, where);
}
