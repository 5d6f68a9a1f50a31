// Port forwarding over SPDY (portforward.k8s.io), as kubelet serves it: for each forwarded
// connection the client opens two streams with the same `requestid` and `port` headers, an error
// stream and a data stream. The data stream's bytes go to a TCP connection to the pod's port and
// back; a failure is written on the error stream as text. Both streams end with the connection.
// The SPDY connection lives until the client closes it (one `kubectl port-forward` serves many).
import net from 'node:net';
import { errorText } from '../channels.js';
import type { Session } from '../exec-session.js';
import type { LogFn, PortForwardTarget, StreamingBackend } from '../types.js';
import type { SpdySession, SpdyStream } from './session.js';

export const SPDY_PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 18;

interface Pair {
  port: string;
  error?: SpdyStream;
  data?: SpdyStream;
  started: boolean;
}

export function serveSpdyPortForward(session: SpdySession, target: PortForwardTarget, backend: StreamingBackend, log: LogFn): Session {
  const pairs = new Map<string, Pair>();
  const sockets = new Set<net.Socket>();
  void session.closed.then(() => {
    for (const s of sockets) s.destroy();
  });

  const fail = (pair: Pair, message: string): void => {
    const msg = `error forwarding port ${pair.port} to pod ${target.podUuid}: ${message}`;
    log(`streaming: ${msg}`);
    pair.error?.write(Buffer.from(msg));
    pair.error?.end();
    pair.data?.end();
  };

  const start = (pair: Pair, data: SpdyStream, error: SpdyStream): void => {
    pair.started = true;
    const port = /^[0-9]{1,5}$/.test(pair.port) ? Number(pair.port) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      fail(pair, `invalid port ${JSON.stringify(pair.port)}`);
      return;
    }
    if (target.ports.length > 0 && !target.ports.includes(port)) {
      fail(pair, `port ${port} was not requested (PortForward asked for ${target.ports.join(', ')})`);
      return;
    }
    const pending: Buffer[] = [];
    let socket: net.Socket | null = null;
    let clientDone = false;
    data.on('data', (d: Buffer) => {
      if (socket === null) pending.push(d);
      else if (!socket.write(d)) session.pause();
    });
    data.on('end', () => {
      clientDone = true;
      socket?.end();
    });
    data.on('close', () => socket?.destroy());
    backend.portAddress(target.podUuid, port).then((addr) => {
      if (!data.writable) return;
      const s = net.connect({ host: addr.host, port: addr.port });
      socket = s;
      sockets.add(s);
      for (const chunk of pending.splice(0)) s.write(chunk);
      if (clientDone) s.end();
      s.on('drain', () => session.resume());
      s.on('data', (chunk: Buffer) => {
        data.write(chunk, () => {
          if (s.isPaused() && session.buffered < LOW_WATER) s.resume();
        });
        if (session.buffered > HIGH_WATER) s.pause();
      });
      s.on('error', (err) => fail(pair, errorText(err)));
      s.on('close', () => {
        sockets.delete(s);
        session.resume();
        data.end();
        error.end();
        pairs.delete(pairKey(data));
      });
    }, (err: unknown) => fail(pair, errorText(err)));
  };

  session.on('stream', (s: SpdyStream) => {
    s.reply();
    const type = s.header('streamtype');
    if (type !== 'data' && type !== 'error') {
      log(`streaming: port-forward: a stream of unknown type ${JSON.stringify(type)} reset`);
      s.reset();
      return;
    }
    const key = pairKey(s);
    const pair = pairs.get(key) ?? { port: s.header('port'), started: false };
    pairs.set(key, pair);
    if (type === 'data') pair.data = s;
    else pair.error = s;
    if (!pair.started && pair.data !== undefined && pair.error !== undefined) start(pair, pair.data, pair.error);
  });

  return {
    abort: () => session.destroy(),
    closed: session.closed,
  };
}

/** Streams of one forwarded connection share a request id (older clients send none: the port pairs them). */
function pairKey(s: SpdyStream): string {
  const id = s.header('requestid');
  return id !== '' ? `id:${id}` : `port:${s.header('port')}`;
}
