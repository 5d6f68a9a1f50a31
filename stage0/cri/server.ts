// `rkt cri`: the CRI runtime.v1 endpoint. A foreground gRPC server on a unix socket (systemd-friendly: logs
// to stderr, READY via sd_notify, clean exit on SIGTERM) plus the streaming server for exec/attach/port-forward.
// It holds no state of its own: sandboxes, containers and images are read from --dir on every call.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { RktError } from '../../common/errors.js';
import { notifyReady } from '../grpc/sd-notify.js';
import { BUILTIN_FLAVORS, DEFAULT_FLAVOR } from '../stage1/select.js';
import { loadCriPackage } from './proto/load.js';
import { RktCli } from './rkt-cli.js';
import type { NodeNetwork } from './runtime/cni-config.js';
import type { CriRuntime } from './runtime/context.js';
import { ContainerLogs } from './runtime/container-logs.js';
import { ContainerIndex, containersOf, listSandboxes } from './runtime/cri-pods.js';
import { ImagePolicy, type ImagePolicyConfig } from './runtime/image-policy.js';
import { imageService, runtimeService } from './runtime/services.js';
import { streamingBackend } from './runtime/streaming-backend.js';
import { viewContainer } from './runtime/containers.js';
import { startStreamingServer, type StreamingServer } from './streaming/server.js';

export interface CriServerOptions {
  listen: string;
  streamAddress: string;
  dataDir: string;
  rktGlobalArgs: readonly string[];
  podNetwork: NodeNetwork;
  images: ImagePolicyConfig;
  log: (line: string) => void;
  debug: (line: string) => void;
}

export interface CriServer {
  readonly socketPath: string;
  readonly streamingUrl: string;
  close(): Promise<void>;
}

/** unix:///run/rkt/cri.sock or unix:/path or a bare absolute path. */
export function socketPathOf(listen: string): string {
  const m = /^unix:(?:\/\/)?(\/.+)$/.exec(listen);
  const p = m ? m[1] : listen.startsWith('/') ? listen : undefined;
  if (p === undefined) throw new RktError('USAGE', `invalid --listen "${listen}": expected unix:///path/to/socket`, { hint: 'the CRI endpoint listens on a unix socket only' });
  return p;
}

function bind(server: Server, socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
}

/** Containers that were running when a previous endpoint stopped get their log copier back. */
async function resumeLogs(rt: CriRuntime): Promise<void> {
  for (const sb of await listSandboxes(rt.dataDir)) {
    for (const c of containersOf(sb)) {
      if (c.record.logPath === '') continue;
      const v = await viewContainer(c);
      if (v.state === 'CONTAINER_RUNNING') await rt.logs.start(c, true);
      else if (v.state === 'CONTAINER_EXITED') await rt.logs.start(c, false);
    }
  }
}

export async function startCriServer(o: CriServerOptions): Promise<CriServer> {
  const socket = socketPathOf(o.listen);
  const rkt = new RktCli({ globalArgs: o.rktGlobalArgs, debug: o.debug });
  const rt: CriRuntime = {
    dataDir: o.dataDir,
    rkt,
    containers: new ContainerIndex(o.dataDir),
    logs: new ContainerLogs(o.debug),
    images: new ImagePolicy(o.dataDir, rkt, o.images),
    podNetwork: o.podNetwork,
    // RuntimeClass handlers are the built-in stage1 flavors by name; the empty handler is the default flavor.
    handlers: new Map<string, string>([['', DEFAULT_FLAVOR], ...BUILTIN_FLAVORS.map((f): [string, string] => [f, f])]),
    debug: o.debug,
  };
  const streaming: StreamingServer = await startStreamingServer({ address: o.streamAddress, backend: streamingBackend(rt), log: o.log });
  const pkg = loadCriPackage();
  const server = new Server();
  server.addService(pkg.runtime, runtimeService(rt, streaming));
  server.addService(pkg.image, imageService(rt));
  await fs.mkdir(path.dirname(socket), { recursive: true, mode: 0o755 });
  await fs.rm(socket, { force: true });
  try {
    await bind(server, socket);
  } catch (err) {
    await streaming.close();
    throw new RktError('NETWORK', `cannot listen on ${socket}: ${err instanceof Error ? err.message : String(err)}`);
  }
  await fs.chmod(socket, 0o660);
  await resumeLogs(rt).catch((e: unknown) => o.log(`resuming container logs failed: ${e instanceof Error ? e.message : String(e)}`));
  o.log(`listening on unix://${socket}, streaming on ${streaming.baseUrl}`);
  notifyReady(o.debug);
  return {
    socketPath: socket,
    streamingUrl: streaming.baseUrl,
    async close() {
      rt.logs.stopAll();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await streaming.close();
      await fs.rm(socket, { force: true });
    },
  };
}
