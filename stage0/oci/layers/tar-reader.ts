// A synchronous, push-driven tar parser for OCI layers (ustar, GNU and PAX), written here rather than
// using tar-stream for two reasons: tar-stream decodes PAX values as UTF-8, which mangles binary xattrs
// such as security.capability, and it ignores PAX uid/gid/mtime. Being synchronous also lets the
// caller write each body chunk to disk as it arrives, with no per-entry stream objects.
//
// Following Go's archive/tar (which writes nearly every image layer): header-only types (links,
// directories, devices, FIFOs) carry no body whatever their size field says, a stream may end at a
// header boundary without the two zero blocks (the diff_id check covers truncation there), and a
// zero block followed by a non-zero one is an error.
import { RktError } from '../../../common/errors.js';

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarHeader {
  /** Raw entry name (PAX path or GNU long name applied), not yet normalized. */
  readonly name: string;
  /** Target of a link or symlink (PAX linkpath or GNU long link applied). */
  readonly linkname: string;
  readonly type: TarType;
  /** Body length; 0 for header-only types. */
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch; fractional when a PAX mtime says so. */
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  /** SCHILY.xattr.* records, values as raw bytes. */
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

export interface TarSink {
  entry(h: TarHeader): void;
  /** A slice of the current entry's body; only valid during the call. */
  data(chunk: Uint8Array): void;
  entryEnd(): void;
}

/** Largest PAX or GNU long-name body accepted. */
export const MAX_META_BYTES = 1024 * 1024;

const BLOCK = 512;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Pax {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  xattrs: Map<string, Buffer>;
}

type State = 'header' | 'meta' | 'body' | 'pad' | 'zero' | 'end';

export class TarReader {
  private state: State = 'header';
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  /** Bytes left in the current body (meta or file). */
  private remaining = 0;
  private padLeft = 0;
  /** Size of the body being read, for its padding. */
  private bodySize = 0;
  private meta: Buffer[] = [];
  private metaKind: 'pax' | 'global' | 'longname' | 'longlink' = 'pax';
  private pax: Pax | undefined;
  private global: { uid?: number; gid?: number; mtime?: number; xattrs: ReadonlyMap<string, Buffer> } = { xattrs: new Map() };
  private longName: string | undefined;
  private longLink: string | undefined;
  private entryOpen = false;
  /** Uncompressed bytes consumed, for error offsets. */
  offset = 0;

  constructor(
    private readonly sink: TarSink,
    private readonly what: string,
  ) {}

  push(chunk: Uint8Array): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      switch (this.state) {
        case 'body': {
          const n = Math.min(this.remaining, len - pos);
          this.sink.data(chunk.subarray(pos, pos + n));
          pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishBody();
          break;
        }
        case 'pad': {
          const n = Math.min(this.padLeft, len - pos);
          pos += n;
          this.offset += n;
          this.padLeft -= n;
          if (this.padLeft === 0) this.state = 'header';
          break;
        }
        case 'meta': {
          const n = Math.min(this.remaining, len - pos);
          this.meta.push(Buffer.from(chunk.subarray(pos, pos + n)));
          pos += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finishMeta();
          break;
        }
        case 'end':
          // Trailing padding after the end-of-archive marker (writers round up to a 10 KiB record).
          this.offset += len - pos;
          pos = len;
          break;
        case 'header':
        case 'zero': {
          const n = Math.min(BLOCK - this.blockFill, len - pos);
          this.block.set(chunk.subarray(pos, pos + n), this.blockFill);
          this.blockFill += n;
          pos += n;
          this.offset += n;
          if (this.blockFill === BLOCK) {
            this.blockFill = 0;
            this.onBlock();
          }
          break;
        }
      }
    }
  }

  /** Called at the end of the stream: throws when it stopped inside an entry or a header. */
  end(): void {
    if (this.state === 'end' || this.state === 'zero') return;
    const pendingMeta = this.pax !== undefined || this.longName !== undefined || this.longLink !== undefined;
    if (this.state === 'header' && this.blockFill === 0 && !this.entryOpen && !pendingMeta) return;
    throw this.invalid(`the tar stream is truncated (it ends inside an entry, at byte ${this.offset})`,
      'the layer is incomplete or corrupt; fetch it again');
  }

  private invalid(why: string, hint = 'the layer is not a valid tar archive'): RktError {
    return new RktError('IMAGE_INVALID', `invalid ${this.what}: ${why}`, { hint });
  }

  private finishBody(): void {
    this.entryOpen = false;
    this.sink.entryEnd();
    this.startPad();
  }

  private startPad(): void {
    const used = this.bodySize % BLOCK;
    this.padLeft = used === 0 ? 0 : BLOCK - used;
    this.state = this.padLeft === 0 ? 'header' : 'pad';
  }

  private onBlock(): void {
    const b = this.block;
    if (isZero(b)) {
      if (this.state === 'zero') this.state = 'end';
      else if (this.pax || this.longName !== undefined || this.longLink !== undefined) {
        throw this.invalid(`an extended header at byte ${this.offset - BLOCK} is followed by the end of the archive`);
      } else this.state = 'zero';
      return;
    }
    if (this.state === 'zero') throw this.invalid(`a lone zero block before byte ${this.offset - BLOCK} (corrupt archive)`);
    this.parseHeader(b);
  }

  private parseHeader(b: Buffer): void {
    const at = this.offset - BLOCK;
    let stored: number;
    try {
      stored = this.num(b, 148, 8, 'checksum', at);
    } catch {
      stored = -1;
    }
    let unsigned = 0;
    let signed = 0;
    for (let i = 0; i < BLOCK; i++) {
      const v = i >= 148 && i < 156 ? 0x20 : (b[i] as number);
      unsigned += v;
      signed += v > 127 ? v - 256 : v;
    }
    if (stored !== unsigned && stored !== signed) {
      throw this.invalid(`bad tar header checksum at byte ${at} (the data is not a tar archive, or it is corrupt)`, 'the layer is corrupt or not a tar archive');
    }
    const magic = b.toString('latin1', 257, 263);
    const ustar = magic === 'ustar\0';
    const flag = String.fromCharCode(b[156] as number);
    let size = this.num(b, 124, 12, 'size', at);

    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_BYTES) throw this.invalid(`an extended header at byte ${at} is ${size} bytes, more than ${MAX_META_BYTES}`);
      this.metaKind = flag === 'x' ? 'pax' : flag === 'g' ? 'global' : flag === 'L' ? 'longname' : 'longlink';
      this.meta = [];
      this.bodySize = size;
      this.remaining = size;
      if (size === 0) this.finishMeta();
      else this.state = 'meta';
      return;
    }

    let name = this.longName ?? this.str(b, 0, 100, at);
    if (this.longName === undefined && ustar) {
      const prefix = this.str(b, 345, 155, at);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    let linkname = this.longLink ?? this.str(b, 157, 100, at);
    const pax = this.pax;
    if (pax?.path !== undefined) name = pax.path;
    if (pax?.linkpath !== undefined) linkname = pax.linkpath;
    if (pax?.size !== undefined) size = pax.size;
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;

    let type: TarType;
    switch (flag) {
      case '0':
      case '\0':
      case '7':
        // Pre-POSIX archives mark directories only by a trailing slash.
        type = name.endsWith('/') ? 'directory' : 'file';
        break;
      case '1': type = 'link'; break;
      case '2': type = 'symlink'; break;
      case '3': type = 'char'; break;
      case '4': type = 'block'; break;
      case '5': type = 'directory'; break;
      case '6': type = 'fifo'; break;
      case 'S':
        throw this.invalid(`entry ${JSON.stringify(name.slice(0, 200))} is a GNU sparse file, which rkt does not read`,
          'rebuild the image without sparse files (tar --sparse was used)');
      default:
        throw this.invalid(`entry ${JSON.stringify(name.slice(0, 200))} has unsupported tar type ${JSON.stringify(flag)}`);
    }
    if (type !== 'file') size = 0;

    const mtime = pax?.mtime ?? this.global.mtime ?? this.num(b, 136, 12, 'mtime', at, true);
    const header: TarHeader = {
      name,
      linkname,
      type,
      size,
      mode: this.num(b, 100, 8, 'mode', at) & 0o7777,
      uid: pax?.uid ?? this.global.uid ?? this.num(b, 108, 8, 'uid', at),
      gid: pax?.gid ?? this.global.gid ?? this.num(b, 116, 8, 'gid', at),
      mtime,
      devmajor: type === 'char' || type === 'block' ? this.num(b, 329, 8, 'devmajor', at) : 0,
      devminor: type === 'char' || type === 'block' ? this.num(b, 337, 8, 'devminor', at) : 0,
      xattrs: mergeXattrs(this.global.xattrs, pax?.xattrs),
    };
    this.entryOpen = true;
    this.sink.entry(header);
    this.bodySize = size;
    this.remaining = size;
    if (size === 0) this.finishBody();
    else this.state = 'body';
  }

  private finishMeta(): void {
    const body = Buffer.concat(this.meta);
    this.meta = [];
    const at = this.offset - body.length;
    switch (this.metaKind) {
      case 'longname':
      case 'longlink': {
        const v = this.decodeName(trimNul(body), at);
        if (this.metaKind === 'longname') this.longName = v;
        else this.longLink = v;
        break;
      }
      case 'pax':
        this.pax = this.parsePax(body, at, this.pax);
        break;
      case 'global': {
        const g = this.parsePax(body, at, undefined);
        // A global path/linkpath/size would apply to every later entry, which no real writer does.
        this.global = {
          xattrs: mergeXattrs(this.global.xattrs, g.xattrs),
          ...(g.uid !== undefined ? { uid: g.uid } : this.global.uid !== undefined ? { uid: this.global.uid } : {}),
          ...(g.gid !== undefined ? { gid: g.gid } : this.global.gid !== undefined ? { gid: this.global.gid } : {}),
          ...(g.mtime !== undefined ? { mtime: g.mtime } : this.global.mtime !== undefined ? { mtime: this.global.mtime } : {}),
        };
        break;
      }
    }
    this.startPad();
  }

  private parsePax(buf: Buffer, at: number, into: Pax | undefined): Pax {
    const out: Pax = into ?? { xattrs: new Map() };
    let p = 0;
    while (p < buf.length) {
      // Records are "<len> <key>=<value>\n", len counting the whole record.
      let sp = p;
      while (sp < buf.length && buf[sp] !== 0x20) sp++;
      const lenText = buf.toString('latin1', p, sp);
      const len = /^[0-9]{1,8}$/.test(lenText) ? Number(lenText) : NaN;
      if (!Number.isSafeInteger(len) || len <= sp - p + 1 || p + len > buf.length || buf[p + len - 1] !== 0x0a) {
        // Some writers pad the PAX body with NULs; anything else is corrupt.
        if (buf.subarray(p).every((c) => c === 0)) break;
        throw this.invalid(`malformed PAX record at byte ${at + p}`);
      }
      const rec = buf.subarray(sp + 1, p + len - 1);
      const eq = rec.indexOf(0x3d);
      if (eq <= 0) throw this.invalid(`malformed PAX record at byte ${at + p}`);
      const key = this.decodeName(rec.subarray(0, eq), at + p);
      const value = rec.subarray(eq + 1);
      p += len;
      if (key.startsWith('SCHILY.xattr.')) {
        out.xattrs.set(key.slice('SCHILY.xattr.'.length), Buffer.from(value));
        continue;
      }
      if (key.startsWith('GNU.sparse.')) {
        throw this.invalid('the layer holds GNU sparse files, which rkt does not read', 'rebuild the image without sparse files');
      }
      switch (key) {
        case 'path': out.path = this.decodeName(value, at + p); break;
        case 'linkpath': out.linkpath = this.decodeName(value, at + p); break;
        case 'size': out.size = this.paxInt(value, key, at + p); break;
        case 'uid': out.uid = this.paxInt(value, key, at + p); break;
        case 'gid': out.gid = this.paxInt(value, key, at + p); break;
        case 'mtime': {
          const t = value.toString('latin1');
          if (!/^-?[0-9]{1,19}(\.[0-9]*)?$/.test(t)) throw this.invalid(`bad PAX mtime ${JSON.stringify(t.slice(0, 40))} at byte ${at + p}`);
          out.mtime = Number(t);
          break;
        }
        default:
          // atime, ctime, uname, gname, comment, charset, LIBARCHIVE.*: nothing rkt applies.
          break;
      }
    }
    return out;
  }

  private paxInt(value: Buffer, key: string, at: number): number {
    const t = value.toString('latin1');
    const n = /^[0-9]{1,16}$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n)) throw this.invalid(`bad PAX ${key} ${JSON.stringify(t.slice(0, 40))} at byte ${at}`);
    return n;
  }

  private decodeName(bytes: Uint8Array, at: number): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.invalid(`a name at byte ${at} is not valid UTF-8`, 'rkt reads only UTF-8 file names in images');
    }
  }

  private str(b: Buffer, off: number, len: number, at: number): string {
    let end = off;
    const max = off + len;
    while (end < max && b[end] !== 0) end++;
    return this.decodeName(b.subarray(off, end), at);
  }

  /** Octal (NUL/space padded) or GNU base-256 numeric field. */
  private num(b: Buffer, off: number, len: number, field: string, at: number, allowNegative = false): number {
    const first = b[off] as number;
    if (first & 0x80) {
      const negative = first === 0xff;
      if (negative && !allowNegative) throw this.invalid(`negative ${field} in the tar header at byte ${at}`);
      let v = negative ? -1 : first & 0x7f;
      for (let i = 1; i < len; i++) {
        v = v * 256 + (b[off + i] as number);
        if (!Number.isSafeInteger(v)) throw this.invalid(`${field} out of range in the tar header at byte ${at}`);
      }
      return v;
    }
    let s = off;
    const end = off + len;
    while (s < end && (b[s] === 0x20 || b[s] === 0)) s++;
    let v = 0;
    let i = s;
    for (; i < end; i++) {
      const c = b[i] as number;
      if (c === 0 || c === 0x20) break;
      if (c < 0x30 || c > 0x37) throw this.invalid(`bad ${field} field in the tar header at byte ${at}`, 'the layer is corrupt or not a tar archive');
      v = v * 8 + (c - 0x30);
    }
    for (; i < end; i++) {
      const c = b[i];
      if (c !== 0 && c !== 0x20) throw this.invalid(`bad ${field} field in the tar header at byte ${at}`, 'the layer is corrupt or not a tar archive');
    }
    return v;
  }
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i += 8) {
    if (b.readBigUInt64LE(i) !== 0n) return false;
  }
  return true;
}

function trimNul(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}

function mergeXattrs(global: ReadonlyMap<string, Buffer>, local: ReadonlyMap<string, Buffer> | undefined): ReadonlyMap<string, Buffer> {
  if (!local || local.size === 0) return global;
  if (global.size === 0) return local;
  return new Map([...global, ...local]);
}
