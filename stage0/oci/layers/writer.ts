// Writes one layer's entries into an empty directory, in overlayfs's on-disk format, synchronously.
//
// Synchronous fs calls are deliberate: each entry costs a handful of syscalls (open, write, fchown,
// fchmod, futimes, close), and sending each through libuv's thread pool costs more than the syscall
// itself on layers of many small files. The stream feeding the reader still applies backpressure,
// because the next chunk is only pulled once this one has been written.
//
// Safety rests on the tree being ours alone: the root starts empty, every path's kind is recorded as it
// is created, and an entry is written only when each ancestor is a directory this layer made. Files are
// created with O_CREAT|O_EXCL|O_NOFOLLOW, so even a raced path is never followed or reused.
import fs from 'node:fs';
import path from 'node:path';
import { RktError, describeCause, errnoCode } from '../../../common/errors.js';
import { S_IFCHR, S_IFIFO, lsetxattr, mknod } from '../../../common/native.js';
import { extractedMode } from '../../image/limits.js';
import type { TarHeader, TarSink } from './tar-reader.js';
import { classifyName, hostile, normalizeLayerName, shown, unsafeSetid, xattrDecision, type LayerLimits } from './rules.js';

/** What a path of this layer currently is on disk. */
type Kind = 'dir' | 'implicit-dir' | 'file' | 'symlink' | 'fifo' | 'whiteout';

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  /** undefined: leave the time the directory got (implicit parents). */
  mtime: number | undefined;
  xattrs: ReadonlyMap<string, Buffer> | undefined;
}

interface OpenFile {
  readonly fd: number;
  readonly name: string;
  readonly h: TarHeader;
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';
const OPAQUE_VALUE = Buffer.from('y');

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const CREATE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

export interface WriterStats {
  entries: number;
  contentBytes: number;
}

export class LayerWriter implements TarSink {
  private readonly kinds = new Map<string, Kind>();
  private readonly seen = new Set<string>();
  private readonly dirs = new Map<string, DirMeta>();
  private cur: OpenFile | undefined;
  readonly stats: WriterStats = { entries: 0, contentBytes: 0 };

  constructor(
    private readonly root: string,
    private readonly limits: LayerLimits,
    private readonly what: string,
    private readonly debug?: (line: string) => void,
  ) {
    // Without a "." entry the root is an ordinary directory: its mode decides what `/` looks like in
    // the pod when this is the top layer, so it must not stay whatever mode the caller created it with.
    this.kinds.set('', 'dir');
    this.dirs.set('', { mode: 0o755, uid: 0, gid: 0, mtime: undefined, xattrs: undefined });
  }

  entry(h: TarHeader): void {
    this.stats.entries++;
    if (this.stats.entries > this.limits.maxEntries) {
      throw hostile(this.what, `more than ${this.limits.maxEntries} entries`, 'the layer exceeds the entry limit');
    }
    const name = normalizeLayerName(h.name, this.limits.maxPathBytes, this.what);
    this.stats.contentBytes += h.size;
    if (this.stats.contentBytes > this.limits.maxTotalBytes) {
      throw hostile(this.what, `contents exceed ${this.limits.maxTotalBytes} bytes (at ${shown(name)})`, 'the layer exceeds the size limit');
    }
    if (this.seen.has(name)) throw hostile(this.what, `duplicate entry ${shown(name || '.')}`);
    this.seen.add(name);
    if (!Number.isSafeInteger(h.uid) || h.uid < 0 || h.uid > 0xfffffffe || !Number.isSafeInteger(h.gid) || h.gid < 0 || h.gid > 0xfffffffe) {
      throw hostile(this.what, `entry ${shown(name || '.')} has an invalid owner`);
    }
    try {
      this.apply(name, h);
    } catch (err) {
      throw this.wrap(err, name);
    }
  }

  data(chunk: Uint8Array): void {
    const cur = this.cur;
    if (!cur) return;
    try {
      let off = 0;
      while (off < chunk.length) off += fs.writeSync(cur.fd, chunk, off, chunk.length - off);
    } catch (err) {
      throw this.wrap(err, cur.name);
    }
  }

  entryEnd(): void {
    const cur = this.cur;
    if (!cur) return;
    this.cur = undefined;
    const { fd, h, name } = cur;
    try {
      // Order matters: chown clears setuid bits and security.capability, and so does a write, so the
      // mode comes after the owner and the xattrs after both.
      if (asRoot) fs.fchownSync(fd, h.uid, h.gid);
      fs.fchmodSync(fd, extractedMode(h.mode, asRoot));
      this.setXattrs(this.abs(name), name, h.xattrs);
      fs.futimesSync(fd, h.mtime, h.mtime);
    } catch (err) {
      throw this.wrap(err, name);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** After the last entry: directory metadata, deepest first, so writing children no longer disturbs it. */
  finish(): void {
    const list = [...this.dirs.entries()].sort((a, b) => b[0].length - a[0].length);
    for (const [name, d] of list) {
      const p = this.abs(name);
      try {
        if (asRoot) fs.lchownSync(p, d.uid, d.gid);
        fs.chmodSync(p, extractedMode(d.mode, asRoot));
        if (d.xattrs) this.setXattrs(p, name, d.xattrs);
        if (d.mtime !== undefined) fs.lutimesSync(p, d.mtime, d.mtime);
      } catch (err) {
        throw this.wrap(err, name);
      }
    }
  }

  /** Closes a file left open by a failure; the caller removes the tree. */
  abort(): void {
    if (this.cur) {
      try {
        fs.closeSync(this.cur.fd);
      } catch {
        // already closed by the failing call
      }
      this.cur = undefined;
    }
  }

  private abs(name: string): string {
    return name === '' ? this.root : path.join(this.root, name);
  }

  private wrap(err: unknown, name: string): RktError {
    if (err instanceof RktError) return err;
    const code = errnoCode(err);
    return new RktError('STORE', `cannot unpack ${this.what}: writing ${shown(name || '.')}: ${code ?? describeCause(err)}`, {
      cause: err,
      hint: code === 'ENOSPC' ? 'the disk is full' : code === 'EPERM' ? 'unpacking image layers needs root (CAP_MKNOD, CAP_CHOWN)' : undefined,
    });
  }

  private apply(name: string, h: TarHeader): void {
    if (name === '') {
      if (h.type !== 'directory') throw hostile(this.what, `the root entry "." is a ${h.type}, not a directory`);
      this.dirs.set('', { mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, xattrs: this.checkXattrs(h.xattrs, name) });
      return;
    }
    const role = classifyName(name, this.what);
    if (role.role === 'aufs-meta') {
      this.debug?.(`${this.what}: skipping aufs metadata ${shown(name)}`);
      return;
    }
    this.ensureParents(name);
    switch (role.role) {
      case 'opaque':
        lsetxattr(this.abs(role.dir), OPAQUE_XATTR, OPAQUE_VALUE);
        return;
      case 'whiteout': {
        // The spec's whiteouts hide only lower layers: when this layer has the path itself, it stays.
        if (this.kinds.has(role.target)) return;
        mknod(this.abs(role.target), S_IFCHR | 0o000, 0, 0);
        this.kinds.set(role.target, 'whiteout');
        return;
      }
      case 'plain':
        break;
    }

    const xattrs = this.checkXattrs(h.xattrs, name);
    const existing = this.kinds.get(name);
    const p = this.abs(name);
    if (h.type === 'directory') {
      if (existing === 'whiteout') this.replaceWhiteoutWithDir(p);
      else if (existing === undefined) fs.mkdirSync(p, 0o700);
      this.kinds.set(name, 'dir');
      this.dirs.set(name, { mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, xattrs });
      return;
    }
    if (existing === 'implicit-dir' || existing === 'dir') {
      throw hostile(this.what, `entry ${shown(name)} is a ${h.type} but earlier entries put files inside it`);
    }
    if (existing === 'whiteout') fs.unlinkSync(p);

    switch (h.type) {
      case 'file': {
        if (unsafeSetid(h.mode)) {
          throw hostile(this.what, `entry ${shown(name)} is setuid/setgid and writable by group or others (mode ${h.mode.toString(8)})`);
        }
        const fd = fs.openSync(p, CREATE_FLAGS, 0o600);
        this.cur = { fd, name, h: xattrs === h.xattrs ? h : { ...h, xattrs: xattrs ?? new Map() } };
        this.kinds.set(name, 'file');
        return;
      }
      case 'link': {
        const target = normalizeLayerName(h.linkname, this.limits.maxPathBytes, this.what);
        if (this.kinds.get(target) !== 'file') {
          throw hostile(this.what, `hardlink ${shown(name)} points to ${shown(target || '.')}, which is not an earlier regular file of this layer`);
        }
        fs.linkSync(this.abs(target), p);
        this.kinds.set(name, 'file');
        return;
      }
      case 'symlink': {
        if (h.linkname === '' || h.linkname.includes('\0')) throw hostile(this.what, `symlink ${shown(name)} has an empty or invalid target`);
        fs.symlinkSync(h.linkname, p);
        if (asRoot) fs.lchownSync(p, h.uid, h.gid);
        fs.lutimesSync(p, h.mtime, h.mtime);
        this.kinds.set(name, 'symlink');
        return;
      }
      case 'fifo': {
        mknod(p, S_IFIFO | 0o600, 0, 0);
        if (asRoot) fs.lchownSync(p, h.uid, h.gid);
        fs.chmodSync(p, extractedMode(h.mode, asRoot) & 0o1777);
        if (xattrs) this.setXattrs(p, name, xattrs);
        fs.lutimesSync(p, h.mtime, h.mtime);
        this.kinds.set(name, 'fifo');
        return;
      }
      case 'char':
      case 'block':
        throw hostile(this.what, `entry ${shown(name)} is a ${h.type === 'char' ? 'character' : 'block'} device`,
          'device nodes are not allowed in images; the stage1 provides /dev');
    }
  }

  /** Missing ancestors become 0755 root:root directories; an ancestor that is anything else is refused. */
  private ensureParents(name: string): void {
    let i = name.indexOf('/');
    while (i !== -1) {
      const anc = name.slice(0, i);
      const k = this.kinds.get(anc);
      if (k === undefined || k === 'whiteout') {
        const p = this.abs(anc);
        if (k === 'whiteout') this.replaceWhiteoutWithDir(p);
        else fs.mkdirSync(p, 0o700);
        this.kinds.set(anc, 'implicit-dir');
        this.dirs.set(anc, { mode: 0o755, uid: 0, gid: 0, mtime: undefined, xattrs: undefined });
      } else if (k === 'symlink') {
        throw hostile(this.what, `entry ${shown(name)} would be written through symlink ${shown(anc)}`);
      } else if (k !== 'dir' && k !== 'implicit-dir') {
        throw hostile(this.what, `entry ${shown(name)} is inside ${shown(anc)}, which is not a directory`);
      }
      i = name.indexOf('/', i + 1);
    }
  }

  /**
   * `.wh.D` and entries under `D/` in one layer: D is hidden in the lower layers and this layer's D
   * replaces it, which in overlayfs terms is an opaque directory.
   */
  private replaceWhiteoutWithDir(p: string): void {
    fs.unlinkSync(p);
    fs.mkdirSync(p, 0o700);
    lsetxattr(p, OPAQUE_XATTR, OPAQUE_VALUE);
  }

  /** The xattrs to apply (undefined when none); throws for forbidden ones. */
  private checkXattrs(x: ReadonlyMap<string, Buffer>, name: string): ReadonlyMap<string, Buffer> | undefined {
    if (x.size === 0) return undefined;
    let out: Map<string, Buffer> | undefined;
    let all = true;
    for (const [k, v] of x) {
      const d = xattrDecision(k);
      if (d === 'refuse') throw hostile(this.what, `entry ${shown(name || '.')} carries xattr ${shown(k)}, which could forge overlay metadata`);
      if (d === 'drop') {
        all = false;
        this.debug?.(`${this.what}: dropping xattr ${k} of ${shown(name || '.')}`);
        continue;
      }
      (out ??= new Map()).set(k, v);
    }
    return all ? x : out;
  }

  private setXattrs(p: string, name: string, x: ReadonlyMap<string, Buffer>): void {
    for (const [k, v] of x) {
      try {
        lsetxattr(p, k, v);
      } catch (err) {
        // A filesystem without user xattrs should not make an image unusable; capabilities must stick.
        if (k.startsWith('user.') && (errnoCode(err) === 'ENOTSUP' || errnoCode(err) === 'EPERM')) {
          this.debug?.(`${this.what}: cannot set xattr ${k} on ${shown(name)}: ${errnoCode(err) ?? ''}`);
          continue;
        }
        throw new RktError('IMAGE_INVALID', `cannot unpack ${this.what}: xattr ${shown(k)} of ${shown(name || '.')} was refused (${errnoCode(err) ?? describeCause(err)})`, {
          cause: err,
          hint: 'the value is malformed (a security.capability must be a valid vfs_cap_data) or the store filesystem lacks xattrs',
        });
      }
    }
  }
}
