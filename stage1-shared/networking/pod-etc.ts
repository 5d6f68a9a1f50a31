// Which /etc/resolv.conf, /etc/hosts and /etc/hostname a pod's apps get (per --dns-conf-mode and the DNS
// the CNI plugins returned): files to write into the pod root and read-only binds onto each app's /etc.
// Flavor-neutral; a VM stage1 writes the files into the guest's tree, a container stage1 into its root.
import fs, { readFile } from 'node:fs/promises';
import { errnoCode } from '../../common/errors.js';
import { stage0HostsPath, stage0ResolvConfPath, stage1RootfsPath } from '../../common/pod-layout.js';
import type { DnsConfMode } from '../../common/stage1-contract.js';
import { readFileInRoot, replaceFileInRoot } from '../../common/in-root.js';
import type { CniDns } from './cni-result.js';
import { renderHosts, renderResolvConf } from './dns.js';

/** A file to create in the pod root (absolute path as seen inside the pod root). */
export interface PodEtcFile { path: string; content: string }
/** A read-only bind: `source` in the pod root onto `target` in the app. */
export interface PodEtcBind { source: string; target: string }

export interface PodEtcPlan {
  files: PodEtcFile[];
  /** Binds every app gets. */
  binds: PodEtcBind[];
  /** /etc/hosts for apps whose image has none (the default hosts mode). */
  hostsFallback?: PodEtcBind;
}

/** What writePodEtc hands to each app's unit (see appEtcBinds). */
export interface PodEtcBinds { binds: PodEtcBind[]; hostsFallback?: PodEtcBind }

export interface PodEtcInput {
  mode: DnsConfMode;
  hostname: string;
  /** The pod shares the host's network (nspawn --net=host): resolv.conf defaults to the host's. */
  hostNetwork: boolean;
  /** DNS from the CNI results (used in the default resolv mode). */
  cniDns?: CniDns;
  /** Whether stage0 wrote /etc/rkt-resolv.conf and /etc/rkt-hosts (the `stage0` modes). */
  stage0Resolv: boolean;
  stage0Hosts: boolean;
  /** The host's files, for the `host` modes (undefined when the host has none). */
  hostResolvConf?: string | undefined;
  hostHosts?: string | undefined;
}

export const POD_RESOLV_CONF = '/etc/rkt-resolv.conf';
export const POD_HOSTS = '/etc/rkt-hosts';
export const POD_HOSTS_FALLBACK = '/etc/rkt-hosts-fallback';

function hasDns(d: CniDns | undefined): d is CniDns {
  return d !== undefined && (d.nameservers.length > 0 || d.search.length > 0 || d.domain !== undefined);
}

/** Decides the pod's name-resolution files (pure). */
export function planPodEtc(o: PodEtcInput): PodEtcPlan {
  const files: PodEtcFile[] = [];
  const binds: PodEtcBind[] = [{ source: '/etc/hostname', target: '/etc/hostname' }];
  const resolvFrom = (content: string | undefined): void => {
    if (content === undefined) return;
    files.push({ path: POD_RESOLV_CONF, content });
    binds.push({ source: POD_RESOLV_CONF, target: '/etc/resolv.conf' });
  };
  switch (o.mode.resolv) {
    case 'stage0':
      if (o.stage0Resolv) binds.push({ source: POD_RESOLV_CONF, target: '/etc/resolv.conf' });
      break;
    case 'host':
      resolvFrom(o.hostResolvConf);
      break;
    case 'default':
      // rkt's default: what the plugins returned; on the host's network, the host's file.
      if (hasDns(o.cniDns)) resolvFrom(renderResolvConf(o.cniDns));
      else if (o.hostNetwork) resolvFrom(o.hostResolvConf);
      break;
    case 'none':
      break; // the image's own file
  }
  if (o.mode.hosts === 'stage0') {
    if (o.stage0Hosts) binds.push({ source: POD_HOSTS, target: '/etc/hosts' });
    return { files, binds };
  }
  if (o.mode.hosts === 'host') {
    files.push({ path: POD_HOSTS, content: o.hostHosts ?? renderHosts({ hostname: o.hostname }) });
    binds.push({ source: POD_HOSTS, target: '/etc/hosts' });
    return { files, binds };
  }
  files.push({ path: POD_HOSTS_FALLBACK, content: renderHosts({ hostname: o.hostname }) });
  return { files, binds, hostsFallback: { source: POD_HOSTS_FALLBACK, target: '/etc/hosts' } };
}

/** Reads a host file; undefined when it does not exist. */
export async function readHostEtcFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Plans and writes the pod's name-resolution files into its stage1 root (the container's root, or the
 * VM's 9p root); returns the binds every app gets and the hosts fallback for images without /etc/hosts.
 */
export async function writePodEtc(
  podDir: string, o: { mode: DnsConfMode | undefined; hostname: string; hostNetwork: boolean; cniDns: CniDns | undefined },
): Promise<PodEtcBinds> {
  const root = stage1RootfsPath(podDir);
  const mode = o.mode ?? { resolv: 'default', hosts: 'default' };
  const exists = async (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);
  const plan = planPodEtc({
    mode, hostname: o.hostname, hostNetwork: o.hostNetwork, ...(o.cniDns !== undefined ? { cniDns: o.cniDns } : {}),
    stage0Resolv: await exists(stage0ResolvConfPath(podDir)), stage0Hosts: await exists(stage0HostsPath(podDir)),
    hostResolvConf: mode.resolv === 'host' || (mode.resolv === 'default' && o.hostNetwork) ? await readHostEtcFile('/etc/resolv.conf') : undefined,
    hostHosts: mode.hosts === 'host' ? await readHostEtcFile('/etc/hosts') : undefined,
  });
  for (const f of plan.files) await replaceFileInRoot(root, f.path, f.content);
  return plan.hostsFallback === undefined ? { binds: plan.binds } : { binds: plan.binds, hostsFallback: plan.hostsFallback };
}

/** One app's binds: the pod's, plus the fallback /etc/hosts when its image ships none of its own. */
export async function appEtcBinds(etc: PodEtcBinds, appRootfs: string): Promise<PodEtcBind[]> {
  if (etc.hostsFallback === undefined || (await readFileInRoot(appRootfs, '/etc/hosts')) !== undefined) return [...etc.binds];
  return [...etc.binds, etc.hostsFallback];
}
