// `rkt api-service`: rkt's read-only v1alpha gRPC API over TCP, in the foreground (systemd-friendly: logs to
// stderr, READY via sd_notify, sockets from a .socket unit, clean exit on SIGTERM). Answers are read from
// --dir on every call; pods and images are never changed.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { RktError } from '../../common/errors.js';
import { listPods } from '../pod/list.js';
import { openStore } from '../store/index.js';
import { notifyReady } from '../grpc/sd-notify.js';
import { forgetListenEnv, listenFdsOf, serveInheritedSockets, type InheritedListeners } from '../grpc/socket-activation.js';
import { EventWatcher } from './event-watcher.js';
import { loadPublicApi } from './proto/load.js';
import { publicApiService, type ApiContext, type GlobalFlagsMessage } from './service.js';

/** How long a shutdown waits for calls in flight before it cuts the connections. */
const SHUTDOWN_GRACE_MS = 5000;

export interface ApiServerOptions {
  /** --listen; `given`: on the command line, not the default (which a socket unit's sockets replace). */
  listen: { address: string; given: boolean };
  dataDir: string;
  globalFlags: GlobalFlagsMessage;
  log: (line: string) => void;
  debug: (line: string) => void;
  /** The process's environment (LISTEN_FDS, NOTIFY_SOCKET); the activation variables are removed from it. */
  env?: NodeJS.ProcessEnv;
}

export interface ApiServer {
  /** Where it listens: `host:port` for --listen, each inherited socket's address under socket activation. */
  readonly addresses: readonly string[];
  close(): Promise<void>;
}

/** host:port, host a name, an IPv4 address or a bracketed IPv6 one. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9A-Za-z:.%]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new RktError('USAGE', `invalid --listen "${listen}": expected host:port`, { hint: 'e.g. localhost:15441, 0.0.0.0:15441 or [::1]:15441; port 0 picks a free port' });
  }
  return { host: m[1]!, port };
}

function bindTcp(server: Server, listen: string): Promise<string> {
  const { host } = parseListen(listen);
  return new Promise((resolve, reject) => {
    server.bindAsync(listen, ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(new RktError('NETWORK', `cannot listen on ${listen}: ${err.message}`, { hint: 'is another rkt api-service running there? pick another --listen' }));
      else resolve(`${host}:${port}`);
    });
  });
}

export async function startApiServer(o: ApiServerOptions): Promise<ApiServer> {
  const env = o.env ?? process.env;
  const fds = listenFdsOf(env, process.pid);
  if (fds.length > 0 && o.listen.given) {
    throw new RktError('USAGE', `started with ${fds.length} socket(s) from systemd (LISTEN_FDS), and with --listen=${o.listen.address}`, {
      hint: 'drop --listen from the service unit: the socket unit says where to listen',
    });
  }
  if (fds.length === 0) parseListen(o.listen.address); // a bad --listen fails before anything is opened
  forgetListenEnv(env);
  const store = await openStore(o.dataDir);
  const ctx: ApiContext = {
    dataDir: o.dataDir,
    store,
    globalFlags: o.globalFlags,
    watcher: new EventWatcher(async () => ({ pods: await listPods(o.dataDir), images: await store.listImages() }), o.log),
    openStreams: new Set(),
    log: o.log,
    debug: o.debug,
  };
  const server = new Server();
  server.addService(loadPublicApi(), publicApiService(ctx));
  let inherited: InheritedListeners | undefined;
  let addresses: string[];
  if (fds.length > 0) {
    inherited = await serveInheritedSockets(server, ServerCredentials.createInsecure(), fds);
    addresses = inherited.addresses;
    o.log(`listening on ${addresses.join(', ')} (${fds.length} socket(s) from systemd)`);
  } else {
    addresses = [await bindTcp(server, o.listen.address)];
    o.log(`listening on ${addresses[0]!}`);
  }
  notifyReady(o.debug, env);
  return {
    addresses,
    async close() {
      for (const stop of [...ctx.openStreams]) stop();
      ctx.watcher.stop();
      await inherited?.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => { server.forceShutdown(); resolve(); }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => { clearTimeout(force); resolve(); });
      });
    },
  };
}
