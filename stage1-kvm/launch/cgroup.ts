// QEMU's own cgroup: one directory per hierarchy (cgroup v2, or the v1 controllers that account a VM),
// under the cgroup rkt runs in. It lets gc find and kill every QEMU thread and makes its usage visible.
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../common/errors.js';

const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'unified', 'systemd'];

/** Parses /proc/self/cgroup into hierarchy key ("" for v2, else the controller list or name=...) -> path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^[0-9]+:([^:]*):(.*)$/.exec(line);
    if (m) out.set(m[1] ?? '', m[2] ?? '/');
  }
  return out;
}

/** The cgroup directories to create for the pod's QEMU, given the mounts under `root` (/sys/fs/cgroup). */
export async function qemuCgroupDirs(uuid: string, root = '/sys/fs/cgroup', procCgroup?: string): Promise<string[]> {
  const own = parseProcCgroup(procCgroup ?? (await fs.readFile('/proc/self/cgroup', 'utf8')));
  const leaf = `rkt-kvm-${uuid}`;
  const exists = async (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);
  if (await exists(path.join(root, 'cgroup.controllers'))) {
    return [path.join(root, own.get('') ?? '/', leaf)];
  }
  const dirs: string[] = [];
  for (const c of V1_CONTROLLERS) {
    const mount = path.join(root, c);
    if (!(await exists(path.join(mount, 'cgroup.procs')))) continue;
    let rel = '/';
    if (c === 'unified') rel = own.get('') ?? '/';
    else if (c === 'systemd') rel = own.get('name=systemd') ?? '/';
    else for (const [k, v] of own) if (k.split(',').includes(c)) rel = v;
    dirs.push(path.join(mount, rel, leaf));
  }
  return dirs;
}

export async function createCgroups(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) await fs.mkdir(d, { recursive: true });
}

/** Kills whatever is left in the cgroups (SIGKILL) and removes them; idempotent. */
export async function destroyCgroups(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    let pids: string[] = [];
    try {
      pids = (await fs.readFile(path.join(d, 'cgroup.procs'), 'utf8')).split('\n').filter((s) => /^[0-9]+$/.test(s));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    let left = 0;
    for (const d of dirs) {
      try {
        await fs.rmdir(d);
      } catch (err) {
        const code = errnoCode(err);
        if (code !== 'ENOENT') left++;
      }
    }
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
