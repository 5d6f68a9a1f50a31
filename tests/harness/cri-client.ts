// A CRI client for the tests: grpc-js stubs over the endpoint's unix socket, each RPC a promise that
// resolves with the response or rejects with the gRPC status (code + details), as kubelet sees them.
import { credentials, loadPackageDefinition, type Client, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { criProtoPath, CRI_LOADER_OPTIONS } from '../../stage0/cri/proto/load.js';

export type Msg = Record<string, unknown>;
export type Rpc = (req?: Msg, timeoutMs?: number) => Promise<Msg>;

export interface CriClient {
  runtime: Record<string, Rpc>;
  image: Record<string, Rpc>;
  close(): void;
}

type Ctor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

function stubs(client: Client, names: readonly string[]): Record<string, Rpc> {
  const out: Record<string, Rpc> = {};
  const c = client as unknown as Record<string, (req: Msg, opts: { deadline: Date }, cb: (err: ServiceError | null, res: Msg) => void) => void>;
  for (const n of names) {
    out[n] = (req = {}, timeoutMs = 600_000) => new Promise((resolve, reject) => {
      c[n]!.call(client, req, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }
  return out;
}

export function criClient(socket: string): CriClient {
  const def = protoLoader.loadSync(criProtoPath(), CRI_LOADER_OPTIONS);
  const pkg = loadPackageDefinition(def) as unknown as { runtime: { v1: Record<string, Ctor & { service: Record<string, unknown> }> } };
  const R = pkg.runtime.v1['RuntimeService']!;
  const I = pkg.runtime.v1['ImageService']!;
  const rc = new R(`unix://${socket}`, credentials.createInsecure());
  const ic = new I(`unix://${socket}`, credentials.createInsecure());
  return {
    runtime: stubs(rc, Object.keys(R.service)),
    image: stubs(ic, Object.keys(I.service)),
    close() { rc.close(); ic.close(); },
  };
}
