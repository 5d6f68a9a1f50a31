// Port forwarding over a channel WebSocket, as kubelet serves it: the i-th port gets data
// channel 2i and error channel 2i+1, each opened by a server frame holding the port as a
// little-endian uint16. Client bytes on the data channel go to a TCP connection to the pod's
// port and the connection's bytes come back on it; a failure goes on the error channel as text.
// The socket closes (1000) once every port's connection has ended.
import net from 'node:net';
import { errorText, type ChannelConn } from './channels.js';
import type { Session } from './exec-session.js';
import type { LogFn, PortForwardTarget, StreamingBackend } from './types.js';

const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 18;

/** Ports from a URL's `ports` parameters (each a comma list): null when absent, a string saying what is wrong when invalid. */
export function parsePortsQuery(values: readonly string[]): number[] | null | string {
  if (values.length === 0) return null;
  const ports: number[] = [];
  for (const v of values) {
    if (v.length === 0) return 'query parameter "ports" cannot be empty';
    for (const part of v.split(',')) {
      const s = part.trim();
      if (!/^[0-9]{1,5}$/.test(s)) return `unable to parse ${JSON.stringify(part)} as a port`;
      const n = Number(s);
      if (n < 1 || n > 65535) return `port ${n} must be between 1 and 65535`;
      ports.push(n);
    }
  }
  return ports;
}

/** Checks the ports an RPC registered; the same message style as parsePortsQuery. */
export function invalidPort(ports: readonly number[]): string | null {
  if (ports.length === 0) return 'no port to forward';
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) return `port ${p} must be between 1 and 65535`;
  if (ports.length * 2 > 255) return `too many ports (${ports.length}); at most 127`;
  return null;
}

interface PortPair {
  index: number;
  port: number;
  socket: net.Socket | null;
  /** Client bytes that came before the connection existed. */
  pending: Buffer[];
  done: boolean;
}

function portBytes(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port, 0);
  return b;
}

export function startPortForward(conn: ChannelConn, target: PortForwardTarget, backend: StreamingBackend, log: LogFn): Session {
  let clientGone = false;
  const closed = new Promise<void>((resolve) => conn.ws.once('close', () => resolve()));
  const pairs: PortPair[] = target.ports.map((port, index) => ({ index, port, socket: null, pending: [], done: false }));

  const destroyAll = (): void => {
    for (const pair of pairs) {
      pair.done = true;
      pair.socket?.destroy();
    }
  };
  conn.ws.once('close', () => {
    clientGone = true;
    destroyAll();
  });

  const pairDone = (pair: PortPair): void => {
    if (pair.done) return;
    pair.done = true;
    pair.pending = [];
    if (!clientGone && pairs.every((p) => p.done)) conn.close(1000);
  };

  const reportError = (pair: PortPair, err: unknown): void => {
    const msg = `error forwarding port ${pair.port} to pod ${target.podUuid}: ${errorText(err)}`;
    log(`streaming: ${msg}`);
    conn.send(pair.index * 2 + 1, Buffer.from(msg));
  };

  /** The connection whose full write buffer paused reading from the client, until it drains or closes. */
  let blockedBy: net.Socket | null = null;
  const unblock = (socket: net.Socket): void => {
    if (blockedBy !== socket) return;
    blockedBy = null;
    conn.ws.resume();
  };
  conn.onFrame((channel, payload) => {
    const pair = pairs[channel >> 1];
    if (pair === undefined || channel % 2 !== 0 || pair.done || payload.length === 0) return;
    if (pair.socket === null) {
      pair.pending.push(Buffer.from(payload));
      return;
    }
    if (!pair.socket.write(payload) && blockedBy === null) {
      blockedBy = pair.socket;
      conn.ws.pause();
    }
  });

  const connect = async (pair: PortPair): Promise<void> => {
    const addr = await backend.portAddress(target.podUuid, pair.port);
    if (pair.done) return;
    const socket = net.connect({ host: addr.host, port: addr.port });
    pair.socket = socket;
    for (const chunk of pair.pending) socket.write(chunk);
    pair.pending = [];
    const resumeIfDrained = (): void => {
      if (socket.isPaused() && (!conn.open || conn.ws.bufferedAmount < LOW_WATER)) socket.resume();
    };
    socket.on('data', (chunk: Buffer) => {
      conn.send(pair.index * 2, chunk, resumeIfDrained);
      if (conn.open && conn.ws.bufferedAmount > HIGH_WATER) socket.pause();
    });
    socket.on('error', (err) => {
      if (!clientGone && !pair.done) reportError(pair, err);
    });
    socket.on('drain', () => unblock(socket));
    socket.on('close', () => {
      unblock(socket);
      pairDone(pair);
    });
  };

  // The port frames first, on both channels of every pair, then the connections.
  for (const pair of pairs) {
    conn.send(pair.index * 2, portBytes(pair.port));
    conn.send(pair.index * 2 + 1, portBytes(pair.port));
  }
  for (const pair of pairs) {
    connect(pair).catch((err: unknown) => {
      if (clientGone) return;
      reportError(pair, err);
      pairDone(pair);
    });
  }

  return {
    abort: (code, reason) => {
      destroyAll();
      conn.close(code, reason);
    },
    closed,
  };
}
