// One SPDY/3 connection, as Kubernetes' streaming uses it: the client opens streams (SYN_STREAM,
// with headers naming what each carries), the server accepts each with a SYN_REPLY, and both sides
// send data frames until each half is finished (FIN) or reset. PINGs from the peer are echoed.
// No flow control is enforced in either direction (Kubernetes' SPDY peers do not use it).
// Frames are handled strictly in order: header blocks share one zlib context per direction.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  FrameReader,
  RST_CANCEL,
  RST_PROTOCOL_ERROR,
  SpdyProtocolError,
  dataFrame,
  goAwayFrame,
  pingFrame,
  rstStreamFrame,
  synReplyFrame,
  synStreamFrame,
  type Frame,
} from './frames.js';
import { HeaderDecoder, HeaderEncoder, type SpdyHeaders } from './header-block.js';

/** Data is sent in frames of at most this many bytes. */
const CHUNK = 32 * 1024;

/** One stream. Events: 'data' (Buffer), 'end' (the peer's FIN), 'reply' (client side), 'close' (finished both ways, reset, or the connection went). */
export class SpdyStream extends EventEmitter {
  private localDone = false;
  private remoteDone = false;
  private gone = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super();
  }

  /** A header's value ('' when absent). */
  header(name: string): string {
    return this.headers.get(name) ?? '';
  }

  get writable(): boolean {
    return !this.localDone && !this.gone;
  }

  /** Server side: accept the stream. */
  reply(): void {
    this.session.send(async (enc) => synReplyFrame(this.id, await enc.encode([]), false));
  }

  /** `cb` runs once the bytes are handed to the socket (or dropped). */
  write(data: Buffer, cb?: () => void): void {
    if (!this.writable || data.length === 0) {
      if (cb !== undefined) setImmediate(cb);
      return;
    }
    for (let at = 0; at < data.length; at += CHUNK) {
      const last = at + CHUNK >= data.length;
      this.session.send(() => dataFrame(this.id, data.subarray(at, at + CHUNK), false), last ? cb : undefined, data.length);
    }
  }

  /** Finishes our half (FIN). */
  end(): void {
    if (!this.writable) return;
    this.localDone = true;
    this.session.send(() => dataFrame(this.id, Buffer.alloc(0), true));
    this.settle();
  }

  /** Ends both halves now (RST_STREAM). */
  reset(status = RST_CANCEL): void {
    if (this.gone) return;
    this.session.send(() => rstStreamFrame(this.id, status));
    this.vanish();
  }

  /** @internal */
  remoteEnd(): void {
    if (this.remoteDone || this.gone) return;
    this.remoteDone = true;
    this.emit('end');
    this.settle();
  }

  /** @internal the peer reset it, or the connection is gone */
  vanish(): void {
    if (this.gone) return;
    this.gone = true;
    if (!this.remoteDone) {
      this.remoteDone = true;
      this.emit('end');
    }
    this.session.forget(this.id);
    this.emit('close');
  }

  private settle(): void {
    if (this.localDone && this.remoteDone) this.vanish();
  }
}

type Producer = (enc: HeaderEncoder) => Buffer | Promise<Buffer>;

export class SpdySession extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly decoder = new HeaderDecoder();
  private readonly encoder = new HeaderEncoder();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly replies = new Map<number, () => void>();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  private queuedBytes = 0;
  private nextStreamId: number;
  private lastPeerStreamId = 0;
  private ended = false;
  readonly closed: Promise<void>;

  /** Events: 'stream' (SpdyStream, server side), 'error' (a protocol error; the connection is then closed). */
  constructor(
    private readonly socket: Duplex,
    private readonly role: 'server' | 'client',
    head: Buffer = Buffer.alloc(0),
  ) {
    super();
    this.nextStreamId = role === 'client' ? 1 : 2;
    this.closed = new Promise((resolve) => this.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('error', (err: Error) => this.teardown(err));
    // after the frames that came before the end (their header blocks decode asynchronously)
    const ended = (): void => {
      this.inbound = this.inbound.then(() => this.teardown());
    };
    socket.on('close', ended);
    socket.on('end', ended);
    if (head.length > 0) this.feed(head);
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Bytes written but not yet taken by the socket. */
  get buffered(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Client side: opens a stream and waits for the server's SYN_REPLY. */
  createStream(headers: Iterable<[string, string]>): Promise<SpdyStream> {
    if (this.role !== 'client') throw new Error('only a client opens streams');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const list = [...headers];
    const stream = new SpdyStream(this, id, new Map(list));
    this.streams.set(id, stream);
    return new Promise((resolve, reject) => {
      this.replies.set(id, () => resolve(stream));
      stream.once('close', () => reject(new Error(`stream ${id} was reset before its reply`)));
      this.send(async (enc) => synStreamFrame(id, await enc.encode(list), false));
    });
  }

  /** Sends a GOAWAY, then ends the connection once everything queued is written. */
  close(): void {
    if (this.ended) return;
    this.send(() => goAwayFrame(this.lastPeerStreamId));
    const done = this.outbound;
    void done.then(() => {
      this.socket.end();
      this.teardown();
    });
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.socket.destroy();
    this.teardown();
  }

  /** @internal queued in order; `cb` after the socket took the bytes */
  send(produce: Producer, cb?: () => void, size = 0): void {
    if (this.ended) {
      if (cb !== undefined) setImmediate(cb);
      return;
    }
    this.queuedBytes += size;
    this.outbound = this.outbound.then(async () => {
      let bytes: Buffer;
      try {
        bytes = await produce(this.encoder);
      } finally {
        this.queuedBytes -= size;
      }
      if (this.ended || this.socket.destroyed) {
        cb?.();
        return;
      }
      this.socket.write(bytes, () => cb?.());
    }).catch((err: unknown) => {
      cb?.();
      this.fail(err);
    });
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
    this.replies.delete(id);
  }

  private feed(chunk: Buffer): void {
    if (this.ended) return;
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const f of frames) {
      this.inbound = this.inbound.then(() => (this.ended ? undefined : this.handle(f))).catch((err: unknown) => this.fail(err));
    }
  }

  private async handle(f: Frame): Promise<void> {
    switch (f.kind) {
      case 'syn_stream': {
        const headers = await this.decoder.decode(f.headerBlock);
        const peerParity = this.role === 'server' ? 1 : 0;
        if (f.streamId % 2 !== peerParity || f.streamId <= this.lastPeerStreamId) {
          this.send(() => rstStreamFrame(f.streamId, RST_PROTOCOL_ERROR));
          return;
        }
        this.lastPeerStreamId = f.streamId;
        const stream = new SpdyStream(this, f.streamId, headers);
        this.streams.set(f.streamId, stream);
        this.emit('stream', stream);
        if (f.fin) stream.remoteEnd();
        return;
      }
      case 'syn_reply': {
        await this.decoder.decode(f.headerBlock); // keeps the zlib context in step
        const resolve = this.replies.get(f.streamId);
        this.replies.delete(f.streamId);
        resolve?.();
        if (f.fin) this.streams.get(f.streamId)?.remoteEnd();
        return;
      }
      case 'headers':
        await this.decoder.decode(f.headerBlock);
        if (f.fin) this.streams.get(f.streamId)?.remoteEnd();
        return;
      case 'data': {
        const stream = this.streams.get(f.streamId);
        if (stream === undefined) return; // a stream we reset or finished; its late frames are dropped
        if (f.data.length > 0) stream.emit('data', f.data);
        if (f.fin) stream.remoteEnd();
        return;
      }
      case 'rst_stream':
        this.streams.get(f.streamId)?.vanish();
        return;
      case 'ping': {
        // the peer's pings have its parity (client odd); ours coming back are answers
        const peerParity = this.role === 'server' ? 1 : 0;
        if (f.id % 2 === peerParity) this.send(() => pingFrame(f.id));
        return;
      }
      case 'goaway':
        this.close();
        return;
      case 'ignored':
        return;
    }
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    const e = err instanceof SpdyProtocolError ? err : new SpdyProtocolError(err instanceof Error ? err.message : String(err));
    if (this.listenerCount('error') > 0) this.emit('error', e);
    this.destroy();
  }

  private teardown(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', new SpdyProtocolError(err.message));
    for (const s of [...this.streams.values()]) s.vanish();
    this.decoder.close();
    this.encoder.close();
    this.emit('close');
  }
}
