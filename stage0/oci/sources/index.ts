// The local transports (oci:, oci-archive:, docker-archive:) behind one entry point; docker:// is the registry client's.
import type { OciReference } from '../reference.js';
import type { ImageSource } from '../source.js';
import { openDockerArchive } from './docker-archive.js';
import { openOciArchive } from './oci-archive.js';
import { openOciLayout, type LocalSourceOptions } from './oci-layout.js';

export type LocalOciReference = Exclude<OciReference, { readonly transport: 'docker' }>;
export type { LocalSourceOptions } from './oci-layout.js';

export function isLocalOciReference(ref: OciReference): ref is LocalOciReference {
  return ref.transport !== 'docker';
}

/** Opens the image a local reference names; the name or tag is checked before this returns. */
export async function openLocalSource(ref: LocalOciReference, opts: LocalSourceOptions): Promise<ImageSource> {
  switch (ref.transport) {
    case 'oci':
      return openOciLayout(ref.path, ref.name, opts);
    case 'oci-archive':
      return openOciArchive(ref.path, ref.name, opts);
    case 'docker-archive':
      return openDockerArchive(ref.path, ref.ref, opts);
  }
}
