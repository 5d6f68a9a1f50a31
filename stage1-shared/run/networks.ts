// The pod's networks for the run pipeline: CNI setup with the pod lock kept from the plugins, and its
// rollback when a later step fails (nothing else would release the netns, veths, leases and port rules).
// The CNI code is loaded only for pods that use it: host-network pods start without it.
import type { PodManifest, Port } from '../../common/appc/index.js';
import type { RunArgs } from '../../common/stage1-contract.js';
import { debugLog } from '../entrypoint.js';
import type { PodNetworks } from '../networking/setup.js';
import { withLockCloexec } from './lock-fd.js';

/**
 * host: the pod shares the host's network (nothing to set up); cni: a netns with the CNI networks of --net;
 * none: neither (a VM's own, unconnected network stack).
 */
export type NetworkPlan = 'host' | 'cni' | 'none';

export const NO_NETWORKS: PodNetworks = { netnsPath: undefined, netInfo: [], cniDns: { nameservers: [], search: [], options: [] } };

export async function setupNetworks(
  podDir: string, args: RunArgs, pod: PodManifest, appPorts: readonly Port[], lockFd: number,
): Promise<PodNetworks> {
  const { resolvePortForwards, setupPodNetworks } = await import('../networking/index.js');
  const ports = resolvePortForwards(pod.ports, appPorts);
  return withLockCloexec(lockFd, () => setupPodNetworks({
    podDir, uuid: args.uuid, net: args.net, ports,
    ...(args.localConfig !== undefined ? { localConfigDir: args.localConfig } : {}),
  }));
}

/** A teardown error must not hide the failure that made the run give up. */
export async function rollbackNetworks(podDir: string, lockFd: number, debug: boolean): Promise<void> {
  try {
    const { teardownPodNetworks } = await import('../networking/index.js');
    await withLockCloexec(lockFd, () => teardownPodNetworks(podDir));
  } catch (err) {
    debugLog(debug, `network teardown after a failed start: ${String(err)}`);
  }
}
