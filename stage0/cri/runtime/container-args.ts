// A CRI ContainerConfig as `rkt app add` flags. What rkt cannot do is refused here, by name, before any
// change to the pod; what it does differently is in docs/cri.md.
import { DEFAULT_APP_CAPABILITIES } from '../../../common/appc/default-capabilities.js';
import { invalidArgument } from '../errors.js';
import type { ContainerConfig, Int64, LinuxContainerResources, Mount } from '../messages.js';

/** An appc app name for the container: kubelet's name plus attempt (lowercase, digits and dashes). */
export function appNameFor(name: string, attempt: number): string {
  const base = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'container';
  return `${base}-${attempt}`;
}

const int = (v: Int64): number => Number(v);

function capName(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
}

/** The image argument: a store id (what PullImage returned) as it is, a registry reference as docker://. */
export function imageArgument(image: string): string {
  if (/^sha512-[0-9a-f]+$/.test(image)) return image;
  if (image.includes('://')) throw invalidArgument(`image "${image}": give a registry reference (host/repo:tag) or an image id`);
  return `docker://${image}`;
}

/**
 * Each host mount becomes a volume the pod gains with the app (--mnt-volume), named after the app. Mount
 * propagation other than private is refused: the pod's copy of a volume receives nothing from the host once
 * bound, and nothing the pod mounts reaches the host.
 */
export function mountArgs(app: string, mounts: readonly Mount[]): string[] {
  return mounts.map((m, i) => {
    if (!m.container_path.startsWith('/') || !m.host_path.startsWith('/')) {
      throw invalidArgument(`mount ${m.host_path} -> ${m.container_path}: both paths must be absolute`);
    }
    if ([m.container_path, m.host_path].some((p) => p.includes(','))) {
      throw invalidArgument(`mount ${m.host_path} -> ${m.container_path}: paths with a comma are not supported`);
    }
    if (m.propagation !== '' && m.propagation !== 'PROPAGATION_PRIVATE') {
      throw invalidArgument(`mount ${m.container_path}: propagation ${m.propagation} is not supported (only private)`);
    }
    return `--mnt-volume=name=${app}-m${i},kind=host,source=${m.host_path},target=${m.container_path},readOnly=${m.readonly}`;
  });
}

/** The limits rkt sets from the CRI's Linux resources (CreateContainer and UpdateContainerResources alike); 0 is "none". */
export function resourceLimits(r: LinuxContainerResources): { memoryBytes?: number; cpuMillis?: number; cpuShares?: number } {
  const out: { memoryBytes?: number; cpuMillis?: number; cpuShares?: number } = {};
  if (int(r.memory_limit_in_bytes) > 0) out.memoryBytes = int(r.memory_limit_in_bytes);
  if (int(r.cpu_quota) > 0 && int(r.cpu_period) > 0) out.cpuMillis = Math.max(1, Math.ceil((int(r.cpu_quota) * 1000) / int(r.cpu_period)));
  if (int(r.cpu_shares) > 0) out.cpuShares = int(r.cpu_shares);
  return out;
}

export function containerAddArgs(uuid: string, app: string, cfg: ContainerConfig, annotation: string): string[] {
  const image = cfg.image?.image ?? '';
  if (image === '') throw invalidArgument('ContainerConfig.image.image is empty');
  if (cfg.tty) throw invalidArgument('tty containers are not supported: apps have no terminal (stdin without tty is)');
  const args = ['app', 'add', uuid, imageArgument(image), '--pull-policy=never', `--name=${app}`];
  if (cfg.stdin) args.push('--stdin=stream', ...(cfg.stdin_once ? ['--stdin-once'] : []));
  const sc = cfg.linux?.security_context;
  if (sc?.privileged) throw invalidArgument('privileged containers are not supported: rkt apps always run with a bounded capability set');
  if (cfg.command.length > 0) args.push(`--exec=${cfg.command[0]}`);
  if (cfg.working_dir !== '') args.push(`--working-dir=${cfg.working_dir}`);
  for (const e of cfg.envs) args.push(`--environment=${e.key}=${typeof e.value === 'string' ? e.value : e.value.toString('utf8')}`);
  if (sc) {
    if (sc.run_as_username !== '') args.push(`--user=${sc.run_as_username}`);
    else if (sc.run_as_user !== null) args.push(`--user=${int(sc.run_as_user.value)}`);
    if (sc.run_as_group !== null) args.push(`--group=${int(sc.run_as_group.value)}`);
    if (sc.supplemental_groups.length > 0) args.push(`--supplementary-gids=${sc.supplemental_groups.map(int).join(',')}`);
    if (sc.readonly_rootfs) args.push('--readonly-rootfs=true');
    if (sc.seccomp?.profile_type === 'Localhost') throw invalidArgument('Localhost seccomp profiles are not supported (RuntimeDefault and Unconfined are)');
    const add = (sc.capabilities?.add_capabilities ?? []).map(capName);
    const drop = (sc.capabilities?.drop_capabilities ?? []).map(capName);
    if (add.includes('CAP_ALL')) throw invalidArgument('capabilities add ALL is not supported: name the capabilities');
    if (add.length > 0 || drop.length > 0) {
      const base = drop.includes('CAP_ALL') ? [] : DEFAULT_APP_CAPABILITIES.filter((c) => !drop.includes(c));
      const set = [...new Set([...base, ...add])];
      // An empty retain set is refused by rkt; the smallest set it takes keeps one harmless capability.
      args.push(`--caps-retain=${(set.length > 0 ? set : ['CAP_AUDIT_WRITE']).join(',')}`);
    }
  }
  const r = cfg.linux?.resources;
  if (r) {
    const l = resourceLimits(r);
    if (l.memoryBytes !== undefined) args.push(`--memory=${l.memoryBytes}`);
    if (l.cpuMillis !== undefined) args.push(`--cpu=${l.cpuMillis}m`);
    if (l.cpuShares !== undefined) args.push(`--cpu-shares=${l.cpuShares}`);
    if (int(r.oom_score_adj) !== 0) args.push(`--oom-score-adj=${int(r.oom_score_adj)}`);
  }
  args.push(...mountArgs(app, cfg.mounts));
  args.push(`--annotation=${annotation}`);
  const imageArgs = [...cfg.command.slice(1), ...cfg.args];
  if (imageArgs.length > 0) args.push('--', ...imageArgs, '---');
  return args;
}
