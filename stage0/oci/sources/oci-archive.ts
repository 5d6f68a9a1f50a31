// oci-archive:FILE[:NAME]: a tar of an OCI image layout (skopeo's and buildah's format). The archive is
// indexed, not extracted (see tar-index.ts): reading a multi-gigabyte image then costs one pass over its
// headers rather than a copy of every blob, and no member ever becomes a file on disk.
import type { ImageSource } from '../source.js';
import { tarLayoutFiles } from './layout-common.js';
import { layoutSource, type LocalSourceOptions } from './oci-layout.js';
import { TarIndex } from './tar-index.js';

export async function openOciArchive(file: string, name: string | undefined, opts: LocalSourceOptions): Promise<ImageSource> {
  const description = `oci-archive:${file}${name !== undefined ? `:${name}` : ''}`;
  const tar = await TarIndex.open(file, opts);
  try {
    return await layoutSource(tarLayoutFiles(tar, `archive ${file}`), name, description, () => tar.close());
  } catch (err) {
    await tar.close();
    throw err;
  }
}
