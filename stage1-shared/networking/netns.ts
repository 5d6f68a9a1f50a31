// Named network namespaces under /run/netns: create (with loopback up), check, delete; all idempotent.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { tool } from './sys.js';

export const NETNS_RUN_DIR = '/run/netns';

/** The namespace name of a pod: stable from its uuid, so teardown can always find it. */
export function podNetnsName(uuid: string): string {
  return `rkt-${uuid}`;
}

export function netnsPathOf(name: string): string {
  return path.join(NETNS_RUN_DIR, name);
}

export async function netnsExists(nsPath: string): Promise<boolean> {
  try {
    await access(nsPath);
    return true;
  } catch {
    return false;
  }
}

/** Creates /run/netns/<name> (iproute2 bind-mounts it) and brings lo up inside. */
export async function createNetns(name: string): Promise<string> {
  const p = netnsPathOf(name);
  if (!(await netnsExists(p))) await tool('ip', ['netns', 'add', name]);
  await tool('ip', ['link', 'set', 'lo', 'up'], { netns: p });
  return p;
}

/** Deletes a namespace by its /run/netns path; a missing one is fine. */
export async function deleteNetns(nsPath: string): Promise<void> {
  if (!(await netnsExists(nsPath))) return;
  if (path.dirname(nsPath) === NETNS_RUN_DIR) {
    await tool('ip', ['netns', 'delete', path.basename(nsPath)]);
    return;
  }
  // Not one of iproute2's: unmount the bind mount, then remove the file.
  await tool('umount', ['--lazy', nsPath], { check: false });
  await tool('rm', ['-f', '--', nsPath]);
}
