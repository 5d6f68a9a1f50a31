// ListImages' filters: within one filter every set condition must hold, and an image is listed when any
// filter holds (no filters: every image). Name conditions look at every name the image answers to (an image
// pulled again under another name keeps both).
import { hasAll } from './pod-filter.js';
import type { ApiImage, ImageFilter } from './messages.js';

/** The last element of a name's path: "etcd" of "coreos.com/etcd". */
const baseName = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

export function imageMatches(image: ApiImage, names: readonly string[], f: ImageFilter): boolean {
  const anyName = (want: readonly string[], test: (name: string, w: string) => boolean): boolean =>
    want.length === 0 || names.some((n) => want.some((w) => test(n, w)));
  if (f.ids.length > 0 && !f.ids.includes(image.id)) return false;
  if (!anyName(f.full_names, (n, w) => n === w)) return false;
  if (!anyName(f.prefixes, (n, w) => n.startsWith(w))) return false;
  if (!anyName(f.base_names, (n, w) => baseName(n) === w)) return false;
  if (!anyName(f.keywords, (n, w) => n.includes(w))) return false;
  const imported = Number(image.import_timestamp);
  if (f.imported_after > 0 && imported <= f.imported_after) return false;
  if (f.imported_before > 0 && imported >= f.imported_before) return false;
  if (!hasAll(image.labels, f.labels)) return false;
  if (!hasAll(image.annotations, f.annotations)) return false;
  return true;
}

export function imageMatchesAny(image: ApiImage, names: readonly string[], filters: readonly ImageFilter[]): boolean {
  return filters.length === 0 || filters.some((f) => imageMatches(image, names, f));
}
