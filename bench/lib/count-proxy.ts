// A pass-through HTTP proxy on 127.0.0.1 that records each request's method and path, so a suite can
// count what a client really fetched from a registry instead of trusting the client's own log.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  status: number;
}

export interface CountingProxy {
  readonly port: number;
  /** Requests completed since the last reset, oldest first. */
  readonly seen: SeenRequest[];
  reset(): void;
  /** GETs of /v2/<repo>/blobs/<digest> with a 2xx answer, for the digests given. */
  blobGets(digests: ReadonlySet<string>): string[];
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const agent = new http.Agent({ keepAlive: true });
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${targetPort}` }, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('end', () => seen.push({ method: req.method ?? '', path: req.url ?? '', status: upRes.statusCode ?? 0 }));
      },
    );
    up.on('error', (err) => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', status: 502 });
      res.destroy(err);
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    reset() {
      seen.length = 0;
    },
    blobGets(digests) {
      return seen
        .filter((r) => r.method === 'GET' && r.status >= 200 && r.status < 300)
        .map((r) => /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})(?:\?.*)?$/.exec(r.path)?.[1])
        .filter((d): d is string => d !== undefined && digests.has(d));
    },
    async close() {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
