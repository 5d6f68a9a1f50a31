// The rules an OCI layer's entries must pass, as pure functions: names, whiteouts, xattrs, bounds.
// They follow the ACI rules (stage0/image/entry-rules.ts, limits.ts) where layers and ACIs agree; the
// differences are that a layer's names are relative to the root with no manifest/rootfs prefix, a `.`
// entry describes the root itself, and `.wh.` names are whiteouts (image-spec "Applying changesets").
import { RktError } from '../../../common/errors.js';
import { DEFAULT_LIMITS, maxTarBytes, type ImageLimits } from '../../image/limits.js';

export interface LayerLimits {
  /** Number of tar entries (headers), directories and whiteouts included. */
  readonly maxEntries: number;
  /** Sum of the sizes of all regular files' contents. */
  readonly maxTotalBytes: number;
  /** Longest entry name, in bytes. */
  readonly maxPathBytes: number;
  /** The whole uncompressed tar stream, whatever its compressed size. */
  readonly maxUncompressedBytes: number;
  /**
   * Against decompression bombs: the uncompressed stream may exceed `ratioFloorBytes` only while it is
   * at most `maxRatio` times the compressed size. gzip cannot exceed about 1032:1, so this bites only
   * on zstd, whose ratio is unbounded; real zstd layers of mostly-zero files stay far below 2000:1.
   */
  readonly maxRatio: number;
  readonly ratioFloorBytes: number;
}

export function layerLimits(image: ImageLimits = DEFAULT_LIMITS): LayerLimits {
  return {
    maxEntries: image.maxEntries,
    maxTotalBytes: image.maxTotalBytes,
    maxPathBytes: image.maxPathBytes,
    maxUncompressedBytes: maxTarBytes(image),
    maxRatio: 2000,
    ratioFloorBytes: 256 * 1024 * 1024,
  };
}

export const DEFAULT_LAYER_LIMITS: LayerLimits = Object.freeze(layerLimits());

/** The most uncompressed bytes a layer whose blob is `compressedSize` bytes may expand to. */
export function uncompressedBound(limits: LayerLimits, compressedSize: number): number {
  return Math.min(limits.maxUncompressedBytes, Math.max(limits.ratioFloorBytes, limits.maxRatio * compressedSize));
}

export const HOSTILE_HINT = 'the layer is malformed or tries to escape its directory; do not use this image';

export function hostile(what: string, why: string, hint = HOSTILE_HINT): RktError {
  return new RktError('IMAGE_HOSTILE', `refusing ${what}: ${why}`, { hint });
}

export function invalid(what: string, why: string, hint = 'the layer is corrupt or not a valid image layer'): RktError {
  return new RktError('IMAGE_INVALID', `invalid ${what}: ${why}`, { hint });
}

export function shown(raw: string): string {
  return JSON.stringify(raw.length > 120 ? `${raw.slice(0, 120)}...` : raw);
}

/**
 * Normalizes a layer entry name to a path relative to the root: strips leading "./" and one trailing
 * "/"; "" is the root itself ("." or "./"). Throws for absolute names, ".." or empty components, NUL
 * bytes and overlong names or components, like the ACI rules.
 */
export function normalizeLayerName(raw: string, maxBytes: number, what: string): string {
  if (raw.includes('\0')) throw hostile(what, `entry name ${shown(raw)} contains a NUL byte`);
  if (Buffer.byteLength(raw) > maxBytes) throw hostile(what, `entry name ${shown(raw)} is longer than ${maxBytes} bytes`);
  if (raw.startsWith('/')) throw hostile(what, `entry ${shown(raw)} has an absolute path`);
  let name = raw;
  while (name.startsWith('./')) name = name.slice(2);
  if (name.endsWith('/')) name = name.slice(0, -1);
  if (name === '' || name === '.') return '';
  for (const part of name.split('/')) {
    if (part === '..') throw hostile(what, `entry ${shown(raw)} has a ".." path component`);
    if (part === '' || part === '.') throw hostile(what, `entry ${shown(raw)} has an empty or "." path component`);
    if (Buffer.byteLength(part) > 255) throw hostile(what, `entry ${shown(raw)} has a component longer than 255 bytes`);
  }
  return name;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export type NameRole =
  | { readonly role: 'plain' }
  /** `.wh.<target>`: hides `<target>` (same directory) in lower layers. */
  | { readonly role: 'whiteout'; readonly target: string }
  /** `.wh..wh..opq`: the parent directory hides everything below it in lower layers. */
  | { readonly role: 'opaque'; readonly dir: string }
  /** aufs bookkeeping (`.wh..wh.plnk/...` and the like): carries nothing for an image, skipped. */
  | { readonly role: 'aufs-meta' };

/** What a normalized, non-root name means in a layer. */
export function classifyName(name: string, what: string): NameRole {
  const parts = name.split('/');
  const last = parts[parts.length - 1] as string;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (!p.startsWith(WHITEOUT_PREFIX)) continue;
    if (p.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
      if (p === OPAQUE_MARKER && i === parts.length - 1) return { role: 'opaque', dir: parts.slice(0, -1).join('/') };
      if (p === OPAQUE_MARKER) throw hostile(what, `entry ${shown(name)} is inside an opaque-directory marker`);
      return { role: 'aufs-meta' };
    }
    if (i < parts.length - 1) throw hostile(what, `entry ${shown(name)} is inside whiteout ${shown(p)}`);
  }
  if (!last.startsWith(WHITEOUT_PREFIX)) return { role: 'plain' };
  const hidden = last.slice(WHITEOUT_PREFIX.length);
  if (hidden === '' || hidden === '.' || hidden === '..') {
    throw hostile(what, `whiteout ${shown(name)} names ${hidden === '' ? 'nothing' : `"${hidden}"`}`);
  }
  return { role: 'whiteout', target: [...parts.slice(0, -1), hidden].join('/') };
}

export type XattrDecision = 'apply' | 'drop' | 'refuse';

/**
 * Which xattrs from an image are applied. security.capability (file capabilities, e.g. ping's
 * cap_net_raw) and user.* are. overlayfs keeps whiteouts, opaque directories, redirects and metacopy
 * in trusted.overlay.* (user.overlay.* under the userxattr option): a layer carrying them could forge
 * those in the trees stacked under it, so they are refused as hostile. Every other trusted.*,
 * security.* (SELinux labels belong to the host's policy) and system.* (POSIX ACLs, not kept by rkt's
 * ACI path either) is dropped.
 */
export function xattrDecision(name: string): XattrDecision {
  if (name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.')) return 'refuse';
  if (name === 'security.capability') return 'apply';
  if (name.startsWith('user.')) return 'apply';
  return 'drop';
}

/** The setuid/setgid rule of ACIs: such a file must not also be writable by group or others. */
export function unsafeSetid(mode: number): boolean {
  return (mode & 0o6000) !== 0 && (mode & 0o022) !== 0;
}
