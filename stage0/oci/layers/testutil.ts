// Test helpers: layer tars built in memory (a small ustar/PAX writer, so tests can put exact bytes,
// binary xattrs and hostile names in them), their gzip/zstd forms, descriptors and diff_ids.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { parseDigest, type Digest } from '../digest.js';
import { MEDIA, type LayerCompression, type LayerDescriptor } from '../documents.js';

export interface TestEntry {
  readonly name: string;
  readonly type?: 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';
  readonly body?: string | Buffer;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mtime?: number;
  readonly linkname?: string;
  readonly xattrs?: Readonly<Record<string, Buffer | string>>;
  /** Extra raw PAX records. */
  readonly pax?: Readonly<Record<string, string>>;
}

const TYPEFLAG = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;

function octal(buf: Buffer, off: number, len: number, v: number): void {
  buf.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function header(name: string, flag: string, size: number, e: Partial<TestEntry>): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, e.mode ?? (flag === '5' ? 0o755 : 0o644));
  octal(b, 108, 8, e.uid ?? 0);
  octal(b, 116, 8, e.gid ?? 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, e.mtime ?? 1_600_000_000);
  b.write(flag, 156, 1, 'latin1');
  b.write(e.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** A tar of the entries, with PAX headers where names are long or xattrs/pax records are given. */
export function makeTar(entries: readonly TestEntry[], opts: { endMarker?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const flag = TYPEFLAG[type];
    const body = type === 'file' ? Buffer.from(e.body ?? '') : Buffer.alloc(0);
    const records: Buffer[] = [];
    let name = e.name;
    if (Buffer.byteLength(name) > 99) {
      records.push(paxRecord('path', Buffer.from(name)));
      name = name.slice(0, 90);
    }
    for (const [k, v] of Object.entries(e.xattrs ?? {})) records.push(paxRecord(`SCHILY.xattr.${k}`, Buffer.from(v)));
    for (const [k, v] of Object.entries(e.pax ?? {})) records.push(paxRecord(k, Buffer.from(v)));
    if (records.length > 0) {
      const pb = Buffer.concat(records);
      parts.push(header('PaxHeaders/x', 'x', pb.length, {}), pb, pad(pb.length));
    }
    parts.push(header(name, flag, body.length, e), body, pad(body.length));
  }
  if (opts.endMarker !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function sha256(b: Buffer): Digest {
  return parseDigest(`sha256:${createHash('sha256').update(b).digest('hex')}`, 'test');
}

export function compress(tar: Buffer, kind: LayerCompression): Buffer {
  if (kind === 'none') return tar;
  if (kind === 'gzip') return zlib.gzipSync(tar);
  return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
}

export interface TestLayer {
  readonly tar: Buffer;
  readonly blob: Buffer;
  readonly descriptor: LayerDescriptor;
  readonly diffId: Digest;
}

export function makeLayer(entries: readonly TestEntry[], kind: LayerCompression = 'gzip', opts: { endMarker?: boolean } = {}): TestLayer {
  const tar = makeTar(entries, opts);
  return layerFromTar(tar, kind);
}

export function layerFromTar(tar: Buffer, kind: LayerCompression = 'gzip', blob = compress(tar, kind)): TestLayer {
  const mediaType = kind === 'none' ? MEDIA.ociLayer : kind === 'gzip' ? MEDIA.ociLayerGzip : MEDIA.ociLayerZstd;
  return {
    tar,
    blob,
    descriptor: { mediaType, digest: sha256(blob), size: blob.length, annotations: {}, compression: kind },
    diffId: sha256(tar),
  };
}

/** A stream that serves `b` in small pieces, so parsers see entries split across chunks. */
export function chunked(b: Buffer, size = 777): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (off >= b.length) {
        this.push(null);
        return;
      }
      this.push(b.subarray(off, off + size));
      off += size;
    },
  });
}

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(process.env['RKT_TEST_TMP'] ?? os.tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      try {
        execFileSync('sh', ['-c', `grep -F " ${dir}/" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l`]);
      } catch {
        // nothing mounted
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
