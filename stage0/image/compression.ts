// Opens an ACI file as its uncompressed tar stream: sniffs gzip/bzip2/xz/plain tar by magic bytes.
// gzip is decoded in-process; bzip2 and xz go through the system's `bzip2 -dc` / `xz -dc`.
import fs from 'node:fs';
import { open } from 'node:fs/promises';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { RktError, errnoCode, describeCause } from '../../common/errors.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz';

export function detectCompression(head: Buffer): Compression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'none';
  return undefined;
}

export interface TarSource {
  readonly compression: Compression;
  /** The uncompressed tar bytes. */
  readonly stream: Readable;
  /** Resolves when the decompressor finished cleanly; rejects with its error. Await after reading. */
  done(): Promise<void>;
  /** Stops reading early (on error); safe to call more than once. */
  abort(): void;
}

export async function openTarSource(file: string): Promise<TarSource> {
  let head: Buffer;
  try {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(512);
      const { bytesRead } = await fh.read(buf, 0, 512, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof RktError) throw err;
    throw new RktError('IMAGE_NOT_FOUND', `cannot read image file ${file}: ${errnoCode(err) ?? describeCause(err)}`, { cause: err });
  }
  const compression = detectCompression(head);
  if (compression === undefined) {
    throw new RktError('IMAGE_INVALID', `invalid image ${file}: unknown file type (not a tar, gzip, bzip2 or xz archive)`, {
      hint: 'an ACI is a tar archive, optionally compressed with gzip, bzip2 or xz',
    });
  }
  if (compression === 'none' || compression === 'gzip') {
    const raw = fs.createReadStream(file);
    if (compression === 'none') {
      return { compression, stream: raw, done: async () => {}, abort: () => raw.destroy() };
    }
    const gunzip = zlib.createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    raw.pipe(gunzip);
    return {
      compression,
      stream: gunzip,
      done: async () => {},
      abort: () => {
        raw.destroy();
        gunzip.destroy();
      },
    };
  }
  return spawnDecompressor(file, compression);
}

async function spawnDecompressor(file: string, compression: 'bzip2' | 'xz'): Promise<TarSource> {
  const fh = await open(file, 'r');
  const child = spawn(compression, ['-dc'], { stdio: [fh.fd, 'pipe', 'pipe'] });
  const stdout = child.stdout as Readable;
  const childErr = child.stderr as Readable;
  let stderr = '';
  childErr.setEncoding('utf8');
  childErr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  let aborted = false;
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => {
      reject(
        new RktError('SUBPROCESS', `cannot decompress ${file}: running ${compression}: ${errnoCode(err) ?? describeCause(err)}`, {
          hint: `install the ${compression} package`,
          cause: err,
        }),
      );
    });
    child.on('close', (code, signal) => {
      void fh.close().catch(() => {});
      if (code === 0 || aborted) resolve();
      else {
        const why = signal ? `killed by ${signal}` : `exit status ${code}`;
        reject(new RktError('IMAGE_INVALID', `invalid image ${file}: ${compression} -dc failed (${why}): ${stderr.trim().split('\n')[0] ?? ''}`));
      }
    });
  });
  // Keep an early spawn failure from becoming an unhandled rejection before done() is awaited.
  exited.catch(() => {});
  return {
    compression,
    stream: stdout,
    done: () => exited,
    abort: () => {
      aborted = true;
      stdout.destroy();
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
