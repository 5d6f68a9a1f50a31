// One OCI layer blob, as served, into an overlayfs-ready tree, in one pass: the compressed bytes are
// checked against the descriptor's digest and size (and optionally kept as the blob), decompressed,
// hashed again against the config's diff_id, parsed, and written. The promise settles only once all
// of that is done: resolved after both digests matched and every file is on disk, rejected (with the
// caller left to delete `rootfs`) on the first problem.
//
// Compression: the descriptor's media type is a claim, the magic bytes are the fact. Docker has pushed
// plain tars labelled tar+gzip, and the diff_id check decides in the end whether the bytes are the
// layer the image means, so the data is decoded as its magic says (gzip 1f8b, zstd 28b52ffd or a
// skippable frame, otherwise plain tar, which the tar header checksums then vet), and a disagreement
// with the descriptor is only reported through `debug`.
//
// zstd: Node 20 has no zstd in zlib, so the decoder is fzstd: pure JavaScript (nothing to compile, so it
// installs on every machine and stage image the tree runs on, unlike native bindings such as
// zstd-napi or @mongodb-js/zstd), streaming, maintained, and in measurements here about as fast as
// node:zlib's gunzip on real layers (~95 MB/s vs ~100 MB/s); the `zstd` binary is ~4x faster but would
// be a subprocess the host must have. fzstd hands out each decoded block synchronously, which this
// writes to disk before taking the next one, so memory stays at one block plus the window whatever the
// ratio. fzstd allocates the window a frame header asks for; the first frame's is checked here (at
// most 128 MiB, the reference decoder's default limit) because fzstd would otherwise honour up to 2 GiB.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Decompress } from 'fzstd';
import { RktError, describeCause, errnoCode } from '../../../common/errors.js';
import { VerifyingStream, type Digest } from '../digest.js';
import type { LayerCompression, LayerDescriptor } from '../documents.js';
import { TarReader } from './tar-reader.js';
import { LayerWriter } from './writer.js';
import { DEFAULT_LAYER_LIMITS, hostile, invalid, uncompressedBound, type LayerLimits } from './rules.js';

export interface UnpackOptions {
  /** The blob as served (compressed). */
  readonly source: Readable;
  readonly descriptor: LayerDescriptor;
  /** The config's rootfs.diff_ids entry for this layer: the digest of the uncompressed tar. */
  readonly diffId: Digest;
  /** An existing empty directory; the tree is created in it. */
  readonly rootfs: string;
  /**
   * Also write the compressed bytes to this path (created, must not exist; mode 0600; not fsynced).
   * Removed again when the unpack fails.
   */
  readonly blobOut?: string;
  readonly limits?: LayerLimits;
  /** Called as compressed bytes arrive, with the running total. */
  readonly onBytes?: (compressedBytesSoFar: number) => void;
  /** Names the layer in messages, e.g. "layer 2/5 sha256:1a2b3c4d". */
  readonly what: string;
  readonly debug?: (line: string) => void;
}

export interface UnpackResult {
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  /** Tar entries read (directories, whiteouts and skipped aufs metadata included). */
  readonly entries: number;
  /** The compression the data actually had (see the note on magic bytes above). */
  readonly compression: LayerCompression;
}

/** Largest zstd window accepted (the reference decoder's default, ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
export const MAX_ZSTD_WINDOW = 128 * 1024 * 1024;

const GUNZIP_CHUNK = 128 * 1024;

export async function unpackLayer(opts: UnpackOptions): Promise<UnpackResult> {
  const { descriptor, what } = opts;
  const limits = opts.limits ?? DEFAULT_LAYER_LIMITS;
  const bound = uncompressedBound(limits, descriptor.size);
  const verify = new VerifyingStream(descriptor.digest, descriptor.size, what);
  const writer = new LayerWriter(opts.rootfs, limits, what, opts.debug);
  const reader = new TarReader(writer, what);
  const hash = createHash(opts.diffId.algorithm);
  let uncompressed = 0;
  let compressed = 0;
  let dead = false;
  // An uncompressed blob is its own tar: its verified digest is then the diff_id, with no second hash.
  let hashTar = true;
  let blobFd: number | undefined;

  // Every decoded byte goes through here, synchronously, so nothing piles up in memory.
  const feedTar = (chunk: Uint8Array): void => {
    if (dead) throw new RktError('INTERNAL', `${what}: data after the unpack was abandoned`);
    uncompressed += chunk.length;
    if (uncompressed > bound) {
      throw hostile(what, `it expands to more than ${bound} bytes from ${descriptor.size} compressed`,
        'the layer exceeds the size limit (a decompression bomb or an oversized image)');
    }
    if (hashTar) hash.update(chunk);
    reader.push(chunk);
  };

  const sourceError = (err: Error): void => {
    verify.destroy(err);
  };
  opts.source.on('error', sourceError);
  opts.source.pipe(verify);

  try {
    const blobOut = opts.blobOut;
    if (blobOut !== undefined) {
      try {
        blobFd = fs.openSync(blobOut, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      } catch (err) {
        throw blobError(what, blobOut, err);
      }
    }
    const fdOut = blobFd;
    const it = (verify as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const take = (chunk: Buffer): Buffer => {
      compressed += chunk.length;
      if (fdOut !== undefined && blobOut !== undefined) {
        try {
          let off = 0;
          while (off < chunk.length) off += fs.writeSync(fdOut, chunk, off, chunk.length - off);
        } catch (err) {
          throw blobError(what, blobOut, err);
        }
      }
      opts.onBytes?.(compressed);
      return chunk;
    };

    // Enough of the head to read the magic; the verified stream is consumed only through `it`.
    const head: Buffer[] = [];
    let headLen = 0;
    let ended = false;
    while (headLen < 4) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(take(r.value));
      headLen += r.value.length;
    }
    const first = Buffer.concat(head);
    const kind = sniff(first);
    if (kind !== descriptor.compression) {
      opts.debug?.(`${what}: the descriptor says ${descriptor.compression} (${descriptor.mediaType}) but the data is ${kind === 'none' ? 'not compressed' : kind}; reading it as ${kind}`);
    }
    hashTar = !(kind === 'none' && descriptor.digest.algorithm === opts.diffId.algorithm);
    async function* rest(): AsyncGenerator<Buffer> {
      if (first.length > 0) yield first;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield take(r.value);
      }
    }

    switch (kind) {
      case 'none':
        for await (const chunk of rest()) feedTar(chunk);
        break;
      case 'gzip': {
        const gz = zlib.createGunzip({ chunkSize: GUNZIP_CHUNK });
        let gzFailed: Error | undefined;
        // A failure while writing the tree aborts the pipeline, and gunzip then reports an AbortError:
        // keep the writer's own error so it is the one the user sees.
        let feedFailed: unknown;
        gz.once('error', (e) => {
          gzFailed = e;
        });
        try {
          await pipeline(Readable.from(rest(), { objectMode: false }), gz, async (out: AsyncIterable<Buffer>) => {
            for await (const chunk of out) {
              try {
                feedTar(chunk);
              } catch (err) {
                feedFailed = err;
                throw err;
              }
            }
          });
        } catch (err) {
          if (feedFailed !== undefined) throw feedFailed;
          if (gzFailed !== undefined && err === gzFailed) throw decodeError(what, 'gzip', err);
          throw err;
        }
        break;
      }
      case 'zstd': {
        checkZstdWindow(first, what);
        const d = new Decompress((chunk) => feedTar(chunk));
        const push = (chunk: Uint8Array, final: boolean): void => {
          try {
            d.push(chunk, final);
          } catch (err) {
            if (err instanceof RktError) throw err;
            throw decodeError(what, 'zstd', err);
          }
        };
        for await (const chunk of rest()) push(chunk, false);
        push(new Uint8Array(0), true);
        break;
      }
    }
    // The verified stream has ended, so the compressed digest and size matched.
    reader.end();
    const got = hashTar ? `${opts.diffId.algorithm}:${hash.digest('hex')}` : descriptor.digest.text;
    if (got !== opts.diffId.text) {
      throw invalid(what, `the uncompressed layer has digest ${got}, but the image config's diff_id is ${opts.diffId.text}`,
        'the image config does not describe this layer (corrupt or tampered image); nothing of it was kept');
    }
    writer.finish();
    if (blobFd !== undefined) {
      fs.closeSync(blobFd);
      blobFd = undefined;
    }
    return { compressedSize: compressed, uncompressedSize: uncompressed, entries: writer.stats.entries, compression: kind };
  } catch (err) {
    dead = true;
    // A partial blob must not be mistaken for a verified one; the tree is the caller's to remove.
    if (blobFd !== undefined && opts.blobOut !== undefined) {
      fs.closeSync(blobFd);
      blobFd = undefined;
      fs.rmSync(opts.blobOut, { force: true });
    }
    throw classify(err, what);
  } finally {
    dead = true;
    writer.abort();
    // sourceError stays attached: a source that errors after this must not crash the process.
    opts.source.unpipe(verify);
    if (!opts.source.destroyed && !opts.source.readableEnded) opts.source.destroy();
    verify.destroy();
    if (blobFd !== undefined) fs.closeSync(blobFd);
  }
}

function sniff(head: Buffer): LayerCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4) {
    const m = head.readUInt32LE(0);
    // A zstd frame, or a skippable frame (0x184D2A50..5F) such as the ones zstd:chunked starts with.
    if (m === 0xfd2fb528 || (m & 0xfffffff0) === 0x184d2a50) return 'zstd';
  }
  return 'none';
}

function checkZstdWindow(head: Buffer, what: string): void {
  if (head.length < 6 || head.readUInt32LE(0) !== 0xfd2fb528) return;
  const fhd = head[4] as number;
  const singleSegment = (fhd >> 5) & 1;
  let window: number;
  if (!singleSegment) {
    const wd = head[5] as number;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  } else {
    // A single-segment frame's window is its content size.
    const dictBytes = [0, 1, 2, 4][fhd & 3] as number;
    const fcsBytes = [1, 2, 4, 8][fhd >> 6] as number;
    const at = 5 + dictBytes;
    if (head.length < at + fcsBytes) return;
    window = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) window = window * 256 + (head[at + i] as number);
    if (fcsBytes === 2) window += 256;
  }
  if (window > MAX_ZSTD_WINDOW) {
    throw invalid(what, `its zstd frame asks for a ${window}-byte window, more than the ${MAX_ZSTD_WINDOW} rkt allows`,
      'recompress the layer without --long or a level above 19 (zstd -d needs --memory for it too)');
  }
}

function decodeError(what: string, kind: 'gzip' | 'zstd', err: unknown): RktError {
  const msg = describeCause(err);
  const truncated = /unexpected end|unexpected EOF/i.test(msg);
  return invalid(what, truncated ? `the ${kind} stream is truncated` : `the ${kind} data is corrupt (${msg})`,
    truncated ? 'the layer is incomplete; fetch it again' : 'the layer blob is corrupt or not what its descriptor says');
}

function blobError(what: string, file: string, err: unknown): RktError {
  const code = errnoCode(err);
  return new RktError('STORE', `cannot write the blob of ${what} to ${file}: ${code ?? describeCause(err)}`, {
    cause: err,
    hint: code === 'ENOSPC' ? 'the disk is full' : code === 'EEXIST' ? 'blobOut must be a path that does not exist yet' : undefined,
  });
}

/** Whatever is not already an RktError came from the source stream (a network or read failure). */
function classify(err: unknown, what: string): RktError {
  if (err instanceof RktError) return err;
  return new RktError('FETCH', `cannot read ${what}: ${describeCause(err)}`, {
    cause: err,
    hint: 'the download failed or the source stream broke; fetch again',
  });
}
