// Whether this host can enforce the apps' memory and cpu limits for a stage1 that puts them in the host's
// cgroup2 tree (ANNOTATION_HOST_CGROUP_LIMITS). systemd in the pod writes MemoryMax=/CPUQuota=/CPUShares=
// whatever the host offers, and without the controller the kernel has no file to apply them to: the app
// runs unlimited and nothing says so. This module finds out why, so prepare can say it once.
import fs from 'node:fs';
import path from 'node:path';
import { findIsolator, type ImageManifest, type Isolator, type PodManifest } from '../../common/appc/index.js';
import { ANNOTATION_HOST_CGROUP_LIMITS } from '../../common/stage1-contract.js';

export type LimitController = 'memory' | 'cpu';

export interface CgroupHost {
  /** Where the cgroup filesystems are mounted (/sys/fs/cgroup). */
  root: string;
  /** This process's /proc/self/cgroup. */
  selfCgroup: string;
  /**
   * systemd runs the host (/run/systemd/system): it gives a pod's scope or delegated unit every controller
   * the cgroup2 root has, so only the root counts. Without it the stage1 makes the pod's cgroup below rkt's
   * own, which then has to pass the controllers on itself.
   */
  systemdManaged: boolean;
}

export function readCgroupHost(): CgroupHost {
  let selfCgroup = '';
  try {
    selfCgroup = fs.readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    // no procfs: nothing to place the pod by; the root's controllers still decide
  }
  return { root: '/sys/fs/cgroup', selfCgroup, systemdManaged: fs.existsSync('/run/systemd/system') };
}

function words(file: string): string[] | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter((w) => w !== '');
  } catch {
    return undefined;
  }
}

/** Each wanted controller a pod on this host cannot have, with the reason in a few words. */
export function missingControllers(host: CgroupHost, wanted: ReadonlySet<LimitController>): Map<LimitController, string> {
  const missing = new Map<LimitController, string>();
  if (wanted.size === 0) return missing;
  // unified: cgroup2 at the root; hybrid: cgroup2 at unified/, the controllers on v1 beside it
  const mount = [host.root, path.join(host.root, 'unified')].find((d) => fs.existsSync(path.join(d, 'cgroup.controllers')));
  if (mount === undefined) {
    for (const c of wanted) missing.set(c, `no cgroup2 hierarchy is mounted at ${host.root} or ${path.join(host.root, 'unified')}`);
    return missing;
  }
  const rootControllers = words(path.join(mount, 'cgroup.controllers')) ?? [];
  const own = /^0::(\/.*)$/m.exec(host.selfCgroup)?.[1];
  const delegateFile = own === undefined ? undefined : path.join(mount, own, 'cgroup.subtree_control');
  const delegated = delegateFile === undefined ? undefined : words(delegateFile);
  for (const c of wanted) {
    if (!rootControllers.includes(c)) {
      const v1 = path.join(host.root, c);
      const elsewhere = mount !== host.root && fs.existsSync(v1) ? `; it is bound to the cgroup v1 hierarchy ${v1}` : '';
      missing.set(c, `${path.join(mount, 'cgroup.controllers')} does not list it${elsewhere}`);
    } else if (!host.systemdManaged && delegated !== undefined && !delegated.includes(c)) {
      missing.set(c, `it is not delegated below rkt's own cgroup, where the pod's goes (${delegateFile} does not list it)`);
    }
  }
  return missing;
}

/** Which controllers the limits need: resource/memory's limit needs memory; resource/cpu's and os/linux/cpu-shares cpu. */
export function wantedControllers(appIsolators: readonly (readonly Isolator[])[]): Set<LimitController> {
  const wanted = new Set<LimitController>();
  for (const isolators of appIsolators) {
    if (findIsolator(isolators, 'resource/memory')?.limit !== undefined) wanted.add('memory');
    if (findIsolator(isolators, 'resource/cpu')?.limit !== undefined || findIsolator(isolators, 'os/linux/cpu-shares') !== undefined) wanted.add('cpu');
  }
  return wanted;
}

/**
 * The isolators each app runs with, as the stage1 reads them: the pod's, then the runtime app's own, or the
 * image's where the pod manifest has no app section for it.
 */
export function effectiveIsolators(pod: PodManifest, images: ReadonlyMap<string, ImageManifest>): Isolator[][] {
  return pod.apps.map((a) => [...pod.isolators, ...((a.app ?? images.get(a.image.id)?.app)?.isolators ?? [])]);
}

/**
 * One warning line when `stage1` enforces limits in the host's cgroups and this host cannot give the pod the
 * controllers the apps' limits need; undefined otherwise.
 */
export function unenforceableLimitsWarning(
  stage1: ImageManifest, appIsolators: readonly (readonly Isolator[])[], host: CgroupHost = readCgroupHost(),
): string | undefined {
  if (stage1.annotations.find((a) => a.name === ANNOTATION_HOST_CGROUP_LIMITS)?.value !== 'true') return undefined;
  const missing = missingControllers(host, wantedControllers(appIsolators));
  if (missing.size === 0) return undefined;
  const why = [...missing].map(([c, reason]) => `no ${c} controller: ${reason}`).join('; ');
  return `warning: the apps' ${[...missing.keys()].join(' and ')} limits cannot be enforced on this host and will not apply (${why})`;
}
