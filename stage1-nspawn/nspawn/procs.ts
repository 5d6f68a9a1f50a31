// The pod's processes as seen from the host: the nspawn process named in `ppid`, its single child (the
// pod's systemd), and any process whose root directory lies inside the pod tree.
import fs from 'node:fs/promises';
import { errnoCode } from '../../common/errors.js';
import { ppidPath } from '../../common/pod-layout.js';

export async function readPpid(podDir: string): Promise<number | undefined> {
  try {
    const text = (await fs.readFile(ppidPath(podDir), 'utf8')).trim();
    return /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export async function comm(pid: number): Promise<string | undefined> {
  return fs.readFile(`/proc/${pid}/comm`, 'utf8').then((s) => s.trim(), () => undefined);
}

/** The ppid's process if it is still our systemd-nspawn (a recycled PID is someone else's). */
export async function liveNspawn(podDir: string): Promise<number | undefined> {
  const pid = await readPpid(podDir);
  if (pid === undefined) return undefined;
  return (await comm(pid)) === 'systemd-nspawn' ? pid : undefined;
}

export async function childrenOf(pid: number): Promise<number[]> {
  const text = await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(/\s+/).filter((x) => /^[0-9]+$/.test(x)).map(Number);
}

/** PIDs whose root directory is `dir` or below it (processes living in the pod's tree). */
export async function processesRootedIn(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await fs.readdir('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const root = await fs.readlink(`/proc/${name}/root`).catch(() => undefined);
    if (root !== undefined && (root === dir || root.startsWith(`${dir}/`))) out.push(Number(name));
  }
  return out;
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!signal(pid, 0 as unknown as NodeJS.Signals)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !signal(pid, 0 as unknown as NodeJS.Signals);
}
