// SPDY/3 framing (draft 3, section 2.2): an 8-byte header, then the payload. Control frames carry
// the version and a type; data frames a stream id. Header blocks stay opaque bytes here: their
// zlib context spans the whole connection (header-block.ts).

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;
/** Largest frame payload accepted; SPDY allows 16 MiB, no stream of ours needs more than this. */
export const MAX_FRAME_PAYLOAD = 1 << 20;

export const ControlType = { SynStream: 1, SynReply: 2, RstStream: 3, Settings: 4, Ping: 6, GoAway: 7, Headers: 8, WindowUpdate: 9 } as const;
type ControlTypeCode = (typeof ControlType)[keyof typeof ControlType];

/** RST_STREAM status codes used here. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;
export const RST_INTERNAL_ERROR = 6;

export type Frame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'syn_stream'; streamId: number; fin: boolean; unidirectional: boolean; headerBlock: Buffer }
  | { kind: 'syn_reply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'rst_stream'; streamId: number; status: number }
  | { kind: 'ping'; id: number }
  | { kind: 'goaway'; lastGoodStreamId: number; status: number }
  /** SETTINGS, WINDOW_UPDATE and unknown types: read and ignored (no flow control is enforced either way). */
  | { kind: 'ignored'; type: number };

export class SpdyProtocolError extends Error {}

const u31 = (b: Buffer, at: number): number => b.readUInt32BE(at) & 0x7fffffff;

function controlHeader(type: ControlTypeCode, flags: number, length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | length, 4);
  return h;
}

/** Incremental reader: feed bytes as they come, take whole frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const length = this.buf.readUInt32BE(4) & 0xffffff;
      if (length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`a ${length}-byte frame is over the ${MAX_FRAME_PAYLOAD}-byte limit`);
      if (this.buf.length < 8 + length) break;
      const head = this.buf.subarray(0, 8);
      const payload = Buffer.from(this.buf.subarray(8, 8 + length));
      this.buf = this.buf.subarray(8 + length);
      frames.push(parseFrame(head, payload));
    }
    return frames;
  }
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new SpdyProtocolError(`a ${what} frame of ${payload.length} bytes (at least ${n} expected)`);
}

export function parseFrame(head: Buffer, payload: Buffer): Frame {
  const flags = head[4] ?? 0;
  const fin = (flags & FLAG_FIN) !== 0;
  if ((head.readUInt16BE(0) & 0x8000) === 0) return { kind: 'data', streamId: u31(head, 0), fin, data: payload };
  const version = head.readUInt16BE(0) & 0x7fff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`SPDY version ${version} (only 3 is spoken)`);
  const type = head.readUInt16BE(2);
  switch (type) {
    case ControlType.SynStream:
      need(payload, 10, 'SYN_STREAM');
      return { kind: 'syn_stream', streamId: u31(payload, 0), fin, unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0, headerBlock: payload.subarray(10) };
    case ControlType.SynReply:
      need(payload, 4, 'SYN_REPLY');
      return { kind: 'syn_reply', streamId: u31(payload, 0), fin, headerBlock: payload.subarray(4) };
    case ControlType.Headers:
      need(payload, 4, 'HEADERS');
      return { kind: 'headers', streamId: u31(payload, 0), fin, headerBlock: payload.subarray(4) };
    case ControlType.RstStream:
      need(payload, 8, 'RST_STREAM');
      return { kind: 'rst_stream', streamId: u31(payload, 0), status: payload.readUInt32BE(4) };
    case ControlType.Ping:
      need(payload, 4, 'PING');
      return { kind: 'ping', id: payload.readUInt32BE(0) };
    case ControlType.GoAway:
      need(payload, 4, 'GOAWAY');
      return { kind: 'goaway', lastGoodStreamId: u31(payload, 0), status: payload.length >= 8 ? payload.readUInt32BE(4) : 0 };
    default:
      return { kind: 'ignored', type };
  }
}

export function dataFrame(streamId: number, data: Buffer, fin: boolean): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
  return Buffer.concat([h, data]);
}

export function synStreamFrame(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const body = Buffer.alloc(10);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  return Buffer.concat([controlHeader(ControlType.SynStream, fin ? FLAG_FIN : 0, 10 + headerBlock.length), body, headerBlock]);
}

export function synReplyFrame(streamId: number, headerBlock: Buffer, fin: boolean): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(streamId & 0x7fffffff, 0);
  return Buffer.concat([controlHeader(ControlType.SynReply, fin ? FLAG_FIN : 0, 4 + headerBlock.length), id, headerBlock]);
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(streamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return Buffer.concat([controlHeader(ControlType.RstStream, 0, 8), body]);
}

export function pingFrame(id: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32BE(id >>> 0, 0);
  return Buffer.concat([controlHeader(ControlType.Ping, 0, 4), body]);
}

export function goAwayFrame(lastGoodStreamId: number, status = 0): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  body.writeUInt32BE(status, 4);
  return Buffer.concat([controlHeader(ControlType.GoAway, 0, 8), body]);
}
