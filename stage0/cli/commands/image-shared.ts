// Helpers shared by the `rkt image` subcommands: resolving IMAGE arguments and guarding output paths.
import { lstat, readdir, rm } from 'node:fs/promises';
import { RktError } from '../../../common/errors.js';
import type { Store } from '../../store/index.js';

/** Resolves every argument (ID, unique ID prefix, name[:version]) before acting on any. */
export async function resolveRefs(store: Store, refs: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) ids.push(await store.resolveImageRef(ref));
  return ids;
}

/** A destination directory must be absent or empty, unless --overwrite clears it. */
export async function prepareOutDir(dir: string, overwrite: boolean): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st) return;
  if (overwrite) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  if (!st.isDirectory() || (await readdir(dir)).length > 0) {
    throw new RktError('USAGE', `${dir} already exists and is not an empty directory`, { hint: 'use --overwrite to replace it', exitCode: 254 });
  }
}

export async function refuseExistingFile(file: string, overwrite: boolean): Promise<void> {
  if (overwrite) return;
  if (await lstat(file).catch(() => undefined)) {
    throw new RktError('USAGE', `${file} already exists`, { hint: 'use --overwrite to replace it', exitCode: 254 });
  }
}
