// Test harness shared by the functional tests: temp rkt dirs, running the real CLI, and building test ACIs.
import { execa } from 'execa';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';

/** dist/tests/harness/aci.js -> dist/bin/rkt.js */
export function rktBin(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/rkt.js');
}

export interface RktDirs {
  /** Parent of everything below; also a scratch area for the test. */
  readonly root: string;
  readonly dir: string;
  readonly localConfig: string;
  readonly systemConfig: string;
  readonly userConfig: string;
  /** The global flags that point rkt at these dirs. */
  globalArgs(): string[];
  cleanup(): Promise<void>;
}

export async function tempRktDirs(prefix = 'rkt-test-'): Promise<RktDirs> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  const sub = (n: string): string => path.join(root, n);
  for (const n of ['data', 'local-config', 'system-config', 'user-config', 'scratch']) await mkdir(sub(n));
  const dirs = { dir: sub('data'), localConfig: sub('local-config'), systemConfig: sub('system-config'), userConfig: sub('user-config') };
  return {
    root,
    ...dirs,
    globalArgs() {
      return [`--dir=${dirs.dir}`, `--local-config=${dirs.localConfig}`, `--system-config=${dirs.systemConfig}`, `--user-config=${dirs.userConfig}`];
    },
    async cleanup() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Temp dirs from tempRktDirs(); their global flags go first. */
  dirs?: RktDirs;
  /** Just a --dir, when no config dirs are wanted. */
  dir?: string;
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `node dist/bin/rkt.js [global flags] ...args`; never throws on a non-zero exit. */
export async function runRkt(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const globals = opts.dirs ? opts.dirs.globalArgs() : opts.dir ? [`--dir=${opts.dir}`] : [];
  const r = await execa(process.execPath, [rktBin(), ...globals, ...args], {
    reject: false,
    env: opts.env ?? {},
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    timeout: opts.timeoutMs ?? 120_000,
    stripFinalNewline: false,
  });
  // a killed-by-timeout rkt prints nothing itself: say so, or the failure reads as a silent 254
  const stderr = r.timedOut ? `${String(r.stderr)}[test harness: rkt killed after ${opts.timeoutMs ?? 120_000} ms]` : String(r.stderr);
  return { exitCode: r.exitCode ?? 254, stdout: String(r.stdout), stderr };
}

/** Applets symlinked to busybox when `busybox: true`. */
export const BUSYBOX_APPLETS = [
  'sh', 'echo', 'sleep', 'cat', 'ls', 'id', 'true', 'false', 'env', 'grep', 'mkdir', 'rm', 'touch', 'printf',
  'test', 'hostname', 'ps', 'kill', 'mount', 'stat', 'wc', 'head', 'tail', 'sed', 'pwd', 'readlink', 'uname', 'whoami',
];

export interface AciDirOptions {
  name: string;
  version?: string;
  exec?: string[];
  /** Paths relative to the rootfs; string content is written with mode 0644. */
  files?: Record<string, string | { content: string | Buffer; mode: number }>;
  /** Copy /bin/busybox to /bin/busybox and link the common applets in /bin. */
  busybox?: boolean;
  /** Merged over the generated manifest (top-level keys replace). */
  manifestExtra?: Record<string, unknown>;
  /** Where to create the dir (a fresh temp dir when absent). */
  parent?: string;
}

export function aciManifest(opts: AciDirOptions): Record<string, unknown> {
  const labels = [
    ...(opts.version !== undefined ? [{ name: 'version', value: opts.version }] : []),
    { name: 'os', value: 'linux' },
    { name: 'arch', value: 'amd64' },
  ];
  const manifest: Record<string, unknown> = { acKind: 'ImageManifest', acVersion: '0.8.11', name: opts.name, labels };
  if (opts.exec) manifest['app'] = { exec: opts.exec, user: '0', group: '0' };
  return { ...manifest, ...(opts.manifestExtra ?? {}) };
}

/** Creates DIR/manifest and DIR/rootfs/ for `rkt image build`; returns DIR. */
export async function makeAciDir(opts: AciDirOptions): Promise<string> {
  const dir = await mkdtemp(path.join(opts.parent ?? os.tmpdir(), 'aci-'));
  const rootfs = path.join(dir, 'rootfs');
  await mkdir(rootfs, { mode: 0o755 });
  await chmod(rootfs, 0o755);
  await writeFile(path.join(dir, 'manifest'), JSON.stringify(aciManifest(opts), null, 2));
  if (opts.busybox) {
    await mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const a of BUSYBOX_APPLETS) await symlink('busybox', path.join(rootfs, 'bin', a));
  }
  for (const [rel, spec] of Object.entries(opts.files ?? {})) {
    const dest = path.join(rootfs, rel);
    await mkdir(path.dirname(dest), { recursive: true });
    const { content, mode } = typeof spec === 'string' ? { content: spec, mode: 0o644 } : spec;
    await writeFile(dest, content);
    await chmod(dest, mode);
  }
  return dir;
}

/** Builds DIR into OUT with the real `rkt image build`; throws with rkt's stderr when it fails. */
export async function buildAci(dir: string, out: string, opts: { compression?: 'none' | 'gzip' } = {}): Promise<string> {
  const args = ['image', 'build', '--overwrite', ...(opts.compression ? [`--compression=${opts.compression}`] : []), dir, out];
  const r = await runRkt(args);
  if (r.exitCode !== 0) throw new Error(`rkt image build failed (${r.exitCode}): ${r.stderr}`);
  return out;
}

export interface TarEntry {
  header: Partial<tar.Header> & { name: string };
  body?: string | Buffer;
}

/** A tar archive in memory, entries exactly as given (for malformed or hand-made ACIs). */
export async function makeTarBuffer(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.body !== undefined) pack.entry(e.header, e.body, cb);
      else pack.entry(e.header, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
