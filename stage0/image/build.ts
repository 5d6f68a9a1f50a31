// Builds an ACI from a directory holding `manifest` and `rootfs/`, reproducibly: entries in sorted order,
// every mtime 0, numeric owners only (no user/group names), modes as on disk; same tree -> same bytes.
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';
import { parseManifestBytes } from './scan.js';
import { DEFAULT_LIMITS } from './limits.js';
import { writeAciFile } from './aci-file.js';

export interface BuildOptions {
  compression: 'none' | 'gzip';
  overwrite: boolean;
  /** Told about files left out (device nodes, sockets). */
  onSkip?: (relPath: string, why: string) => void;
}

export async function buildAci(srcDir: string, outFile: string, opts: BuildOptions): Promise<void> {
  const manifestPath = path.join(srcDir, 'manifest');
  let raw: Buffer;
  try {
    raw = await readFile(manifestPath);
  } catch (err) {
    throw new RktError('IMAGE_INVALID', `cannot build image: cannot read ${manifestPath}: ${errnoCode(err) ?? describeCause(err)}`, {
      hint: 'the directory must hold a "manifest" file and a "rootfs/" directory',
    });
  }
  if (raw.length > DEFAULT_LIMITS.maxManifestBytes) {
    throw new RktError('IMAGE_INVALID', `cannot build image: manifest is larger than ${DEFAULT_LIMITS.maxManifestBytes} bytes`);
  }
  parseManifestBytes(raw, manifestPath);
  const rootfs = path.join(srcDir, 'rootfs');
  const rst = await lstat(rootfs).catch(() => undefined);
  if (!rst?.isDirectory()) {
    throw new RktError('IMAGE_INVALID', `cannot build image: ${rootfs} is not a directory`, {
      hint: 'the directory must hold a "manifest" file and a "rootfs/" directory',
    });
  }
  await writeAciFile(outFile, {
    manifest: raw, rootfs, compression: opts.compression, overwrite: opts.overwrite,
    // device nodes are skipped so trees made by debootstrap still build into importable images
    policy: { mtimes: 'zero', devices: 'skip', ...(opts.onSkip ? { onSkip: opts.onSkip } : {}) },
  });
}
