// Shared setup for the fetch/trust functional tests: a private --dir and config dirs, a
// runner for the built rkt CLI, and small signed-able test ACIs built with `rkt image build`.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { buildAci, makeAciDir } from './aci.js';

/** dist/tests/harness/fetch-env.js -> dist/bin/rkt.js */
export const RKT_BIN = fileURLToPath(new URL('../../bin/rkt.js', import.meta.url));

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface FetchEnv {
  readonly root: string;
  readonly dir: string;
  readonly localConfig: string;
  readonly systemConfig: string;
  /** Extra environment for every rkt run (e.g. NODE_EXTRA_CA_CERTS, RKT_DISCOVERY_PORT). */
  readonly env: Record<string, string>;
  rkt(args: string[], opts?: { input?: string }): Promise<RunResult>;
  /** Starts rkt without waiting (for killing it mid-way). */
  spawn(args: string[]): ResultPromise;
  cleanup(): Promise<void>;
}

export async function makeFetchEnv(): Promise<FetchEnv> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'rkt-fetch-'));
  const dir = path.join(root, 'data');
  const localConfig = path.join(root, 'local');
  const systemConfig = path.join(root, 'system');
  for (const d of [dir, localConfig, systemConfig]) await fs.mkdir(d, { recursive: true });
  const env: Record<string, string> = {};
  const argv = (args: string[]) => [RKT_BIN, `--dir=${dir}`, `--local-config=${localConfig}`, `--system-config=${systemConfig}`, ...args];
  return {
    root,
    dir,
    localConfig,
    systemConfig,
    env,
    async rkt(args, opts = {}) {
      const r = await execa('node', argv(args), { reject: false, env, input: opts.input ?? '', timeout: 120_000 });
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    },
    spawn: (args) => execa('node', argv(args), { reject: false, env, stdin: 'ignore' }),
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
  };
}

export interface TinyAci {
  name: string;
  labels?: Record<string, string>;
  dependencies?: Array<{ imageName: string; imageID?: string; labels?: Record<string, string> }>;
  /** Bytes of incompressible filler in rootfs/filler (for big, slow downloads). */
  fillerBytes?: number;
  gzip?: boolean;
}

/** Writes a small valid ACI to `file` with the real `rkt image build` (tests/harness/aci.ts). */
export async function writeTinyAci(file: string, spec: TinyAci): Promise<string> {
  const labels = Object.entries({ os: 'linux', arch: 'amd64', ...spec.labels }).map(([name, value]) => ({ name, value }));
  const manifestExtra: Record<string, unknown> = { labels };
  if (spec.dependencies) {
    manifestExtra['dependencies'] = spec.dependencies.map((d) => ({
      imageName: d.imageName,
      ...(d.imageID ? { imageID: d.imageID } : {}),
      labels: Object.entries(d.labels ?? {}).map(([name, value]) => ({ name, value })),
    }));
  }
  const files: Record<string, string | { content: Buffer; mode: number }> = { hello: `hello from ${spec.name}\n` };
  if (spec.fillerBytes) files['filler'] = { content: randomBytes(spec.fillerBytes), mode: 0o644 };
  const dir = await makeAciDir({ name: spec.name, exec: ['/bin/true'], files, manifestExtra, parent: path.dirname(file) });
  try {
    return await buildAci(dir, file, { compression: spec.gzip ? 'gzip' : 'none' });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
