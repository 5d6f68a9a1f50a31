// Mounts under a pod dir: overlayfs for the stage1 and app trees, and the teardown that gc/rm/failed
// prepare use (read /proc/self/mountinfo, unmount everything below the pod dir, deepest first).
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { RktError } from '../../common/errors.js';
import { isMountPoint, readMounts } from '../../common/mountinfo.js';
import { escapeOverlayPath, lowerdirOption } from '../../common/overlay-options.js';

export interface OverlayLayer {
  /** Mount point (absolute). */
  target: string;
  /** Lower dirs, upper first (overlayfs lowerdir order). */
  lowers: readonly string[];
  upper: string;
  work: string;
}

/** Mount points at or below `dir`, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const root = path.resolve(dir);
  const all = (await readMounts()).map((m) => m.target);
  const under = all.filter((m) => m === root || m.startsWith(root + '/'));
  // Longest path first; a path mounted twice appears twice and is unmounted twice.
  return under.sort((a, b) => b.length - a.length);
}

export async function mountOverlay(l: OverlayLayer): Promise<void> {
  await fs.mkdir(l.upper, { recursive: true });
  await fs.mkdir(l.work, { recursive: true });
  await fs.mkdir(l.target, { recursive: true });
  const opts = `${lowerdirOption(l.lowers)},upperdir=${escapeOverlayPath(l.upper)},workdir=${escapeOverlayPath(l.work)}`;
  const r = await execa('mount', ['-t', 'overlay', 'overlay', '-o', opts, l.target], { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) {
    throw new RktError('SUBPROCESS', `cannot mount overlay on ${l.target}: mount exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim()}`, {
      hint: 'the data dir must be on a filesystem overlayfs accepts as upper (ext4, xfs, tmpfs); or use --no-overlay',
    });
  }
}

/** Unmounts everything at or below `dir`, deepest first; lazily when busy. Returns what could not be unmounted. */
export async function unmountAllUnder(dir: string): Promise<string[]> {
  const failed: string[] = [];
  for (const m of await mountsUnder(dir)) {
    const r = await execa('umount', [m], { reject: false, stdin: 'ignore' });
    if (r.exitCode === 0) continue;
    const lazy = await execa('umount', ['-l', m], { reject: false, stdin: 'ignore' });
    if (lazy.exitCode !== 0 && (await isMountPoint(m))) failed.push(m);
  }
  return failed;
}

async function mountCmd(args: readonly string[], target: string, what: string): Promise<void> {
  const r = await execa('mount', [...args, target], { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) {
    throw new RktError('SUBPROCESS', `cannot mount ${what} on ${target}: mount exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim()}`);
  }
}

/**
 * A read-only overlay of `layers` (upper first, all as lower dirs): no upper or work dir, so it writes
 * nothing and may sit beside another overlay that uses the first layer as its upper dir.
 */
export async function mountReadOnlyOverlay(target: string, layers: readonly string[]): Promise<void> {
  await mountCmd(['-t', 'overlay', 'overlay', '-o', `ro,${lowerdirOption(layers)}`], target, 'a read-only overlay');
}

/** A read-only bind of `source` alone: what is mounted below it is not part of the view. */
export async function bindReadOnly(source: string, target: string): Promise<void> {
  await mountCmd(['--bind', source], target, `a bind of ${source}`);
  try {
    await mountCmd(['-o', 'remount,bind,ro', target], target, 'a read-only remount');
  } catch (err) {
    await unmountOne(target);
    throw err;
  }
}

/** Unmounts the mount at `target` (lazily when busy); false when it stays mounted. */
export async function unmountOne(target: string): Promise<boolean> {
  const r = await execa('umount', [target], { reject: false, stdin: 'ignore' });
  if (r.exitCode === 0) return true;
  const lazy = await execa('umount', ['-l', target], { reject: false, stdin: 'ignore' });
  return lazy.exitCode === 0;
}
