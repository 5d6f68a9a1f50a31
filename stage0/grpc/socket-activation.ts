// systemd socket activation (sd_listen_fds(3)): the listening sockets a .socket unit handed over as fds 3,
// 4, ... grpc-js cannot listen on an inherited fd, but it accepts connections handed to it: a node
// net.Server listens on each fd and passes every accepted connection to the gRPC server.
import net from 'node:net';
import type { Server, ServerCredentials } from '@grpc/grpc-js';
import { RktError } from '../../common/errors.js';

/** The first fd systemd passes (after stdin, stdout, stderr). */
export const SD_LISTEN_FDS_START = 3;

/**
 * The fds systemd passed to this process: none unless LISTEN_PID names us (the variables may have been
 * inherited from a parent that was activated itself) and LISTEN_FDS counts them.
 */
export function listenFdsOf(env: NodeJS.ProcessEnv, pid: number): number[] {
  const fds = env['LISTEN_FDS'];
  const forPid = env['LISTEN_PID'];
  if (fds === undefined || forPid === undefined) return [];
  if (!/^[0-9]+$/.test(forPid)) throw new RktError('CONFIG_INVALID', `invalid LISTEN_PID "${forPid}": expected a process id`);
  if (Number(forPid) !== pid) return [];
  if (!/^[0-9]+$/.test(fds)) throw new RktError('CONFIG_INVALID', `invalid LISTEN_FDS "${fds}": expected a number of fds`);
  return Array.from({ length: Number(fds) }, (_x, i) => SD_LISTEN_FDS_START + i);
}

/** sd_listen_fds(unset_environment=1): the programs we start must not take the sockets for theirs. */
export function forgetListenEnv(env: NodeJS.ProcessEnv): void {
  delete env['LISTEN_FDS'];
  delete env['LISTEN_PID'];
  delete env['LISTEN_FDNAMES'];
}

export interface InheritedListeners {
  /** Each socket's local address as `host:port` or the unix path. */
  readonly addresses: string[];
  close(): Promise<void>;
}

function describe(s: net.Server): string {
  const a = s.address();
  if (a === null) return '?';
  if (typeof a === 'string') return a;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

function listenOnFd(fd: number, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer(onConnection);
    s.once('error', (err) => reject(new RktError('NETWORK', `cannot listen on inherited fd ${fd}: ${err.message}`, {
      hint: 'the socket unit must pass listening stream sockets (ListenStream=)',
    })));
    s.listen({ fd }, () => resolve(s));
  });
}

/** Serves `server` on every fd; the gRPC server's shutdown ends the connections, close() the listeners. */
export async function serveInheritedSockets(server: Server, creds: ServerCredentials, fds: readonly number[]): Promise<InheritedListeners> {
  const injector = server.createConnectionInjector(creds);
  const listeners: net.Server[] = [];
  try {
    for (const fd of fds) listeners.push(await listenOnFd(fd, (socket) => injector.injectConnection(socket)));
  } catch (err) {
    for (const l of listeners) l.close();
    injector.destroy();
    throw err;
  }
  return {
    addresses: listeners.map(describe),
    async close() {
      await Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))));
      injector.destroy();
    },
  };
}
