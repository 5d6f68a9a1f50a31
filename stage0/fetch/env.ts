// Everything one fetch needs, decided once from the command context: the store, the
// keystore layers, HTTP policy, discovery port, whether to verify, where to download.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Store } from '../store/index.js';
import type { CommandContext } from '../context/context.js';
import { endProgress } from '../context/output.js';
import { loadConfig } from '../config/config.js';
import { keystoreLayers, type KeystoreLayer } from '../trust/keystore.js';
import { discoveryPortFromEnv } from './discovery.js';
import type { HttpPolicy } from './http.js';

export type PullPolicy = 'new' | 'update' | 'never';

export interface FetchEnv {
  readonly ctx: CommandContext;
  readonly store: Store;
  readonly layers: readonly KeystoreLayer[];
  readonly http: HttpPolicy;
  readonly discoveryPort: number | undefined;
  /** False with --insecure-options=image. */
  readonly verify: boolean;
  /** A private directory for downloads, removed by dispose(). */
  readonly tmpDir: string;
  dispose(): Promise<void>;
}

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function progressReporter(ctx: CommandContext): HttpPolicy['onProgress'] {
  let last = 0;
  return (url, received, total) => {
    const now = Date.now();
    const done = total !== undefined && received >= total;
    if (!done && now - last < 200) return;
    last = now;
    const name = url.split('/').pop() ?? url;
    ctx.output.progress(`Downloading ${name}: ${human(received)}${total !== undefined ? ` / ${human(total)}` : ''}`);
    if (done) endProgress();
  };
}

/** Removes download dirs left by fetches that died (their pid is gone). */
async function sweepStale(root: string): Promise<void> {
  const names = await fs.readdir(root).catch(() => [] as string[]);
  for (const n of names) {
    const m = /^fetch-(\d+)-/.exec(n);
    if (!m?.[1]) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) await fs.rm(path.join(root, n), { recursive: true, force: true }).catch(() => {});
  }
}

export async function makeFetchEnv(ctx: CommandContext, store: Store): Promise<FetchEnv> {
  const g = ctx.globals;
  const root = path.join(g.dir, 'tmp');
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  await sweepStale(root);
  const tmpDir = await fs.mkdtemp(path.join(root, `fetch-${process.pid}-`));
  const onProgress = progressReporter(ctx);
  return {
    ctx,
    store,
    layers: keystoreLayers(g),
    http: {
      insecureTls: g.insecure.has('tls'),
      allowHttp: g.insecure.has('http'),
      auth: loadConfig(g).auth,
      ...(onProgress ? { onProgress } : {}),
    },
    discoveryPort: discoveryPortFromEnv(),
    verify: !g.insecure.has('image'),
    tmpDir,
    dispose: () => fs.rm(tmpDir, { recursive: true, force: true }),
  };
}
