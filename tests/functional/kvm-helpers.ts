// Shared by the kvm functional tests: whether they can run here (root, QEMU, the built kvm stage1 image),
// and a pod harness with the same shape as the nspawn one, booting pods as QEMU micro-VMs (TCG here).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePodHarness } from '../harness/pod.js';
import type { NspawnHarness } from './nspawn-helpers.js';

export { journalMessages } from './nspawn-helpers.js';

/** dist/tests/functional/x.js -> dist/stage1-images/stage1-kvm.aci */
export function kvmStage1Aci(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../stage1-images/stage1-kvm.aci');
}

export function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!fs.existsSync(kvmStage1Aci())) return 'stage1-kvm.aci not built (bash scripts/build-stage1-images.sh kvm)';
  const qemu = (process.env['PATH'] ?? '/usr/bin').split(':').some((d) => fs.existsSync(path.join(d, 'qemu-system-x86_64')));
  if (!qemu) return 'qemu-system-x86_64 not installed';
  return false;
}

/** A pod harness whose pods run in the kvm stage1 (the nspawn harness's interface, plus global flags for run). */
export interface KvmHarness extends NspawnHarness {
  runPod(args: readonly string[], opts?: { timeoutMs?: number; globals?: string[] }): ReturnType<NspawnHarness['runPod']>;
}

let seq = 0;

export async function makeKvmHarness(): Promise<KvmHarness> {
  const h = await makePodHarness('rkt-kvm-');
  const stage1 = `--stage1-path=${kvmStage1Aci()}`;
  const uuidFile = (): string => path.join(h.dirs.root, `uuid-${++seq}`);
  const readUuid = (f: string): string => fs.readFileSync(f, 'utf8').trim();
  const running: { uuid: string; done: Promise<unknown> }[] = [];
  const self: KvmHarness = Object.assign(Object.create(null) as object, h, {
    async runPod(args: readonly string[], opts: { timeoutMs?: number; globals?: string[] } = {}) {
      const f = uuidFile();
      const r = await h.rkt([...(opts.globals ?? []), 'run', stage1, `--uuid-file-save=${f}`, ...args], { timeoutMs: opts.timeoutMs ?? 180_000 });
      return { ...r, uuid: fs.existsSync(f) ? readUuid(f) : '' };
    },
    async startPod(args: readonly string[]) {
      const f = uuidFile();
      const child = h.spawn(['run', stage1, `--uuid-file-save=${f}`, ...args]);
      const done = child.then((r) => ({ exitCode: r.exitCode ?? 254, stdout: String(r.stdout) }));
      for (let i = 0; i < 600 && !fs.existsSync(f); i++) await new Promise((r) => setTimeout(r, 100));
      if (!fs.existsSync(f)) throw new Error('pod did not get a uuid');
      const uuid = readUuid(f);
      running.push({ uuid, done });
      const ready = await h.rkt(['status', '--wait-ready=120s', uuid]);
      if (ready.exitCode !== 0) throw new Error(`pod ${uuid} not ready: ${ready.stderr}`);
      return { uuid, done };
    },
    findPodDir(uuid: string) {
      for (const state of ['run', 'exited-garbage', 'garbage', 'prepared']) {
        const d = h.podDir(state, uuid);
        if (fs.existsSync(d)) return d;
      }
      return h.podDir('run', uuid);
    },
    async teardown() {
      for (const p of running) {
        await h.rkt(['stop', '--force', p.uuid]);
        await Promise.race([p.done, new Promise((r) => setTimeout(r, 10_000))]);
      }
      await h.rkt(['gc', '--grace-period=0s']);
      await h.cleanup();
    },
  });
  return self;
}

/** QEMU processes of a pod (their command line names the machine rkt-<uuid>). */
export function qemuProcesses(uuid: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n))) {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      // argv[0] is QEMU itself (kvm-supervise's command line names QEMU's arguments too)
      if (path.basename(argv[0] ?? '').startsWith('qemu-system') && argv.some((a) => a.startsWith(`rkt-${uuid},`))) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

/** Host cgroups the kvm stage1 made for the pod's QEMU. */
export function qemuCgroups(uuid: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === `rkt-kvm-${uuid}`) out.push(p);
      else if (depth < 3) walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out;
}
