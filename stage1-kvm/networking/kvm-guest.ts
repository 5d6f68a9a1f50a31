// For VM stage1s: connects a tap device to each CNI interface inside the pod's netns (tc mirred redirect,
// both ways) and describes the guest-side config (MAC, address, routes) copied from that interface.
import { RktError } from '../../common/errors.js';
import { prefixToMask } from '../../stage1-shared/networking/cni-result.js';
import type { NetInfo } from '../../stage1-shared/networking/state.js';
import { parseIpJson, tool } from '../../stage1-shared/networking/sys.js';

export interface GuestRoute {
  /** "default" or a CIDR/host address. */
  dst: string;
  gateway?: string;
  /** "link" for on-link routes (no gateway), as the CNI plugin set them in the netns. */
  scope?: 'link';
  src?: string;
}

/** One guest NIC: what QEMU needs (tap, MAC, MTU) and what the guest must configure. */
export interface GuestNic {
  index: number;
  netName: string;
  /** Tap device inside the pod netns; QEMU opens it by name (run QEMU inside the netns). */
  tapName: string;
  /** Name the guest kernel gives the index-th virtio-net device. */
  guestIfName: string;
  /** The CNI interface's MAC; give it to the guest NIC (QEMU `mac=`) so ARP and net-info agree. */
  mac: string;
  mtu: number;
  ip: string;
  prefixLength: number;
  mask: string;
  gateway?: string;
  /** Routes to add in the guest, on-link ones first. */
  routes: GuestRoute[];
}

export interface GuestNicOptions {
  netnsPath: string;
  /** net-info of the pod (PodNetworks.netInfo). */
  netInfo: readonly NetInfo[];
  /** Owner of the tap devices when QEMU runs unprivileged. */
  tapUid?: number;
  tapGid?: number;
}

interface IpLink { ifname: string; address: string; mtu: number }
interface IpRoute { dst: string; gateway?: string; dev: string; scope?: string; prefsrc?: string }

async function linkInfo(netns: string, dev: string): Promise<IpLink> {
  const res = await tool('ip', ['-j', 'link', 'show', 'dev', dev], { netns });
  const l = parseIpJson(res.stdout, `link ${dev}`)[0] as Partial<IpLink> | undefined;
  if (l === undefined || typeof l.address !== 'string' || typeof l.mtu !== 'number') {
    throw new RktError('NETWORK', `cannot read interface ${dev} in ${netns}`);
  }
  return { ifname: dev, address: l.address, mtu: l.mtu };
}

async function routesOf(netns: string, dev: string): Promise<GuestRoute[]> {
  const res = await tool('ip', ['-j', '-4', 'route', 'show', 'table', 'main', 'dev', dev], { netns });
  const raw = parseIpJson(res.stdout, `routes of ${dev}`) as Partial<IpRoute>[];
  const out: GuestRoute[] = [];
  for (const r of raw) {
    if (typeof r.dst !== 'string') continue;
    const g: GuestRoute = { dst: r.dst };
    if (typeof r.gateway === 'string') g.gateway = r.gateway;
    else g.scope = 'link';
    if (typeof r.prefsrc === 'string') g.src = r.prefsrc;
    out.push(g);
  }
  // On-link routes first: a gateway route needs its gateway reachable when it is added.
  return [...out.filter((r) => r.gateway === undefined), ...out.filter((r) => r.gateway !== undefined)];
}

/** Creates (or re-creates) tap<i> and the redirects for one interface; idempotent. */
async function plumbTap(netns: string, dev: string, tap: string, mtu: number, uid?: number, gid?: number): Promise<void> {
  await tool('ip', ['link', 'delete', tap], { netns, check: false });
  const owner = [...(uid === undefined ? [] : ['user', String(uid)]), ...(gid === undefined ? [] : ['group', String(gid)])];
  await tool('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap', ...owner], { netns });
  await tool('ip', ['link', 'set', 'dev', tap, 'mtu', String(mtu), 'up'], { netns });
  for (const [from, to] of [[dev, tap], [tap, dev]] as const) {
    await tool('tc', ['qdisc', 'del', 'dev', from, 'ingress'], { netns, check: false });
    await tool('tc', ['qdisc', 'add', 'dev', from, 'handle', 'ffff:', 'ingress'], { netns });
    // u32 "match everything" is in every kernel with cls_u32 (matchall/flower often are not built).
    await tool('tc', ['filter', 'add', 'dev', from, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0',
      'action', 'mirred', 'egress', 'redirect', 'dev', to], { netns });
  }
}

/**
 * Inside the pod netns, gives each CNI interface eth<i> a tap<i> whose traffic is redirected to and
 * from it, so a VM NIC on tap<i> owns the pod's address. The CNI interface keeps its address (CNI DEL
 * needs it) but no longer receives anything. Call after setupPodNetworks, before starting QEMU.
 */
export async function prepareGuestNics(opts: GuestNicOptions): Promise<GuestNic[]> {
  const nics: GuestNic[] = [];
  for (const [index, info] of opts.netInfo.entries()) {
    const tapName = `tap${index}`;
    const link = await linkInfo(opts.netnsPath, info.ifName);
    const routes = await routesOf(opts.netnsPath, info.ifName);
    await plumbTap(opts.netnsPath, info.ifName, tapName, link.mtu, opts.tapUid, opts.tapGid);
    const nic: GuestNic = {
      index,
      netName: info.netName,
      tapName,
      guestIfName: `eth${index}`,
      mac: link.address,
      mtu: link.mtu,
      ip: info.ip,
      prefixLength: info.prefixLength,
      mask: prefixToMask(info.prefixLength),
      routes,
    };
    if (info.gateway !== undefined) nic.gateway = info.gateway;
    nics.push(nic);
  }
  return nics;
}

/** The commands (argv lists) the guest runs to configure its NICs, in order. */
export function guestNetworkCommands(nics: readonly GuestNic[]): string[][] {
  const cmds: string[][] = [['ip', 'link', 'set', 'lo', 'up']];
  for (const n of nics) {
    cmds.push(['ip', 'link', 'set', 'dev', n.guestIfName, 'address', n.mac, 'mtu', String(n.mtu), 'up']);
    // noprefixroute: the routes below are the plugin's exact table (ptp replaces the subnet route).
    cmds.push(['ip', 'address', 'add', `${n.ip}/${n.prefixLength}`, 'dev', n.guestIfName, 'noprefixroute']);
  }
  for (const n of nics) {
    for (const r of n.routes) {
      const c = ['ip', 'route', 'add', r.dst];
      if (r.gateway !== undefined) c.push('via', r.gateway);
      c.push('dev', n.guestIfName);
      if (r.scope !== undefined) c.push('scope', r.scope);
      if (r.src !== undefined) c.push('src', r.src);
      cmds.push(c);
    }
  }
  return cmds;
}

/** The same as a POSIX sh script (for a guest oneshot unit). All words are plain tokens, no quoting needed. */
export function guestNetworkScript(nics: readonly GuestNic[]): string {
  const lines = ['#!/bin/sh', '# Generated by rkt: configure the pod\'s network interfaces', 'set -e'];
  for (const c of guestNetworkCommands(nics)) lines.push(c.join(' '));
  return `${lines.join('\n')}\n`;
}

/**
 * Kernel `ip=` parameter for a single-NIC guest (client:server:gw:mask:hostname:device:autoconf).
 * It cannot express extra routes; prefer guestNetworkScript when there is more than a default route.
 */
export function kernelIpParam(nic: GuestNic, hostname = ''): string {
  return `ip=${nic.ip}::${nic.gateway ?? ''}:${nic.mask}:${hostname}:${nic.guestIfName}:off`;
}
