// The per-entry rules every ACI tar must pass: safe names, known types, no writes through symlinks, bounds.
// One checker is used both when an image is imported and again (defence in depth) when it is extracted.
import type { Header } from 'tar-stream';
import { RktError } from '../../common/errors.js';
import type { ImageLimits } from './limits.js';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'link' | 'fifo';

export interface CheckedEntry {
  /** Normalized name inside the archive, e.g. "rootfs/bin/sh" or "manifest". */
  readonly name: string;
  readonly kind: EntryKind;
  /** For "link": the normalized archive name of the target; for "symlink": the raw target. */
  readonly linkname: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: Date;
}

function hostile(why: string, hint?: string): RktError {
  return new RktError('IMAGE_HOSTILE', `refusing image: ${why}`, {
    hint: hint ?? 'the archive is malformed or tries to escape its directory; do not use it',
  });
}

/**
 * Normalizes a tar entry name: strips leading "./" and one trailing "/". Throws for names that could land
 * outside the target: absolute names, ".." components, empty components, NUL bytes.
 */
export function normalizeEntryName(raw: string, maxBytes: number): string {
  const shown = JSON.stringify(raw.length > 120 ? `${raw.slice(0, 120)}...` : raw);
  if (raw.includes('\0')) throw hostile(`entry name ${shown} contains a NUL byte`);
  if (Buffer.byteLength(raw) > maxBytes) throw hostile(`entry name ${shown} is longer than ${maxBytes} bytes`);
  if (raw.startsWith('/')) throw hostile(`entry ${shown} has an absolute path`);
  let name = raw;
  while (name.startsWith('./')) name = name.slice(2);
  if (name.endsWith('/')) name = name.slice(0, -1);
  if (name === '' || name === '.') throw hostile(`entry ${shown} names the archive root`);
  for (const part of name.split('/')) {
    if (part === '..') throw hostile(`entry ${shown} has a ".." path component`);
    if (part === '' || part === '.') throw hostile(`entry ${shown} has an empty or "." path component`);
    if (Buffer.byteLength(part) > 255) throw hostile(`entry ${shown} has a component longer than 255 bytes`);
  }
  return name;
}

function kindOf(h: Header, name: string): EntryKind {
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
    case 'symlink':
    case 'link':
    case 'fifo':
      return h.type;
    case 'character-device':
    case 'block-device':
      throw hostile(`entry "${name}" is a ${h.type.replace('-', ' ')}`, 'device nodes are not allowed in images; the stage1 provides /dev');
    default:
      throw hostile(`entry "${name}" has unsupported type "${String(h.type)}"`);
  }
}

/** Stateful checker: feed it every header in archive order. */
export class EntryChecker {
  private readonly kinds = new Map<string, EntryKind>();
  private entries = 0;
  private totalBytes = 0;
  sawManifest = false;
  sawRootfs = false;

  constructor(private readonly limits: ImageLimits) {}

  check(h: Header): CheckedEntry {
    this.entries++;
    if (this.entries > this.limits.maxEntries) {
      throw hostile(`more than ${this.limits.maxEntries} entries`, 'the image exceeds the entry limit');
    }
    const name = normalizeEntryName(h.name, this.limits.maxPathBytes);
    const kind = kindOf(h, name);
    const size = kind === 'file' ? h.size : 0;
    if (!Number.isSafeInteger(size) || size < 0) throw hostile(`entry "${name}" has an invalid size`);
    this.totalBytes += size;
    if (this.totalBytes > this.limits.maxTotalBytes) {
      throw hostile(`contents exceed ${this.limits.maxTotalBytes} bytes (at "${name}")`, 'the image exceeds the size limit');
    }
    if (this.kinds.has(name)) throw hostile(`duplicate entry "${name}"`);

    if (name === 'manifest') {
      if (kind !== 'file') throw hostile('"manifest" is not a regular file');
      if (size > this.limits.maxManifestBytes) {
        throw hostile(`manifest is ${size} bytes, more than the ${this.limits.maxManifestBytes} allowed`, 'the image exceeds the manifest size limit');
      }
      this.sawManifest = true;
    } else if (name === 'rootfs') {
      if (kind !== 'directory') throw hostile('"rootfs" is not a directory');
      this.sawRootfs = true;
    } else if (!name.startsWith('rootfs/')) {
      throw new RktError('IMAGE_INVALID', `invalid image: unexpected top-level entry "${name}"`, {
        hint: 'an ACI holds only "manifest" and "rootfs/"',
      });
    }

    // Every ancestor must be a directory this archive declared or left implicit; never a symlink or file.
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const anc = parts.slice(0, i).join('/');
      const k = this.kinds.get(anc);
      if (k === 'symlink') throw hostile(`entry "${name}" would be written through symlink "${anc}"`);
      if (k !== undefined && k !== 'directory') throw hostile(`entry "${name}" is inside "${anc}", which is not a directory`);
    }

    let linkname = '';
    if (kind === 'symlink') {
      linkname = h.linkname ?? '';
      if (linkname === '' || linkname.includes('\0')) throw hostile(`symlink "${name}" has an empty or invalid target`);
    } else if (kind === 'link') {
      const target = normalizeEntryName(h.linkname ?? '', this.limits.maxPathBytes);
      if (!target.startsWith('rootfs/')) throw hostile(`hardlink "${name}" points outside rootfs ("${target}")`);
      if (this.kinds.get(target) !== 'file') {
        throw hostile(`hardlink "${name}" points to "${target}", which is not an earlier regular file in the image`);
      }
      linkname = target;
    }

    const mode = h.mode ?? 0;
    if (kind === 'file' && (mode & 0o6000) !== 0 && (mode & 0o022) !== 0) {
      throw hostile(`entry "${name}" is setuid/setgid and writable by group or others (mode ${mode.toString(8)})`);
    }
    const uid = h.uid ?? 0;
    const gid = h.gid ?? 0;
    if (!Number.isSafeInteger(uid) || uid < 0 || !Number.isSafeInteger(gid) || gid < 0) {
      throw hostile(`entry "${name}" has an invalid owner`);
    }

    this.kinds.set(name, kind);
    return { name, kind, linkname, size, mode, uid, gid, mtime: h.mtime ?? new Date(0) };
  }

  /** Called after the last entry: the archive must have had a manifest and a rootfs directory. */
  finish(): void {
    if (!this.sawManifest) {
      throw new RktError('IMAGE_INVALID', 'invalid image: no "manifest" entry', { hint: 'an ACI must hold a "manifest" file next to "rootfs/"' });
    }
    if (!this.sawRootfs) {
      throw new RktError('IMAGE_INVALID', 'invalid image: no "rootfs" directory entry', { hint: 'an ACI must hold a "rootfs/" directory entry' });
    }
  }
}
