// An image in the store as the v1alpha Image message, from the store's metadata (info.json) and manifest.
import type { ImageManifest } from '../../common/appc/index.js';
import { labelValue } from '../../common/appc/index.js';
import type { ImageInfo } from '../store/index.js';
import { keyValues, secondsString, type ApiImage } from './messages.js';

/**
 * The format the image was published in. The store keeps ACIs as they came and OCI/Docker images as OCI
 * layers (with an appc manifest made from their config): those are DOCKER when pulled with docker://, OCI
 * otherwise, with no format version recorded.
 */
function baseFormat(info: ImageInfo, manifest: ImageManifest): NonNullable<ApiImage['base_format']> {
  if (info.oci === undefined) return { type: 'IMAGE_TYPE_APPC', version: manifest.acVersion };
  return { type: info.oci.reference.startsWith('docker://') ? 'IMAGE_TYPE_DOCKER' : 'IMAGE_TYPE_OCI', version: '' };
}

/** `raw`: the manifest's bytes, sent with InspectImage and ListImages' detail; left empty otherwise. */
export function imageMessage(info: ImageInfo, manifest: ImageManifest, raw?: Buffer): ApiImage {
  return {
    base_format: baseFormat(info, manifest),
    id: info.id,
    name: info.name,
    version: labelValue(manifest.labels, 'version') ?? info.labels['version'] ?? 'latest',
    import_timestamp: secondsString(info.importTime),
    manifest: raw ?? Buffer.alloc(0),
    size: String(info.size),
    annotations: keyValues(manifest.annotations),
    labels: keyValues(manifest.labels),
  };
}

/** Every name the image answers to: the one it was imported under, then the aliases of later imports. */
export const imageNames = (info: ImageInfo): string[] => [info.name, ...(info.aliases ?? []).map((a) => a.name)];
