// Turning what a user typed into an image ID: full IDs, unique sha512- prefixes, and name[:version].
import { readdir } from 'node:fs/promises';
import { RktError, errnoCode } from '../../common/errors.js';
import { IMAGE_ID_RE, type StoreLayout } from './layout.js';
import type { ImageInfo } from './info.js';

const MIN_PREFIX_HEX = 2;

/** IDs of all complete images (work dirs and strays are not listed). */
export async function listImageIds(layout: StoreLayout): Promise<string[]> {
  try {
    return (await readdir(layout.images)).filter((n) => IMAGE_ID_RE.test(n));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

export async function resolveImageId(layout: StoreLayout, input: string): Promise<string> {
  const lower = input.toLowerCase();
  if (!lower.startsWith('sha512-')) {
    throw new RktError('IMAGE_NOT_FOUND', `invalid image ID "${input}": it must start with "sha512-"`);
  }
  // Longer than a store key (a full 128-hex digest) is truncated, as rkt did.
  const hex = lower.slice('sha512-'.length, 'sha512-'.length + 64);
  if (!/^[0-9a-f]*$/.test(hex)) throw new RktError('IMAGE_NOT_FOUND', `invalid image ID "${input}": not hexadecimal`);
  if (hex.length < MIN_PREFIX_HEX) {
    throw new RktError('IMAGE_NOT_FOUND', `image ID "${input}" is too short`, { hint: `give at least ${MIN_PREFIX_HEX} hex digits after "sha512-"` });
  }
  const prefix = `sha512-${hex}`;
  const matches = (await listImageIds(layout)).filter((id) => id.startsWith(prefix));
  if (matches.length === 0) {
    throw new RktError('IMAGE_NOT_FOUND', `image ${prefix} not found in the store`, { hint: 'see "rkt image list"' });
  }
  if (matches.length > 1) {
    throw new RktError('IMAGE_AMBIGUOUS', `ambiguous image ID "${input}": ${matches.length} images match`, { hint: 'give more hex digits of the ID' });
  }
  return matches[0] as string;
}

/** The most recently imported image with this name (its own or an alias) whose labels include all of `labels`. */
export function pickByName(infos: readonly ImageInfo[], name: string, labels: Record<string, string> = {}): ImageInfo | undefined {
  let best: ImageInfo | undefined;
  const matches = (n: string, have: Record<string, string>): boolean => n === name && Object.entries(labels).every(([k, v]) => have[k] === v);
  for (const info of infos) {
    if (!matches(info.name, info.labels) && !(info.aliases ?? []).some((a) => matches(a.name, a.labels))) continue;
    if (!best || info.importTime.getTime() > best.importTime.getTime()) best = info;
  }
  return best;
}

/** Splits "name:version" (AC names cannot hold ":"), giving the version as a label. */
export function parseNameRef(ref: string): { name: string; labels: Record<string, string> } {
  const i = ref.lastIndexOf(':');
  if (i <= 0) return { name: ref, labels: {} };
  return { name: ref.slice(0, i), labels: { version: ref.slice(i + 1) } };
}
