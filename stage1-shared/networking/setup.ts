// Sets up a pod's networking: netns, CNI ADD per network (eth0, eth1, ...), port forwards, net-info.json.
// Every step is recorded in the pod dir before it happens, so teardownPodNetworks can undo a partial setup.
import path from 'node:path';
import { RktError, describeCause } from '../../common/errors.js';
import { findNetwork, loadNetworks, type NetConf } from './config.js';
import { addChain } from './cni-chain.js';
import { DEFAULT_CNI_PLUGIN_DIRS, findPlugin } from './cni-exec.js';
import { firstIPv4, mergeCniDns, parseCniResult, prefixToMask, type CniDns, type CniResult } from './cni-result.js';
import { parseNetList, type NetSelection } from '../../common/networking/net-list.js';
import { createNetns, netnsPathOf, podNetnsName } from './netns.js';
import { checkPortsAllowed, type PortForward } from '../../common/networking/port-forward.js';
import { applyPortForwards } from './port-forward-rules.js';
import { attachmentFile, netStateDir, writeAttachment, writeNetInfo, writeNetnsFile, type NetAttachment, type NetInfo } from './state.js';
import { markPortsApplied, writePodRecord } from './records.js';
import { teardownPodNetworks } from './teardown.js';

export interface SetupOptions {
  podDir: string;
  uuid: string;
  /** The --net value: a parsed selection, the raw flag, or RunArgs.net. */
  net: NetSelection | string | readonly string[];
  /** Where `net.d/*.conf` lives (RunArgs.localConfig); built-ins only when absent. */
  localConfigDir?: string;
  /** Resolved forwards (see resolvePortForwards); refused unless the pod joins a CNI network. */
  ports?: readonly PortForward[];
  /** CNI plugin directories; defaults to /usr/lib/cni. */
  pluginDirs?: readonly string[];
}

export interface PodNetworks {
  /** The pod's network namespace (bind mount under /run/netns); undefined for --net=host. */
  netnsPath: string | undefined;
  /** What was written to net-info.json, in interface order. */
  netInfo: NetInfo[];
  /** DNS settings the CNI plugins returned, merged in network order (for resolv.conf when --dns is not given). */
  cniDns: CniDns;
}

function toSelection(net: SetupOptions['net']): NetSelection {
  if (typeof net === 'string' || Array.isArray(net)) return parseNetList(net as string | readonly string[]);
  return net as NetSelection;
}

/** The networks to attach, in order, with configs and plugins resolved before anything is touched. */
async function planNetworks(sel: Extract<NetSelection, { kind: 'cni' }>, localConfigDir: string | undefined, pluginDirs: readonly string[]) {
  const known = await loadNetworks(localConfigDir);
  const wanted: { conf: NetConf; args: string }[] = [];
  if (sel.all) {
    for (const c of known.values()) if (c.source !== 'built-in') wanted.push({ conf: c, args: '' });
  }
  for (const r of sel.networks) {
    const conf = findNetwork(known, r.name, localConfigDir);
    const i = wanted.findIndex((w) => w.conf.name === conf.name);
    if (i >= 0) wanted.splice(i, 1);
    wanted.push({ conf, args: r.args });
  }
  if (wanted.length === 0) throw new RktError('NETWORK_CONFIG', '--net=all found no networks in net.d', { hint: 'add CNI configs to <local-config>/net.d or use --net=default' });
  return Promise.all(wanted.map(async (w) => ({
    ...w,
    chain: await Promise.all(w.conf.plugins.map(async (conf) => ({ pluginPath: await findPlugin(String(conf['type']), pluginDirs, w.conf.name), conf }))),
  })));
}

function toNetInfo(podDir: string, a: NetAttachment, r: CniResult): NetInfo {
  const v4 = firstIPv4(r);
  if (v4 === undefined) {
    throw new RktError('NETWORK', `network "${a.netName}": the CNI plugin assigned no IPv4 address`, { hint: 'give the network an "ipam" section with an IPv4 subnet' });
  }
  const info: NetInfo = {
    netName: a.netName,
    netConf: attachmentFile(podDir, a.index, a.netName),
    pluginPath: a.pluginPath,
    ifName: a.ifName,
    ip: v4.ip,
    args: a.args,
    mask: prefixToMask(v4.prefix),
    prefixLength: v4.prefix,
    routes: r.routes,
  };
  if (v4.gateway !== undefined) {
    info.gateway = v4.gateway;
    info.hostIP = v4.gateway;
  }
  const mac = r.interfaces.find((i) => i.name === a.ifName && i.sandbox !== undefined)?.mac;
  if (mac !== undefined) info.mac = mac;
  return info;
}

/**
 * Creates the pod's network namespace and attaches it to the selected networks. Call it in the
 * stage1 run entrypoint before starting nspawn/QEMU; on failure everything done so far is undone.
 */
export async function setupPodNetworks(opts: SetupOptions): Promise<PodNetworks> {
  const sel = toSelection(opts.net);
  const ports = opts.ports ?? [];
  checkPortsAllowed(sel, ports);
  const empty: CniDns = { nameservers: [], search: [], options: [] };
  if (sel.kind === 'host') return { netnsPath: undefined, netInfo: [], cniDns: empty };
  const pluginDirs = opts.pluginDirs ?? DEFAULT_CNI_PLUGIN_DIRS;
  const plan = sel.kind === 'cni' ? await planNetworks(sel, opts.localConfigDir, pluginDirs) : [];

  const nsPath = netnsPathOf(podNetnsName(opts.uuid));
  await writePodRecord(opts.podDir, { uuid: opts.uuid, netnsPath: nsPath, pluginDirs: [...pluginDirs] });
  await writeNetnsFile(opts.podDir, nsPath);
  try {
    await createNetns(podNetnsName(opts.uuid));
    const infos: NetInfo[] = [];
    const results: CniResult[] = [];
    for (const [index, p] of plan.entries()) {
      const a: NetAttachment = {
        index,
        netName: p.conf.name,
        ifName: `eth${index}`,
        args: p.args,
        pluginPath: p.chain[0]?.pluginPath ?? '',
        conf: p.conf.json,
        confSource: p.conf.source,
      };
      // Always the chain: a .conflist of one plugin has the list as its conf, which that plugin cannot read on DEL
      // (it would release nothing: a leaked lease per pod).
      a.chain = p.chain;
      await writeAttachment(opts.podDir, a);
      const out = await addChain(p.chain, {
        pluginDirs, netName: a.netName, containerId: opts.uuid, netnsPath: nsPath, ifName: a.ifName, args: a.args,
      }, async (soFar) => {
        a.result = soFar;
        await writeAttachment(opts.podDir, a);
      });
      const result = parseCniResult(out, a.netName);
      results.push(result);
      infos.push(toNetInfo(opts.podDir, a, result));
    }
    if (ports.length > 0) {
      const target = infos[0];
      if (target === undefined) throw new RktError('NETWORK', 'cannot forward ports: the pod has no network address');
      await markPortsApplied(opts.podDir, { podIP: target.ip, forwards: [...ports] });
      await applyPortForwards(opts.uuid, target.ip, ports);
    }
    await writeNetInfo(opts.podDir, infos);
    return { netnsPath: nsPath, netInfo: infos, cniDns: mergeCniDns(results.map((r) => r.dns)) };
  } catch (err) {
    try {
      await teardownPodNetworks(opts.podDir);
    } catch (undoErr) {
      throw new RktError('NETWORK', `${describeCause(err)}; undoing the partial network setup also failed: ${describeCause(undoErr)}`, {
        cause: err,
        hint: `run "rkt gc" later, or remove what ${path.join(netStateDir(opts.podDir))} lists by hand`,
      });
    }
    throw err;
  }
}

