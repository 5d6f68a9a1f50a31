// Exec and attach over SPDY, as kubelet serves them (remotecommand v2-v4): the client opens one
// stream per channel, named by its `streamtype` header (error, stdin, stdout, stderr, resize),
// and the session starts once every stream the request implies is there. The streams then act
// as the numbered channels of the WebSocket protocols, so one session body (exec-session.ts)
// serves both transports; the FIN of the stdin stream is the close signal.
import { CLOSE_SIGNAL_CHANNEL, type Channels } from '../channels.js';
import { ERROR_CHANNEL, RESIZE_CHANNEL, STDERR_CHANNEL, STDIN_CHANNEL, STDOUT_CHANNEL } from '../exec-session.js';
import type { SpdySession, SpdyStream } from './session.js';

/** X-Stream-Protocol-Version values, best first: v4 puts the status JSON on the error stream, v2-v3 its text. */
export const SPDY_REMOTE_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'] as const;

/** How long the client has to open its streams (kubelet's stream creation timeout). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

const CHANNEL_OF: Readonly<Record<string, number>> = {
  stdin: STDIN_CHANNEL,
  stdout: STDOUT_CHANNEL,
  stderr: STDERR_CHANNEL,
  error: ERROR_CHANNEL,
  resize: RESIZE_CHANNEL,
};

export interface WantedStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The stream types a request implies, as kubelet counts them (no stderr with a tty; resize from v3, with a tty). */
export function expectedStreamTypes(protocol: string, w: WantedStreams): string[] {
  const version = Number(/^v([0-9]+)\./.exec(protocol)?.[1] ?? '1');
  const types = ['error'];
  if (w.stdin) types.push('stdin');
  if (w.stdout) types.push('stdout');
  if (w.stderr && !w.tty) types.push('stderr');
  if (w.tty && version >= 3) types.push('resize');
  return types;
}

class SpdyChannels implements Channels {
  readonly closeSignal = true;
  private handler: (channel: number, payload: Buffer) => void = () => {};

  constructor(
    private readonly session: SpdySession,
    private readonly streams: ReadonlyMap<number, SpdyStream>,
    readonly statusVersion: number,
  ) {
    for (const [channel, stream] of streams) {
      stream.on('data', (d: Buffer) => this.handler(channel, d));
      if (channel === STDIN_CHANNEL) stream.on('end', () => this.handler(CLOSE_SIGNAL_CHANNEL, Buffer.from([STDIN_CHANNEL])));
    }
  }

  get open(): boolean {
    return this.session.open;
  }

  get buffered(): number {
    return this.session.buffered;
  }

  get closed(): Promise<void> {
    return this.session.closed;
  }

  onFrame(handler: (channel: number, payload: Buffer) => void): void {
    this.handler = handler;
  }

  send(channel: number, data: Buffer, cb?: () => void): void {
    const stream = this.streams.get(channel);
    if (stream === undefined) {
      if (cb !== undefined) setImmediate(cb);
      return;
    }
    stream.write(data, cb);
  }

  pause(): void {
    this.session.pause();
  }

  resume(): void {
    this.session.resume();
  }

  close(code = 1000): void {
    if (code !== 1000) {
      this.session.destroy();
      return;
    }
    // Our halves end (the client reads the error stream to its end), then the connection.
    for (const s of this.streams.values()) s.end();
    this.session.close();
  }
}

/**
 * Accepts the client's streams (each gets its SYN_REPLY) until those the request implies are all
 * there; resolves with them as channels, or rejects when the client is too slow or goes away.
 */
export function acceptRemoteCommandStreams(session: SpdySession, protocol: string, wanted: WantedStreams, timeoutMs = STREAM_CREATION_TIMEOUT_MS): Promise<Channels> {
  const expected = expectedStreamTypes(protocol, wanted);
  const statusVersion = protocol.startsWith('v4.') ? 4 : 1;
  return new Promise((resolve, reject) => {
    const streams = new Map<number, SpdyStream>();
    const onStream = (s: SpdyStream): void => {
      s.reply();
      const channel = CHANNEL_OF[s.header('streamtype')];
      if (channel === undefined) {
        s.reset();
        return;
      }
      streams.set(channel, s);
      if (expected.every((t) => streams.has(CHANNEL_OF[t] ?? -1))) {
        cleanup();
        resolve(new SpdyChannels(session, streams, statusVersion));
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for the client's streams (${expected.filter((t) => !streams.has(CHANNEL_OF[t] ?? -1)).join(', ')} missing)`));
    }, timeoutMs);
    const onClose = (): void => {
      cleanup();
      reject(new Error('the client closed the connection before opening its streams'));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      session.off('stream', onStream);
      session.off('close', onClose);
    };
    session.on('stream', onStream);
    session.once('close', onClose);
  });
}
