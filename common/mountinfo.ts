// The mount table as this process sees it (/proc/self/mountinfo): for stage0's teardown of pod mounts
// and the stage1s' checks of their own mounts.
import fs from 'node:fs/promises';
import path from 'node:path';

export interface MountEntry {
  /** Mount point, with mountinfo's octal escapes (\040 for a space...) decoded. */
  target: string;
  /** Per-mount options (ro/rw, nosuid...). */
  options: string[];
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Every mount, in mountinfo order (a later entry for the same target is mounted on top). */
export async function readMounts(): Promise<MountEntry[]> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 5 && f[4] !== undefined) out.push({ target: unescapeMountinfo(f[4]), options: (f[5] ?? '').split(',') });
  }
  return out;
}

/** Options of the topmost mount at exactly `dir`; undefined when nothing is mounted there. */
export async function mountOptionsAt(dir: string): Promise<string[] | undefined> {
  return (await readMounts()).filter((m) => m.target === dir).at(-1)?.options;
}

export async function isMountPoint(dir: string): Promise<boolean> {
  const target = path.resolve(dir);
  return (await readMounts()).some((m) => m.target === target);
}
