// Shared by the kvm functional tests: whether they can run here (root, QEMU, the built kvm stage1 image),
// and a pod harness with the same shape as the nspawn one, booting pods as QEMU micro-VMs (TCG here).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeStage1Harness, type NspawnHarness } from './nspawn-helpers.js';

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

/** A pod harness whose pods run in the kvm stage1 (the nspawn harness, with the kvm image and longer limits). */
export type KvmHarness = NspawnHarness;

export function makeKvmHarness(): Promise<KvmHarness> {
  return makeStage1Harness({ prefix: 'rkt-kvm-', aci: kvmStage1Aci(), runTimeoutMs: 180_000, readyTimeout: '120s' });
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
