// Shared by the nspawn functional tests: whether they can run here (root, systemd-nspawn, the built
// stage1 image), a pod harness that uses the real nspawn stage1, and small readers of a pod's leftovers.
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePodHarness, type PodHarness } from '../harness/pod.js';

/** dist/tests/functional/x.js -> dist/stage1-images/stage1-nspawn.aci */
export function nspawnStage1Aci(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../stage1-images/stage1-nspawn.aci');
}

/** A reason to skip, or false when the nspawn tests can run. */
export function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!fs.existsSync(nspawnStage1Aci())) return 'stage1-nspawn.aci not built (bash scripts/build-stage1-images.sh nspawn)';
  if (!['/usr/bin/systemd-nspawn', '/bin/systemd-nspawn'].some((p) => fs.existsSync(p))) return 'systemd-nspawn not installed';
  return false;
}

export interface NspawnHarness extends PodHarness {
  /** `rkt run --stage1-path=<nspawn aci> --uuid-file-save=... <args>`; resolves with the result and the uuid. */
  runPod(args: readonly string[], opts?: { timeoutMs?: number; globals?: string[] }): Promise<{ exitCode: number; stdout: string; stderr: string; uuid: string }>;
  /** Starts a pod that keeps running; resolves once `rkt status --wait-ready` says it is ready. */
  startPod(args: readonly string[]): Promise<{ uuid: string; done: Promise<{ exitCode: number; stdout: string }> }>;
  /** The pod's dir in whichever state it is. */
  findPodDir(uuid: string): string;
  /**
   * Force-stops pods still running, garbage-collects every pod (the stage1 gc), then removes the dirs.
   * Killing `rkt run` (nspawn) itself would orphan the pod's systemd, so never rely on that.
   */
  teardown(): Promise<void>;
}

let seq = 0;

export interface Stage1HarnessOptions {
  /** Temp dir prefix. */
  prefix: string;
  /** The stage1 ACI every pod runs with. */
  aci: string;
  /** Default limit for a whole `rkt run`. */
  runTimeoutMs: number;
  /** `rkt status --wait-ready=` limit for startPod. */
  readyTimeout: string;
}

export async function makeNspawnHarness(): Promise<NspawnHarness> {
  return makeStage1Harness({ prefix: 'rkt-nspawn-', aci: nspawnStage1Aci(), runTimeoutMs: 120_000, readyTimeout: '60s' });
}

/** The pod harness for one stage1; the kvm tests use it with the kvm stage1 image. */
export async function makeStage1Harness(o: Stage1HarnessOptions): Promise<NspawnHarness> {
  const h = await makePodHarness(o.prefix);
  const stage1 = `--stage1-path=${o.aci}`;
  const uuidFile = (): string => path.join(h.dirs.root, `uuid-${++seq}`);
  const readUuid = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : '');
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const running: { uuid: string; done: Promise<unknown> }[] = [];
  const self: NspawnHarness = Object.assign(Object.create(null) as object, h, {
    async runPod(args: readonly string[], opts: { timeoutMs?: number; globals?: string[] } = {}) {
      const f = uuidFile();
      const r = await h.rkt([...(opts.globals ?? []), 'run', stage1, `--uuid-file-save=${f}`, ...args], { timeoutMs: opts.timeoutMs ?? o.runTimeoutMs });
      return { ...r, uuid: fs.existsSync(f) ? readUuid(f) : '' };
    },
    async startPod(args: readonly string[]) {
      const f = uuidFile();
      const child = h.spawn(['run', stage1, `--uuid-file-save=${f}`, ...args]);
      const done = child.then((r) => ({ exitCode: r.exitCode ?? 254, stdout: String(r.stdout) }));
      // rkt writes the file after creating it: wait for a whole uuid
      for (let i = 0; i < 600 && !UUID.test(readUuid(f)); i++) await new Promise((r) => setTimeout(r, 100));
      const uuid = readUuid(f);
      if (!UUID.test(uuid)) throw new Error('pod did not get a uuid');
      running.push({ uuid, done });
      const ready = await h.rkt(['status', `--wait-ready=${o.readyTimeout}`, uuid]);
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
      // pods whose start was cut short by a failed assertion are still in run/
      const runDir = path.join(h.dirs.dir, 'pods', 'run');
      for (const uuid of fs.existsSync(runDir) ? fs.readdirSync(runDir) : []) await h.rkt(['stop', '--force', uuid]);
      await new Promise((r) => setTimeout(r, 500));
      await h.rkt(['gc', '--grace-period=0s']);
      await h.cleanup();
    },
  });
  return self;
}

/** Entries of the pod's persistent journal, read with the host's journalctl (no machined needed). */
export async function journalMessages(podDir: string, uuid: string, identifier?: string): Promise<string[]> {
  const dir = path.join(podDir, 'stage1', 'rootfs', 'var', 'log', 'journal', uuid.replace(/-/g, ''));
  const args = ['-D', dir, '--no-pager', '-o', 'cat', ...(identifier ? ['-t', identifier] : [])];
  const r = await execa('journalctl', args, { reject: false });
  return String(r.stdout).split('\n');
}

/** Mount points at or below `dir` in this mount namespace. */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Processes whose root directory is inside `dir`. */
export function processesIn(dir: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n))) {
    try {
      const root = fs.readlinkSync(`/proc/${p}/root`);
      if (root === dir || root.startsWith(`${dir}/`)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

/** Host cgroup directories named after the pod (the stage1 creates `rkt-<uuid>` in each hierarchy). */
export function podCgroups(uuid: string): string[] {
  return ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup']
    .filter((d) => fs.existsSync(d))
    .flatMap((d) => fs.readdirSync(d).filter((n) => n === `rkt-${uuid}`).map((n) => path.join(d, n)));
}

/** PIDs of the pod's own processes (nspawn's "payload" cgroup below the pod's cgroup; nspawn itself excluded). */
export function podPayloadProcesses(uuid: string): number[] {
  const out: number[] = [];
  const walk = (dir: string): void => {
    const procs = path.join(dir, 'cgroup.procs');
    if (fs.existsSync(procs)) for (const l of fs.readFileSync(procs, 'utf8').split('\n')) if (/^[0-9]+$/.test(l)) out.push(Number(l));
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  const cg = podCgroups(uuid)[0];
  if (cg !== undefined && fs.existsSync(path.join(cg, 'payload'))) walk(path.join(cg, 'payload'));
  return out;
}
