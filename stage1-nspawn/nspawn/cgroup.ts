// A cgroup of its own for each pod when nspawn does not register with machined: nspawn (--keep-unit)
// nests the pod's systemd in "<own cgroup>/payload", so two pods started from the same cgroup would share
// one tree and one pod's systemd could move or kill the other's processes. The run entrypoint moves itself
// into "<own cgroup>/rkt-<uuid>" before the exec; gc removes that tree.
import fs from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../common/errors.js';
import type { CgroupLayout } from './host.js';

/** The hierarchies nspawn uses on this layout: mount point + the line of /proc/self/cgroup naming our place. */
function hierarchies(layout: CgroupLayout): { mount: string; match: (line: string) => string | undefined }[] {
  const unified = (l: string): string | undefined => (l.startsWith('0::') ? l.slice(3) : undefined);
  const named = (l: string): string | undefined => {
    const m = /^[0-9]+:name=systemd:(.*)$/.exec(l);
    return m ? m[1] : undefined;
  };
  if (layout === 'unified') return [{ mount: '/sys/fs/cgroup', match: unified }];
  if (layout === 'hybrid') return [{ mount: '/sys/fs/cgroup/unified', match: unified }, { mount: '/sys/fs/cgroup/systemd', match: named }];
  return [{ mount: '/sys/fs/cgroup/systemd', match: named }];
}

export interface PodCgroup {
  /** Absolute directories (one per hierarchy) of the pod's cgroup. */
  dirs: string[];
}

/** Creates the pod's cgroup under our current one in every hierarchy nspawn uses and moves this process in. */
export async function enterPodCgroup(layout: CgroupLayout, uuid: string): Promise<PodCgroup> {
  const self = (await fs.readFile('/proc/self/cgroup', 'utf8')).split('\n');
  const dirs: string[] = [];
  for (const h of hierarchies(layout)) {
    const current = self.map(h.match).find((x) => x !== undefined);
    if (current === undefined) continue;
    const dir = path.join(h.mount, current, `rkt-${uuid}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'cgroup.procs'), `${process.pid}\n`);
    dirs.push(dir);
  }
  return { dirs };
}

async function killAll(dir: string): Promise<void> {
  const procs = await fs.readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const pid of procs.split('\n').filter((l) => /^[0-9]+$/.test(l))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Removes a cgroup tree bottom-up, killing what is left in it; missing directories are fine (idempotent). */
export async function removeCgroupTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await removeCgroupTree(path.join(dir, e.name));
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 20) throw err;
      await killAll(dir);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
