// PodHarness: a private rkt data/config dir set, test app images (busybox ACIs packed with tar), the stub
// stage1 ACI, the real rkt CLI, and a cleanup that unmounts and removes everything the pods left.
import { execa } from 'execa';
import fs from 'node:fs/promises';
import path from 'node:path';
import { makeAciDir, rktBin, runRkt, tempRktDirs, type RktDirs, type RunOptions, type RunResult } from './aci.js';
import { buildStubStage1, type StubOptions } from '../stub-stage1/build.js';

export interface PodHarness {
  readonly dirs: RktDirs;
  /** The stub stage1 ACI (built once per harness). */
  readonly stubAci: string;
  /** Global flags + `--insecure-options=image` (test images are unsigned). */
  rkt(args: readonly string[], opts?: Omit<RunOptions, 'dirs' | 'dir'>): Promise<RunResult>;
  /** Flags selecting the stub stage1. */
  stage1Flags(): string[];
  /** A busybox ACI named `example.com/<name>` running `exec`; returns its path. */
  image(name: string, exec: string[], extra?: { files?: Record<string, string>; manifestExtra?: Record<string, unknown> }): Promise<string>;
  /** Another stub stage1 variant. */
  stubVariant(name: string, opts: StubOptions): Promise<string>;
  /** Spawns rkt without waiting (for pods that keep running). */
  spawn(args: readonly string[]): ReturnType<typeof execa>;
  podDir(state: string, uuid: string): string;
  cleanup(): Promise<void>;
}

async function mountsUnder(root: string): Promise<string[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .map((m) => m.replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === root || m.startsWith(root + '/'))
    .sort((a, b) => b.length - a.length);
}

/** SIGKILLs every process whose root or cwd lies under `root` (what a test's pods left running). */
export async function killProcessesUnder(root: string): Promise<number> {
  let killed = 0;
  for (const pid of await fs.readdir('/proc')) {
    if (!/^[0-9]+$/.test(pid) || Number(pid) === process.pid) continue;
    for (const link of ['root', 'cwd']) {
      const target = await fs.readlink(`/proc/${pid}/${link}`).catch(() => '');
      if (target === root || target.startsWith(root + '/')) {
        try {
          process.kill(Number(pid), 'SIGKILL');
          killed++;
        } catch {
          // already gone
        }
        break;
      }
    }
  }
  return killed;
}

export async function makePodHarness(prefix = 'rkt-pod-'): Promise<PodHarness> {
  const dirs = await tempRktDirs(prefix);
  const scratch = path.join(dirs.root, 'scratch');
  const stubAci = await buildStubStage1(scratch, path.join(scratch, 'stub-stage1.aci'));
  const children: ReturnType<typeof execa>[] = [];
  const globals = (): string[] => [...dirs.globalArgs(), '--insecure-options=image'];
  return {
    dirs,
    stubAci,
    rkt(args, opts = {}) {
      return runRkt(['--insecure-options=image', ...args], { ...opts, dirs });
    },
    stage1Flags() {
      return [`--stage1-path=${stubAci}`];
    },
    async image(name, exec, extra = {}) {
      const dir = await makeAciDir({
        name: `example.com/${name}`,
        version: '1.0.0',
        exec,
        busybox: true,
        parent: scratch,
        ...(extra.files ? { files: extra.files } : {}),
        ...(extra.manifestExtra ? { manifestExtra: extra.manifestExtra } : {}),
      });
      const out = path.join(scratch, `${name}.aci`);
      await execa('tar', ['-C', dir, '-cf', out, 'manifest', 'rootfs']);
      await fs.rm(dir, { recursive: true, force: true });
      return out;
    },
    async stubVariant(name, opts) {
      return buildStubStage1(scratch, path.join(scratch, `${name}.aci`), opts);
    },
    spawn(args) {
      const c = execa(process.execPath, [rktBin(), ...globals(), ...args], { reject: false, stdin: 'ignore' });
      children.push(c);
      return c;
    },
    podDir(state, uuid) {
      return path.join(dirs.dir, 'pods', state, uuid);
    },
    async cleanup() {
      // Stop running pods through their stage1 first: killing only the stage1 process can leave the
      // pod's own init (and its apps) behind. Then kill whatever still holds pipes or the pod lock.
      const running = await fs.readdir(path.join(dirs.dir, 'pods', 'run')).catch(() => [] as string[]);
      for (const uuid of running) {
        await runRkt(['--insecure-options=image', 'stop', '--force', uuid], { dirs, timeoutMs: 60_000 }).catch(() => undefined);
      }
      await killProcessesUnder(dirs.root);
      // gc runs each stage1's gc entrypoint, which tears down what lives outside the pod dir
      // (network namespaces, nft tables, cgroups); removing the dir alone would leak them.
      await runRkt(['--insecure-options=image', 'gc', '--grace-period=0s', '--expire-prepared=0s'], { dirs, timeoutMs: 120_000 }).catch(() => undefined);
      for (const c of children) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
      await Promise.allSettled(children);
      for (const m of await mountsUnder(dirs.root)) {
        const r = await execa('umount', [m], { reject: false });
        if (r.exitCode !== 0) await execa('umount', ['-l', m], { reject: false });
      }
      await dirs.cleanup();
    },
  };
}
