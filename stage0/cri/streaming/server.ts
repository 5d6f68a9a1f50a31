// The CRI streaming server: the Exec, Attach and PortForward RPCs store their request under a
// single-use token (tokens.ts) and return `<baseUrl>/<exec|attach|portforward>/<token>`; the
// client (crictl, critest, kubelet) then opens that URL with one of Kubernetes' transports:
// - WebSocket, speaking the channel protocols over it (channels.ts; exec-session.ts for exec
//   and attach, port-forward.ts);
// - SPDY/3.1 (`Upgrade: SPDY/3.1`, what kubelet and client-go's SPDY executors use), one SPDY
//   stream per channel (spdy/remote-command.ts feeding the same exec-session.ts; spdy/port-forward.ts);
// - SPDY tunnelled in a WebSocket (`SPDY/3.1+portforward.k8s.io`, client-go's websocket
//   port-forward): the WebSocket's binary messages carry the SPDY bytes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { RktError } from '../../../common/errors.js';
import {
  ChannelConn,
  PORT_FORWARD_PROTOCOLS,
  REMOTE_COMMAND_PROTOCOLS,
  errorText,
  negotiate,
  offeredProtocols,
  type ChannelProtocol,
} from './channels.js';
import { startRemoteCommand, type RemoteCommand, type Session } from './exec-session.js';
import { invalidPort, parsePortsQuery, startPortForward } from './port-forward.js';
import { SPDY_PORT_FORWARD_PROTOCOL, serveSpdyPortForward } from './spdy/port-forward.js';
import { SPDY_REMOTE_COMMAND_PROTOCOLS, acceptRemoteCommandStreams } from './spdy/remote-command.js';
import { SpdySession } from './spdy/session.js';
import { TokenStore, type StreamKind } from './tokens.js';
import type { AttachTarget, ExecTarget, LogFn, PortForwardTarget, StreamingBackend, StreamingServer } from './types.js';

export type {
  AttachTarget,
  ExecTarget,
  PortForwardTarget,
  StreamingBackend,
  StreamingServer,
  StreamProcess,
} from './types.js';
export { DEFAULT_TOKEN_TTL_MS } from './tokens.js';

export interface StreamingServerOptions {
  /** `host:port` to listen on: `127.0.0.1:0` (any free port), `[::1]:1234`. */
  address: string;
  backend: StreamingBackend;
  /** One line per failed session or protocol error; nothing is logged otherwise. */
  log?: (line: string) => void;
  /** How long an unused URL stays valid (default 1 minute, as kubelet's request cache). */
  tokenTtlMs?: number;
  /** Milliseconds clock for token expiry; tests pass a fake one. */
  now?: () => number;
}

type Registered = RemoteCommand | { kind: 'portforward'; target: PortForwardTarget };

const KINDS: readonly StreamKind[] = ['exec', 'attach', 'portforward'];
const TOKEN_RE = /^[A-Za-z0-9_-]{1,128}$/;
/** How long server close waits for sessions' closing handshakes before cutting the sockets. */
const CLOSE_WAIT_MS = 1000;

/** Host and port of a `host:port` / `[v6]:port` listen address. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(address) ?? /^([^:[\]]*):([0-9]{1,5})$/.exec(address);
  const host = m?.[1];
  const port = Number(m?.[2]);
  if (m === null || host === undefined || !(port >= 0 && port <= 65535)) {
    throw new RktError('USAGE', `invalid streaming address ${JSON.stringify(address)}`, {
      hint: 'use host:port, e.g. 127.0.0.1:0 or [::1]:10010',
    });
  }
  return { host: host === '' ? '0.0.0.0' : host, port };
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function parseRoute(rawUrl: string | undefined): { kind: StreamKind; token: string; query: URLSearchParams } | null {
  let url: URL;
  try {
    url = new URL(rawUrl ?? '/', 'http://streaming.invalid');
  } catch {
    return null;
  }
  const parts = url.pathname.split('/');
  if (parts.length !== 3 || parts[0] !== '') return null;
  const kind = KINDS.find((k) => k === parts[1]);
  const token = parts[2];
  if (kind === undefined || token === undefined || !TOKEN_RE.test(token)) return null;
  return { kind, token, query: url.searchParams };
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 500: 'Internal Server Error' };

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${REASONS[code] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

const NOT_FOUND = 'unknown, expired or already used streaming URL';
const UPGRADE_NEEDED = 'a streaming URL needs a WebSocket or SPDY/3.1 upgrade request';
/** client-go's websocket port-forward: SPDY inside the WebSocket. */
const SPDY_TUNNEL_PROTOCOL = `SPDY/3.1+${SPDY_PORT_FORWARD_PROTOCOL}`;

export async function startStreamingServer(opts: StreamingServerOptions): Promise<StreamingServer> {
  const { backend } = opts;
  const log: LogFn = (line) => {
    try {
      opts.log?.(line.replace(/[\r\n]+/g, ' '));
    } catch {
      // a failing logger must not take a session down
    }
  };
  const listen = parseListenAddress(opts.address);
  const tokens = new TokenStore<Registered>({ ttlMs: opts.tokenTtlMs, now: opts.now });
  const sessions = new Set<Session>();
  let closing = false;

  /** The subprotocol onUpgrade negotiated for a request ('' when the client offered none). */
  const chosen = new WeakMap<http.IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 16 << 20,
    handleProtocols: (_offered, req) => chosen.get(req) || false,
  });

  const onConnection = (ws: WebSocket, protocol: ChannelProtocol, reg: Registered): void => {
    ws.on('error', (err) => log(`streaming: ${reg.kind} connection: ${errorText(err)}`));
    const conn = new ChannelConn(ws, protocol, log);
    let session: Session;
    try {
      session =
        reg.kind === 'portforward'
          ? startPortForward(conn, reg.target, backend, log)
          : startRemoteCommand(conn, reg, backend, log);
    } catch (err) {
      log(`streaming: ${reg.kind}: ${errorText(err)}`);
      conn.close(1011, 'internal error');
      return;
    }
    sessions.add(session);
    void session.closed.then(() => sessions.delete(session));
    if (closing) session.abort(1001, 'server shutting down');
  };

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (err) => log(`streaming: upgrade socket: ${errorText(err)}`));
    const route = parseRoute(req.url);
    let reg = route === null || closing ? undefined : tokens.peek(route.kind, route.token);
    if (route === null || reg === undefined) {
      rejectUpgrade(socket, 404, NOT_FOUND);
      return;
    }
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'spdy/3.1') {
      onSpdyUpgrade(req, socket, head, route.kind, route.token, reg);
      return;
    }
    if (upgrade !== 'websocket' || req.headers['sec-websocket-key'] === undefined) {
      rejectUpgrade(socket, 400, UPGRADE_NEEDED);
      return;
    }
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
    if (reg.kind === 'portforward' && offered.includes(SPDY_TUNNEL_PROTOCOL)) {
      tokens.take(route.kind, route.token);
      chosen.set(req, SPDY_TUNNEL_PROTOCOL);
      // "/" is no token character, so `ws` would refuse the header; the answer names it as chosen
      req.headers['sec-websocket-protocol'] = 'spdy-tunnel';
      const target = reg.target;
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', (err) => log(`streaming: port-forward tunnel: ${errorText(err)}`));
        startSpdy(createWebSocketStream(ws), Buffer.alloc(0), (session) => serveSpdyPortForward(session, target, backend, log));
      });
      return;
    }
    const supported = route.kind === 'portforward' ? PORT_FORWARD_PROTOCOLS : REMOTE_COMMAND_PROTOCOLS;
    const protocol = negotiate(offered, supported);
    if (protocol === null) {
      rejectUpgrade(
        socket,
        400,
        `none of the requested subprotocols (${offered.join(', ')}) is supported; supported: ${supported.map((p) => p.name).join(', ')}`,
      );
      return;
    }
    if (reg.kind === 'portforward') {
      const fromQuery = parsePortsQuery(route.query.getAll('ports'));
      if (typeof fromQuery === 'string') {
        rejectUpgrade(socket, 400, fromQuery);
        return;
      }
      const ports = fromQuery ?? reg.target.ports;
      const bad = invalidPort(ports);
      if (bad !== null) {
        rejectUpgrade(socket, 400, bad);
        return;
      }
      reg = { kind: 'portforward', target: { ...reg.target, ports } };
    }
    tokens.take(route.kind, route.token);
    chosen.set(req, protocol.name);
    const taken = reg;
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        onConnection(ws, protocol, taken);
      } catch (err) {
        log(`streaming: ${taken.kind}: ${errorText(err)}`);
        ws.terminate();
      }
    });
  };

  /** A SPDY connection's session, tracked like a WebSocket one; `serve` takes over once it is up. */
  const startSpdy = (socket: Duplex, head: Buffer, serve: (session: SpdySession) => Session | Promise<Session>): void => {
    const spdy = new SpdySession(socket, 'server', head);
    spdy.on('error', (err: Error) => log(`streaming: spdy: ${errorText(err)}`));
    const tracked: Session = { abort: () => spdy.destroy(), closed: spdy.closed };
    sessions.add(tracked);
    void spdy.closed.then(() => sessions.delete(tracked));
    if (closing) {
      spdy.destroy();
      return;
    }
    Promise.resolve()
      .then(() => serve(spdy))
      .catch((err: unknown) => {
        log(`streaming: spdy: ${errorText(err)}`);
        spdy.destroy();
      });
  };

  /** `Upgrade: SPDY/3.1`: the protocol from X-Stream-Protocol-Version (the client's first that is supported), then SPDY. */
  const onSpdyUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer, kind: StreamKind, token: string, reg: Registered): void => {
    // Node joins a repeated X-Stream-Protocol-Version with commas, as offeredProtocols expects
    const offered = offeredProtocols(req.headers['x-stream-protocol-version']);
    const supported: readonly string[] = reg.kind === 'portforward' ? [SPDY_PORT_FORWARD_PROTOCOL] : SPDY_REMOTE_COMMAND_PROTOCOLS;
    // a port-forward client that names no protocol is an old one speaking the only one there is
    const protocol = reg.kind === 'portforward' && offered.length === 0 ? SPDY_PORT_FORWARD_PROTOCOL : offered.find((p) => supported.includes(p));
    if (protocol === undefined) {
      rejectUpgrade(socket, 400, `none of the requested stream protocols (${offered.join(', ') || 'none'}) is supported over SPDY; supported: ${supported.join(', ')}`);
      return;
    }
    tokens.take(kind, token);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    if (reg.kind === 'portforward') {
      const target = reg.target;
      startSpdy(socket, head, (spdy) => serveSpdyPortForward(spdy, target, backend, log));
      return;
    }
    startSpdy(socket, head, async (spdy) => startRemoteCommand(await acceptRemoteCommandStreams(spdy, protocol, reg.target), reg, backend, log));
  };

  const server = http.createServer((req, res) => {
    try {
      const route = parseRoute(req.url);
      const known = route !== null && !closing && tokens.peek(route.kind, route.token) !== undefined;
      res.writeHead(known ? 400 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${known ? UPGRADE_NEEDED : NOT_FOUND}\n`);
    } catch (err) {
      log(`streaming: request: ${errorText(err)}`);
      res.destroy();
    }
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      onUpgrade(req, socket, head);
    } catch (err) {
      log(`streaming: upgrade: ${errorText(err)}`);
      try {
        rejectUpgrade(socket, 500, 'internal error');
      } catch {
        socket.destroy();
      }
    }
  });
  server.on('clientError', (err, socket) => {
    log(`streaming: bad request: ${errorText(err)}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new RktError('NETWORK', `streaming server: cannot listen on ${opts.address}: ${errorText(err)}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log(`streaming: server: ${errorText(err)}`));

  const bound = server.address() as AddressInfo;
  const baseUrl = `http://${urlHost(listen.host)}:${bound.port}`;

  const register = (reg: Registered): string => {
    if (closing) throw new RktError('INTERNAL', 'streaming server is closed');
    return `${baseUrl}/${reg.kind}/${tokens.add(reg.kind, reg)}`;
  };

  let closed: Promise<void> | null = null;
  return {
    baseUrl,
    registerExec: (t: ExecTarget) => register({ kind: 'exec', target: { ...t, cmd: [...t.cmd] } }),
    registerAttach: (t: AttachTarget) => register({ kind: 'attach', target: { ...t } }),
    registerPortForward: (t: PortForwardTarget) => register({ kind: 'portforward', target: { ...t, ports: [...t.ports] } }),
    close: () => {
      closed ??= (async () => {
        closing = true;
        tokens.clear();
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        const open = [...sessions];
        for (const s of open) s.abort(1001, 'server shutting down');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(open.map((s) => s.closed)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, CLOSE_WAIT_MS);
          }),
        ]);
        clearTimeout(timer);
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await serverClosed;
      })();
      return closed;
    },
  };
}
