// Reads an uncompressed tar by member offsets instead of extracting it: one pass over the headers only
// (data blocks are skipped with positioned reads) records where each regular file's bytes lie, and members
// are then streamed straight out of the archive. Big layer blobs are never copied, and nothing an archive
// holds (symlinks, devices, "../" names) ever reaches the filesystem.
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RktError, describeCause, errnoCode } from '../../../common/errors.js';
import { openTarSource } from '../../image/compression.js';
import { normalizeEntryName } from '../../image/entry-rules.js';

export type MemberKind = 'file' | 'directory' | 'symlink' | 'link';

export interface TarMember {
  /** Normalized: no leading "./", no trailing "/". */
  readonly name: string;
  readonly kind: MemberKind;
  /** Offset of the data in the tar file. */
  readonly offset: number;
  readonly size: number;
  /** Raw symlink target, or the normalized member name a hard link points at. */
  readonly linkname: string;
}

/** More members than any image archive needs; bounds the index's memory for a hostile archive. */
const MAX_MEMBERS = 200_000;
/** PAX and GNU long-name records are read into memory; real ones are a few hundred bytes. */
const MAX_META_BYTES = 1024 * 1024;
const MAX_NAME_BYTES = 4096;
const MAX_LINK_HOPS = 16;

function invalid(file: string, why: string): RktError {
  return new RktError('IMAGE_INVALID', `invalid archive ${file}: ${why}`, {
    hint: 'the archive is truncated or not a tar; write it again (skopeo copy, docker save)',
  });
}

function hostile(file: string, why: string): RktError {
  return new RktError('IMAGE_HOSTILE', `refusing archive ${file}: ${why}`, {
    hint: 'the archive is malformed or tries to reach outside itself; do not use it',
  });
}

function cstring(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return (nul >= 0 ? field.subarray(0, nul) : field).toString('utf8');
}

/** Octal (NUL/space padded) or GNU base-256 numeric field. */
function numeric(buf: Buffer, start: number, len: number, file: string, what: string): number {
  const field = buf.subarray(start, start + len);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    if ((field[0] ?? 0) & 0x40) throw invalid(file, `negative ${what} in a header`);
    let v = BigInt((field[0] ?? 0) & 0x3f);
    for (let i = 1; i < field.length; i++) v = (v << 8n) | BigInt(field[i] ?? 0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(file, `${what} too large in a header`);
    return Number(v);
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(file, `malformed ${what} ${JSON.stringify(text)} in a header`);
  return parseInt(text, 8);
}

function checksumOk(h: Buffer, file: string): boolean {
  const stored = numeric(h, 148, 8, file, 'checksum');
  let unsigned = 0;
  for (let i = 0; i < 512; i++) unsigned += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
  return stored === unsigned;
}

/** PAX extended header records: "LEN key=value\n". */
function parsePax(data: Buffer, file: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) throw invalid(file, 'malformed PAX header');
    const len = Number(data.subarray(i, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= sp - i || i + len > data.length) throw invalid(file, 'malformed PAX header record');
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq < 0) throw invalid(file, 'malformed PAX header record');
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

export class TarIndex {
  private constructor(
    /** The archive as the user named it, for messages. */
    readonly file: string,
    private readonly fh: FileHandle,
    private readonly members: ReadonlyMap<string, TarMember>,
  ) {}

  /**
   * Indexes FILE. A gzip, bzip2 or xz compressed archive (`docker save | gzip`) is first decompressed into
   * `tmpDir`, since offsets only make sense in an uncompressed tar.
   */
  static async open(file: string, opts: { tmpDir: string; debug?: (m: string) => void }): Promise<TarIndex> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      const code = errnoCode(err);
      throw new RktError(code === 'ENOENT' ? 'IMAGE_NOT_FOUND' : 'FETCH', `cannot open archive ${file}: ${code ?? describeCause(err)}`, {
        hint: code === 'ENOENT' ? 'check the path after the transport prefix' : 'check the file and its permissions',
        cause: err,
      });
    }
    try {
      if (!(await fh.stat()).isFile()) throw invalid(file, 'not a regular file');
      const head = Buffer.alloc(6);
      await fh.read(head, 0, 6, 0);
      const compressed = head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : head.subarray(0, 3).toString('latin1') === 'BZh' ? 'bzip2' : head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) ? 'xz' : undefined;
      if (compressed) {
        await fh.close();
        const plain = path.join(opts.tmpDir, 'archive.tar');
        opts.debug?.(`decompressing ${compressed} archive ${file} into ${plain}`);
        const src = await openTarSource(file);
        try {
          await pipeline(src.stream, createWriteStream(plain, { flags: 'wx', mode: 0o600 }));
          await src.done();
        } catch (err) {
          src.abort();
          if (err instanceof RktError) throw err;
          throw invalid(file, `cannot decompress (${describeCause(err)})`);
        }
        fh = await open(plain, 'r');
      }
      const members = await TarIndex.scan(fh, file);
      opts.debug?.(`indexed ${members.size} members of ${file}`);
      return new TarIndex(file, fh, members);
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  private static async scan(fh: FileHandle, file: string): Promise<Map<string, TarMember>> {
    const total = (await fh.stat()).size;
    const members = new Map<string, TarMember>();
    const h = Buffer.alloc(512);
    let pos = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax = new Map<string, string>();
    const readData = async (size: number, what: string): Promise<Buffer> => {
      if (size > MAX_META_BYTES) throw invalid(file, `${what} of ${size} bytes`);
      if (pos + size > total) throw invalid(file, 'truncated');
      const b = Buffer.alloc(size);
      await fh.read(b, 0, size, pos);
      return b;
    };
    for (;;) {
      if (pos + 512 > total) {
        // Archives that end without the two zero blocks are common enough (some writers stop early).
        if (pos === total && longName === undefined && longLink === undefined && pax.size === 0) break;
        throw invalid(file, 'truncated');
      }
      const { bytesRead } = await fh.read(h, 0, 512, pos);
      if (bytesRead !== 512) throw invalid(file, 'truncated');
      if (h.every((b) => b === 0)) break;
      if (!checksumOk(h, file)) throw invalid(file, `bad header checksum at offset ${pos}`);
      const type = String.fromCharCode(h[156] ?? 0);
      let size = numeric(h, 124, 12, file, 'size');
      if (pax.has('size')) {
        const s = Number(pax.get('size'));
        if (!Number.isSafeInteger(s) || s < 0) throw invalid(file, 'malformed PAX size');
        size = s;
      }
      pos += 512;
      const dataStart = pos;
      const next = dataStart + Math.ceil(size / 512) * 512;
      switch (type) {
        case 'x':
          pax = parsePax(await readData(size, 'PAX header'), file);
          pos = next;
          continue;
        case 'g':
          pos = next; // Global PAX records carry nothing an image archive needs (mtime, comments).
          continue;
        case 'L':
          longName = cstring(await readData(size, 'GNU long name'), 0, size);
          pos = next;
          continue;
        case 'K':
          longLink = cstring(await readData(size, 'GNU long link'), 0, size);
          pos = next;
          continue;
      }
      const magic = h.subarray(257, 263).toString('latin1');
      const prefix = magic.startsWith('ustar') ? cstring(h, 345, 155) : '';
      const rawName = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100));
      const rawLink = pax.get('linkpath') ?? longLink ?? cstring(h, 157, 100);
      pax = new Map();
      longName = undefined;
      longLink = undefined;
      pos = next;
      if (next > total && type !== '5') throw invalid(file, `member ${JSON.stringify(rawName)} is truncated`);
      // The archive root ("./") is how `tar -C DIR .` starts; it names nothing.
      if (/^(?:\.\/?)+$/.test(rawName)) continue;
      let name: string;
      try {
        name = normalizeEntryName(rawName, MAX_NAME_BYTES);
      } catch (err) {
        throw hostile(file, describeCause(err).replace(/^refusing image: /, ''));
      }
      let kind: MemberKind;
      let linkname = '';
      switch (type) {
        case '0':
        case '\0':
        case '7':
          kind = 'file';
          break;
        case '5':
          kind = 'directory';
          break;
        case '2':
          kind = 'symlink';
          linkname = rawLink;
          size = 0;
          break;
        case '1':
          kind = 'link';
          try {
            linkname = normalizeEntryName(rawLink, MAX_NAME_BYTES);
          } catch {
            throw hostile(file, `hard link ${name} points at ${JSON.stringify(rawLink.slice(0, 120))}`);
          }
          size = 0;
          break;
        default:
          throw hostile(file, `member ${name} has type ${JSON.stringify(type)} (devices, FIFOs and sparse files do not belong in an image archive)`);
      }
      if (kind === 'directory') {
        if (members.get(name)?.kind === 'directory') continue;
      }
      if (members.has(name)) throw hostile(file, `member ${name} appears twice (tools disagree on which copy wins)`);
      if (members.size >= MAX_MEMBERS) throw invalid(file, `more than ${MAX_MEMBERS} members`);
      members.set(name, { name, kind, offset: dataStart, size: kind === 'file' ? size : 0, linkname });
    }
    return members;
  }

  /** True when NAME (normalized, e.g. "index.json") is in the archive, in any form. */
  has(name: string): boolean {
    return this.members.has(name);
  }

  /** The member NAME itself, links not followed. */
  member(name: string): TarMember | undefined {
    return this.members.get(name);
  }

  /** Member names, in no particular order (for messages and tests). */
  names(): string[] {
    return [...this.members.keys()];
  }

  /**
   * The regular file NAME ends up as, following hard links and symlinks inside the archive (docker save
   * links repeated layers); a link that leaves the archive, loops or dangles is refused. Undefined when
   * NAME is not in the archive at all.
   */
  resolve(name: string): TarMember | undefined {
    let cur = this.members.get(name);
    if (!cur) return undefined;
    for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
      if (cur.kind === 'file') return cur;
      if (cur.kind === 'directory') throw invalid(this.file, `${name} is a directory, not a file`);
      let target: string;
      if (cur.kind === 'link') target = cur.linkname;
      else {
        if (cur.linkname.startsWith('/')) throw hostile(this.file, `symlink ${cur.name} points outside the archive (${cur.linkname})`);
        const joined = path.posix.normalize(path.posix.join(path.posix.dirname(cur.name), cur.linkname));
        if (joined === '..' || joined.startsWith('../')) throw hostile(this.file, `symlink ${cur.name} points outside the archive (${cur.linkname})`);
        target = joined.replace(/\/$/, '');
      }
      const next = this.members.get(target);
      if (!next) throw invalid(this.file, `${cur.name} links to ${target}, which is not in the archive`);
      cur = next;
    }
    throw invalid(this.file, `${name}: too many levels of links`);
  }

  /** A member's bytes, when it is at most `max` bytes. */
  async read(m: TarMember, max: number, what: string): Promise<Buffer> {
    if (m.size > max) {
      throw new RktError('IMAGE_INVALID', `invalid ${what}: ${m.name} in ${this.file} is ${m.size} bytes, more than the ${max} allowed`, {
        hint: 'the archive is malformed; nothing was stored',
      });
    }
    const b = Buffer.alloc(m.size);
    const { bytesRead } = await this.fh.read(b, 0, m.size, m.offset);
    if (bytesRead !== m.size) throw invalid(this.file, `${m.name} is truncated`);
    return b;
  }

  stream(m: TarMember): Readable {
    if (m.size === 0) {
      return new Readable({
        read() {
          this.push(null);
        },
      });
    }
    // autoClose off: the handle is shared by every member stream and closed once, by close().
    return this.fh.createReadStream({ start: m.offset, end: m.offset + m.size - 1, autoClose: false });
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => {});
  }
}
