// Kubernetes' channel framing over one WebSocket (wsstream's "channel.k8s.io" family): every
// message starts with its channel number, as a byte (binary protocols) or as an ASCII digit
// followed by base64 of the payload (text frames, the "base64." protocols). v5 adds channel 255,
// the close signal: its one-byte payload names a channel the client will send no more on.
import type { RawData, WebSocket } from 'ws';
import type { LogFn } from './types.js';

export interface ChannelProtocol {
  /** The Sec-WebSocket-Protocol value; '' when the client offered none. */
  name: string;
  base64: boolean;
  /** 1 (unversioned), 4 (status JSON on the error channel), 5 (4 + the close signal). */
  version: 1 | 4 | 5;
}

/** Exec and attach, best first (kubelet's remotecommand list). */
export const REMOTE_COMMAND_PROTOCOLS: readonly ChannelProtocol[] = [
  { name: 'v5.channel.k8s.io', base64: false, version: 5 },
  { name: 'v4.channel.k8s.io', base64: false, version: 4 },
  { name: 'v4.base64.channel.k8s.io', base64: true, version: 4 },
  { name: 'channel.k8s.io', base64: false, version: 1 },
  { name: 'base64.channel.k8s.io', base64: true, version: 1 },
];

/**
 * Port forwarding. Kubelet's websocket port-forward accepts `v4.channel.k8s.io` and
 * `v4.base64.channel.k8s.io` (and no protocol at all); `v4.portforward.k8s.io` and
 * `portforward.k8s.io` are taken as the binary framing too, for clients that name the stream
 * kind. (`SPDY/3.1+portforward.k8s.io`, SPDY tunnelled in a WebSocket, is served by spdy/.)
 */
export const PORT_FORWARD_PROTOCOLS: readonly ChannelProtocol[] = [
  { name: 'v4.channel.k8s.io', base64: false, version: 4 },
  { name: 'v4.base64.channel.k8s.io', base64: true, version: 4 },
  { name: 'v4.portforward.k8s.io', base64: false, version: 4 },
  { name: 'portforward.k8s.io', base64: false, version: 1 },
];

/** What a client that offers no subprotocol gets: binary framing, unversioned. */
export const NO_PROTOCOL: ChannelProtocol = { name: '', base64: false, version: 1 };

export const CLOSE_SIGNAL_CHANNEL = 255;

/** The subprotocols a request's Sec-WebSocket-Protocol header(s) offer, in the client's order. */
export function offeredProtocols(header: string | string[] | undefined): string[] {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return values.flatMap((v) => v.split(',')).map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * The protocol to speak: the highest version the client offers; between equal versions, the
 * client's order decides. `null` when the client offers protocols and none is supported.
 */
export function negotiate(offered: readonly string[], supported: readonly ChannelProtocol[]): ChannelProtocol | null {
  if (offered.length === 0) return NO_PROTOCOL;
  let best: ChannelProtocol | null = null;
  for (const name of offered) {
    const p = supported.find((s) => s.name === name);
    if (p !== undefined && (best === null || p.version > best.version)) best = p;
  }
  return best;
}

const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 18;

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export function errorText(err: unknown): string {
  return oneLine(err instanceof Error ? err.message : String(err));
}

/**
 * Numbered channels of an exec or attach, whatever carries them: a channel WebSocket (ChannelConn)
 * or SPDY streams named by their streamType (spdy/remote-command.ts).
 */
export interface Channels {
  /** 1: the error channel carries a failure's text only; 4 and up: the status JSON. */
  readonly statusVersion: number;
  /** Whether the client can end stdin on its own (v5's close signal, a SPDY stream's FIN): a 255 frame naming channel 0. */
  readonly closeSignal: boolean;
  readonly open: boolean;
  /** Bytes sent but not yet written to the client's socket. */
  readonly buffered: number;
  /** Settles once the connection has closed. */
  readonly closed: Promise<void>;
  onFrame(handler: (channel: number, payload: Buffer) => void): void;
  send(channel: number, data: Buffer, cb?: () => void): void;
  /** Stops reading from the client (a full stdin pipe) until resume. */
  pause(): void;
  resume(): void;
  /** Ends the connection: 1000 after a finished session, anything else aborts it. */
  close(code?: number, reason?: string): void;
}

/**
 * Copies `stream` onto `channel` until it ends, closes or fails, pausing it while more than 1 MiB
 * waits for the client. Resolves (never rejects) when the stream is finished.
 */
export function pipeToChannel(conn: Channels, stream: NodeJS.ReadableStream, channel: number, log: LogFn): Promise<void> {
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolve();
    };
    const resumeIfDrained = (): void => {
      if (stream.isPaused() && (!conn.open || conn.buffered < LOW_WATER)) stream.resume();
    };
    stream.on('data', (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (buf.length === 0) return;
      conn.send(channel, buf, resumeIfDrained);
      if (conn.open && conn.buffered > HIGH_WATER) stream.pause();
    });
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', (err: unknown) => {
      log(`streaming: reading channel ${channel}'s source: ${errorText(err)}`);
      finish();
    });
  });
}

/** One WebSocket seen as numbered channels. */
export class ChannelConn implements Channels {
  readonly closed: Promise<void>;
  private frameHandler: (channel: number, payload: Buffer) => void = () => {};

  constructor(
    readonly ws: WebSocket,
    readonly protocol: ChannelProtocol,
    private readonly log: LogFn,
  ) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => {
      try {
        this.dispatch(rawToBuffer(data), isBinary);
      } catch (err) {
        this.log(`streaming: dropped a frame: ${errorText(err)}`);
      }
    });
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get statusVersion(): number {
    return this.protocol.version;
  }

  get closeSignal(): boolean {
    return this.protocol.version >= 5;
  }

  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  onFrame(handler: (channel: number, payload: Buffer) => void): void {
    this.frameHandler = handler;
  }

  /** Sends `data` on `channel`; dropped when the socket is no longer open. `cb` runs once it is written (or failed). */
  send(channel: number, data: Buffer, cb?: () => void): void {
    if (!this.open) {
      if (cb !== undefined) setImmediate(cb);
      return;
    }
    // ws calls back with null (not undefined) on success
    const done = (err?: Error | null): void => {
      if (err !== undefined && err !== null && this.open) this.log(`streaming: send on channel ${channel}: ${errorText(err)}`);
      cb?.();
    };
    if (this.protocol.base64) {
      this.ws.send(String.fromCharCode(48 + channel) + data.toString('base64'), done);
    } else {
      const frame = Buffer.allocUnsafe(data.length + 1);
      frame[0] = channel;
      data.copy(frame, 1);
      this.ws.send(frame, { binary: true }, done);
    }
  }

  /** Closes the socket (normal closure by default); a no-op once closing. */
  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === this.ws.CONNECTING || this.ws.readyState === this.ws.OPEN) {
      try {
        if (this.ws.isPaused) this.ws.resume(); // the closing handshake reads the client's close frame
        this.ws.close(code, reason);
      } catch (err) {
        this.log(`streaming: closing a connection: ${errorText(err)}`);
        this.ws.terminate();
      }
    }
  }

  private dispatch(frame: Buffer, isBinary: boolean): void {
    if (frame.length === 0) return;
    const first = frame[0] ?? 0;
    if (this.protocol.base64) {
      const channel = first - 48;
      const text = frame.subarray(1).toString(isBinary ? 'latin1' : 'utf8');
      this.frameHandler(channel, Buffer.from(text, 'base64'));
    } else {
      this.frameHandler(first, frame.subarray(1));
    }
  }
}
