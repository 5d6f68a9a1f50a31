// SPDY/3 header blocks (draft 3, section 2.6.10): a count, then length-prefixed name/value pairs,
// compressed by one zlib stream per direction that lives as long as the connection, with the
// SPDY dictionary preset and a sync flush after each block. So blocks must be decoded and encoded
// in frame order, one at a time.
import zlib from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError } from './frames.js';

/** Header names are lowercase; a value with several parts has them NUL-separated (kept as one string). */
export type SpdyHeaders = Map<string, string>;

/** A decompressed block larger than this is refused (a compression bomb in a hostile client's frame). */
const MAX_DECODED = 64 * 1024;

function run(z: zlib.Inflate | zlib.Deflate, input: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      out.push(c);
      size += c.length;
      if (size > limit) {
        // a bomb: stop inflating now; the connection ends with the error
        z.off('data', onData);
        z.off('error', onError);
        z.destroy();
        reject(new SpdyProtocolError(`a header block of over ${limit} bytes`));
      }
    };
    const onError = (err: Error): void => {
      z.off('data', onData);
      reject(new SpdyProtocolError(`header block: ${err.message}`));
    };
    z.on('data', onData);
    z.once('error', onError);
    z.write(input);
    z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      z.off('error', onError);
      if (size <= limit) resolve(Buffer.concat(out));
    });
  });
}

export class HeaderDecoder {
  private readonly z = zlib.createInflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  private queue: Promise<unknown> = Promise.resolve();

  decode(block: Buffer): Promise<SpdyHeaders> {
    const next = this.queue.then(async () => parsePairs(await run(this.z, block, MAX_DECODED)));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.close();
  }
}

export class HeaderEncoder {
  private readonly z = zlib.createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  private queue: Promise<unknown> = Promise.resolve();

  encode(headers: Iterable<[string, string]>): Promise<Buffer> {
    const raw = serializePairs(headers);
    const next = this.queue.then(() => run(this.z, raw, Number.MAX_SAFE_INTEGER));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.z.close();
  }
}

export function serializePairs(headers: Iterable<[string, string]>): Buffer {
  const pairs = [...headers];
  const parts: Buffer[] = [u32(pairs.length)];
  for (const [name, value] of pairs) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function parsePairs(raw: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = new Map();
  let at = 0;
  const take = (what: string): Buffer => {
    if (raw.length < at + 4) throw new SpdyProtocolError(`header block truncated at the ${what}`);
    const len = raw.readUInt32BE(at);
    at += 4;
    if (raw.length < at + len) throw new SpdyProtocolError(`header block truncated in the ${what}`);
    const b = raw.subarray(at, at + len);
    at += len;
    return b;
  };
  if (raw.length < 4) throw new SpdyProtocolError('header block without a count');
  const count = raw.readUInt32BE(0);
  at = 4;
  for (let i = 0; i < count; i++) {
    const name = take('name').toString('utf8').toLowerCase();
    const value = take('value').toString('utf8');
    if (name === '') throw new SpdyProtocolError('a header with an empty name');
    headers.set(name, headers.has(name) ? `${headers.get(name)}\0${value}` : value);
  }
  return headers;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
